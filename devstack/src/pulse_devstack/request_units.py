"""What AWS would bill for each request the emulator serves: the units of its price list.

The emulator counts them (`PULSE_EMULATOR_STATS`; GET /_pulse/request-units answers the running
totals) so `bench/bench_cost.py` can turn the requests the services really make into dollars:

- Kinesis: PUT payload units (each record of PutRecord/PutRecords rounded up to 25 KB), bytes put,
  GetRecords calls and how many of them came back empty;
- DynamoDB, per table: write request units (each item written rounded up to 1 KB, a BatchWriteItem
  per item, a transaction twice) and read request units (each item read rounded up to 4 KB, half for
  an eventually consistent read; a key read that finds nothing still costs one unit);
- DynamoDB Streams: GetRecords calls (each is one streams read request unit) and empty ones;
- SQS: requests (each 64 KB of a message is one request).

Limits, said where they bite: an UpdateItem is counted as one write unit (the KCL's lease and
checkpoint rows are far below 1 KB); a read with a projection is billed on the whole stored item,
which the request does not show: counted from what came back, at least one unit per item (Pulse's
items are under 4 KB, so that is the billed unit).
"""

from __future__ import annotations

import base64
import json
import math
from collections import defaultdict
from typing import Any

KINESIS_PUT_UNIT = 25 * 1024
WRITE_UNIT = 1024
READ_UNIT = 4 * 1024
SQS_REQUEST_UNIT = 64 * 1024


def attribute_size(value: dict[str, Any]) -> int:
    """Bytes of one low-level attribute value as DynamoDB sizes it (close enough for rounding)."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").lstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(inner)) if isinstance(inner, str) else len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in inner)
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(attribute_size({"N": n}) for n in inner)
    if kind == "BS":
        return sum(attribute_size({"B": b}) for b in inner)
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + attribute_size(value) for name, value in item.items())


def write_units(item: dict[str, Any] | None) -> int:
    return max(1, math.ceil(item_size(item or {}) / WRITE_UNIT))


def read_units(item: dict[str, Any] | None, consistent: bool) -> float:
    units = max(1, math.ceil(item_size(item or {}) / READ_UNIT))
    return units if consistent else units / 2


class RequestUnits:
    """Running totals, keyed "<service>:<table, stream or ->:<unit>"."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = defaultdict(float)

    def add(self, service: str, resource: str, unit: str, value: float) -> None:
        self.totals[f"{service}:{resource}:{unit}"] += value

    def snapshot(self) -> dict[str, float]:
        return dict(self.totals)

    def account(self, target: str, request: bytes, response: bytes, status: int) -> None:
        """Count one request. `target` is its X-Amz-Target (JSON protocols) header."""
        service, _, operation = target.partition(".")
        if service.startswith("AmazonSQS"):
            self.add("sqs", "-", "requests", max(1, math.ceil(len(request) / SQS_REQUEST_UNIT)))
            return
        if not service.startswith(("Kinesis_", "DynamoDB_", "DynamoDBStreams_")):
            return
        body = _json(request)
        answer = _json(response) if status < 300 else None
        if service.startswith("Kinesis_"):
            self._kinesis(operation, body, answer, status)
        elif service.startswith("DynamoDBStreams_"):
            if operation == "GetRecords":
                self.add("streams", "-", "get_records", 1)
                if answer is not None and not answer.get("Records"):
                    self.add("streams", "-", "get_records_empty", 1)
        else:
            self._dynamodb(operation, body, answer, status)

    def _kinesis(self, operation: str, body: dict | None, answer: dict | None, status: int) -> None:
        if operation in ("PutRecords", "PutRecord") and body is not None:
            entries = body.get("Records", []) if operation == "PutRecords" else [body]
            failed = [False] * len(entries)
            if operation == "PutRecords":
                if answer is None:
                    return
                failed = ["ErrorCode" in r for r in answer.get("Records", [])] or failed
            elif status >= 300:
                return
            stream = body.get("StreamName") or body.get("StreamARN", "-").rsplit("/", 1)[-1]
            self.add("kinesis", stream, "put_requests", 1)
            for entry, refused in zip(entries, failed, strict=False):
                if refused:
                    continue
                size = len(base64.b64decode(entry.get("Data", ""))) + len(
                    entry.get("PartitionKey", "").encode()
                )
                self.add("kinesis", stream, "put_records", 1)
                self.add("kinesis", stream, "put_bytes", size)
                self.add("kinesis", stream, "put_payload_units", max(1, math.ceil(size / KINESIS_PUT_UNIT)))
        elif operation == "GetRecords":
            self.add("kinesis", "-", "get_records", 1)
            if answer is not None and not answer.get("Records"):
                self.add("kinesis", "-", "get_records_empty", 1)

    def _dynamodb(self, operation: str, body: dict | None, answer: dict | None, status: int) -> None:
        if body is None or status >= 500:
            return
        conditional_failure = status >= 400 and status < 500
        table = body.get("TableName", "-")
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            units = write_units(body.get("Item")) if operation == "PutItem" else 1
            self.add("dynamodb", table, "requests", 1)
            self.add("dynamodb", table, "write_units", units)
            if not conditional_failure:
                self.add("dynamodb", table, "items_written", 1)
        elif operation == "BatchWriteItem" and answer is not None:
            unprocessed = answer.get("UnprocessedItems") or {}
            for name, requests in body.get("RequestItems", {}).items():
                self.add("dynamodb", name, "requests", 1)
                left = len(unprocessed.get(name, []))
                done = requests[: len(requests) - left] if left else requests
                self.add("dynamodb", name, "items_written", len(done))
                for request in done:
                    put = request.get("PutRequest")
                    self.add("dynamodb", name, "write_units", write_units(put["Item"]) if put else 1)
        elif operation == "TransactWriteItems":
            for entry in body.get("TransactItems", []):
                kind, spec = next(iter(entry.items()))
                name = spec.get("TableName", "-")
                self.add(
                    "dynamodb",
                    name,
                    "write_units",
                    2 * (write_units(spec.get("Item")) if kind == "Put" else 1),
                )
            self.add("dynamodb", "-", "requests", 1)
        elif operation == "GetItem" and answer is not None:
            self.add("dynamodb", table, "requests", 1)
            self.add(
                "dynamodb",
                table,
                "read_units",
                read_units(answer.get("Item"), body.get("ConsistentRead", False)),
            )
        elif operation == "BatchGetItem" and answer is not None:
            responses = answer.get("Responses", {})
            unprocessed = answer.get("UnprocessedKeys") or {}
            for name, spec in body.get("RequestItems", {}).items():
                consistent = spec.get("ConsistentRead", False)
                found = responses.get(name, [])
                asked = len(spec.get("Keys", [])) - len((unprocessed.get(name) or {}).get("Keys", []))
                units = sum(read_units(item, consistent) for item in found)
                units += max(0, asked - len(found)) * (1 if consistent else 0.5)
                self.add("dynamodb", name, "requests", 1)
                self.add("dynamodb", name, "read_units", units)
        elif operation in ("Query", "Scan") and answer is not None:
            size = sum(item_size(item) for item in answer.get("Items", []))
            units = max(1, math.ceil(size / READ_UNIT))
            self.add("dynamodb", table, "requests", 1)
            self.add("dynamodb", table, "read_units", units if body.get("ConsistentRead") else units / 2)
        elif not conditional_failure:
            self.add("dynamodb", table, "control_requests", 1)


def _json(raw: bytes) -> dict | None:
    try:
        found = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None
