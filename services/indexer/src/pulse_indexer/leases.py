"""Shard leases in a DynamoDB table: one owner per shard, conditional writes everywhere.

Item (hash key `lease_key` = "<stream label>/<shard id>"):
  stream_arn, shard_id, parent_shard_ids (list), owner (absent = free), lease_counter (N, bumped on
  every renew / take / release), checkpoint ("TRIM_HORIZON" | "LATEST" | a sequence number |
  "SHARD_END"), owner_switches (N), updated_at.

Expiry needs no synchronized clocks (the KCL's scheme): a worker remembers when it last saw each
lease's counter change; a lease whose counter has not moved for `lease_duration_s` of the
observer's own monotonic clock is expired and may be taken with a write conditional on that counter.
Every write by an owner (renew, checkpoint, release) is conditional on `owner = me`, so a worker that
lost a lease learns it on its next write and stops reading that shard.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from pulse_common.retry import call_with_retry

log = logging.getLogger("pulse.indexer.leases")

SHARD_END = "SHARD_END"


class LeaseLost(RuntimeError):
    """A conditional write by the owner failed: another worker holds the lease now."""


@dataclass
class Lease:
    lease_key: str
    stream_arn: str
    shard_id: str
    parent_shard_ids: list[str] = field(default_factory=list)
    owner: str | None = None
    lease_counter: int = 0
    checkpoint: str = "TRIM_HORIZON"
    owner_switches: int = 0

    @property
    def finished(self) -> bool:
        return self.checkpoint == SHARD_END

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Lease:
        parents = item.get("parent_shard_ids", {}).get("L", [])
        return cls(
            lease_key=item["lease_key"]["S"],
            stream_arn=item.get("stream_arn", {}).get("S", ""),
            shard_id=item.get("shard_id", {}).get("S", ""),
            parent_shard_ids=[p["S"] for p in parents if "S" in p],
            owner=item.get("owner", {}).get("S"),
            lease_counter=int(item.get("lease_counter", {}).get("N", "0")),
            checkpoint=item.get("checkpoint", {}).get("S", "TRIM_HORIZON"),
            owner_switches=int(item.get("owner_switches", {}).get("N", "0")),
        )


def lease_key(stream_arn: str, shard_id: str) -> str:
    return f"{stream_arn.rsplit('/', 1)[-1]}/{shard_id}"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _is_conditional_failure(exc: BaseException) -> bool:
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


class LeaseTable:
    def __init__(self, dynamodb: Any, table_name: str, worker_id: str) -> None:
        self.ddb = dynamodb
        self.table = table_name
        self.worker_id = worker_id

    def _call(self, fn):
        return call_with_retry(fn, max_attempts=10, base_s=0.1, cap_s=2.0)

    def ensure_table(self, timeout_s: float = 60.0) -> None:
        try:
            self.ddb.create_table(
                TableName=self.table,
                KeySchema=[{"AttributeName": "lease_key", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "lease_key", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            log.info("lease table created", extra={"table": self.table})
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        deadline = time.monotonic() + timeout_s
        while self.ddb.describe_table(TableName=self.table)["Table"]["TableStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"lease table {self.table} not ACTIVE after {timeout_s}s")
            time.sleep(0.2)

    def create_if_absent(self, lease: Lease) -> bool:
        item: dict[str, Any] = {
            "lease_key": {"S": lease.lease_key},
            "stream_arn": {"S": lease.stream_arn},
            "shard_id": {"S": lease.shard_id},
            "parent_shard_ids": {"L": [{"S": p} for p in lease.parent_shard_ids]},
            "lease_counter": {"N": "0"},
            "checkpoint": {"S": lease.checkpoint},
            "owner_switches": {"N": "0"},
            "updated_at": {"S": _now_iso()},
        }
        try:
            self._call(
                lambda: self.ddb.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(lease_key)",
                )
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def list(self, stream_arn: str | None = None) -> list[Lease]:
        leases: list[Lease] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "ConsistentRead": True}
        while True:
            page = self._call(lambda: self.ddb.scan(**kwargs))
            for item in page.get("Items", []):
                lease = Lease.from_item(item)
                if stream_arn is None or lease.stream_arn == stream_arn:
                    leases.append(lease)
            if "LastEvaluatedKey" not in page:
                return leases
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, key: str) -> Lease | None:
        item = self._call(
            lambda: self.ddb.get_item(
                TableName=self.table, Key={"lease_key": {"S": key}}, ConsistentRead=True
            )
        ).get("Item")
        return Lease.from_item(item) if item else None

    def take(self, lease: Lease) -> Lease | None:
        """Become the owner of a lease seen free or expired (owner and counter unchanged since)."""
        values: dict[str, Any] = {
            ":me": {"S": self.worker_id},
            ":c": {"N": str(lease.lease_counter)},
            ":one": {"N": "1"},
            ":now": {"S": _now_iso()},
        }
        if lease.owner is None:
            condition = "attribute_not_exists(#owner) AND lease_counter = :c"
        else:
            condition = "#owner = :old AND lease_counter = :c"
            values[":old"] = {"S": lease.owner}
        try:
            response = self._call(
                lambda: self.ddb.update_item(
                    TableName=self.table,
                    Key={"lease_key": {"S": lease.lease_key}},
                    UpdateExpression=(
                        "SET #owner = :me, lease_counter = lease_counter + :one, "
                        "owner_switches = owner_switches + :one, updated_at = :now"
                    ),
                    ConditionExpression=condition,
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return None
            raise
        return Lease.from_item(response["Attributes"])

    def renew(self, key: str) -> int:
        """Heartbeat: bump the counter if still ours; returns the new counter, raises LeaseLost."""
        try:
            response = self._call(
                lambda: self.ddb.update_item(
                    TableName=self.table,
                    Key={"lease_key": {"S": key}},
                    UpdateExpression="SET lease_counter = lease_counter + :one, updated_at = :now",
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={
                        ":me": {"S": self.worker_id},
                        ":one": {"N": "1"},
                        ":now": {"S": _now_iso()},
                    },
                    ReturnValues="UPDATED_NEW",
                )
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                raise LeaseLost(key) from exc
            raise
        return int(response["Attributes"]["lease_counter"]["N"])

    def checkpoint(self, key: str, sequence_number: str) -> None:
        """Record progress, only while we own the lease (else LeaseLost)."""
        try:
            self._call(
                lambda: self.ddb.update_item(
                    TableName=self.table,
                    Key={"lease_key": {"S": key}},
                    UpdateExpression="SET #cp = :cp, updated_at = :now",
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#owner": "owner", "#cp": "checkpoint"},
                    ExpressionAttributeValues={
                        ":me": {"S": self.worker_id},
                        ":cp": {"S": sequence_number},
                        ":now": {"S": _now_iso()},
                    },
                )
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                raise LeaseLost(key) from exc
            raise

    def release(self, key: str) -> bool:
        """Give a lease back (shutdown, shard end) so another worker takes it at once."""
        try:
            self._call(
                lambda: self.ddb.update_item(
                    TableName=self.table,
                    Key={"lease_key": {"S": key}},
                    UpdateExpression=(
                        "REMOVE #owner SET lease_counter = lease_counter + :one, updated_at = :now"
                    ),
                    ConditionExpression="#owner = :me",
                    ExpressionAttributeNames={"#owner": "owner"},
                    ExpressionAttributeValues={
                        ":me": {"S": self.worker_id},
                        ":one": {"N": "1"},
                        ":now": {"S": _now_iso()},
                    },
                )
            )
        except ClientError as exc:
            if _is_conditional_failure(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._call(lambda: self.ddb.delete_item(TableName=self.table, Key={"lease_key": {"S": key}}))


class ExpiryTracker:
    """Per lease: the counter last seen and when (monotonic) it last changed."""

    def __init__(self, lease_duration_s: float, clock=time.monotonic) -> None:
        self.lease_duration_s = lease_duration_s
        self.clock = clock
        self._seen: dict[str, tuple[int, str | None, float]] = {}

    def observe(self, leases: list[Lease]) -> None:
        now = self.clock()
        keys = set()
        for lease in leases:
            keys.add(lease.lease_key)
            seen = self._seen.get(lease.lease_key)
            if seen is None or seen[0] != lease.lease_counter or seen[1] != lease.owner:
                self._seen[lease.lease_key] = (lease.lease_counter, lease.owner, now)
        for key in list(self._seen):
            if key not in keys:
                del self._seen[key]

    def is_expired(self, lease: Lease) -> bool:
        if lease.owner is None:
            return True
        seen = self._seen.get(lease.lease_key)
        if seen is None or seen[0] != lease.lease_counter:
            return False
        return self.clock() - seen[2] >= self.lease_duration_s
