"""Client CPU of reading the hot AWS responses: botocore's JSON parser against
`pulse_common.aws.client(as_parsed=...)`'s reader, on the same response dicts, in-process.

Prints, per response kind, the median µs per response over alternating rounds:
  bench: parse_<kind>_botocore_us <v>
  bench: parse_<kind>_as_parsed_us <v>

Run: .venv/bin/python bench/bench_response_parsing.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time

import botocore.session
import orjson
from botocore.awsrequest import HTTPHeaders
from botocore.parsers import create_parser

from pulse_common.aws import FAST_RESPONSES, _FastJsonParser


def _headers() -> HTTPHeaders:
    headers = HTTPHeaders()
    for name, value in (("x-amzn-RequestId", "R" * 52), ("Content-Type", "application/x-amz-json-1.0"),
                        ("x-amz-crc32", "12345"), ("Content-Length", "100"), ("Server", "Server"),
                        ("Date", "Wed, 02 Dec 2026 12:00:00 GMT")):
        headers[name] = value
    return headers


def _item(n: int) -> dict:
    return {"id": {"S": f"x:{n}"}, "version": {"N": "1764676800000"}}


def cases() -> dict[str, tuple[str, str, dict]]:
    doc = base64.b64encode(bytes(range(256)) * 2).decode()
    return {
        "batch_write_item": ("dynamodb", "BatchWriteItem", {"UnprocessedItems": {}}),
        "batch_get_item_1": ("dynamodb", "BatchGetItem", {
            "Responses": {"t": [{"id": {"S": "user:"}, "version": {"N": "3"}, "deleted": {"BOOL": True}}]},
            "UnprocessedKeys": {}}),
        "batch_get_item_60": ("dynamodb", "BatchGetItem", {"Responses": {"t": [_item(n) for n in range(60)]},
                                                           "UnprocessedKeys": {}}),
        "put_item_all_old": ("dynamodb", "PutItem", {"Attributes": {**_item(1), "doc": {"B": doc}}}),
        "put_records_50": ("kinesis", "PutRecords", {"FailedRecordCount": 0, "Records": [
            {"SequenceNumber": "4965" + "0" * 52, "ShardId": "shardId-000000000000"}] * 50}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (the median is printed)")
    args = parser.parse_args()
    session = botocore.session.get_session()
    for kind, (service, operation, body) in cases().items():
        shape = session.get_service_model(service).operation_model(operation).output_shape
        response = {"body": orjson.dumps(body), "headers": _headers(), "status_code": 200, "context": {}}
        plain = create_parser("json")
        fast = _FastJsonParser(create_parser("json"), {shape.name: FAST_RESPONSES[operation]})
        if plain.parse(response, shape) != fast.parse(response, shape):
            raise SystemExit(f"{kind}: the as-parsed reader differs from botocore's parser")
        calls = 300 if kind.endswith("_60") else 3000
        times: dict[str, list[float]] = {"botocore": [], "as_parsed": []}
        for _ in range(args.rounds):
            for name, reader in (("botocore", plain), ("as_parsed", fast)):
                started = time.process_time()
                for _ in range(calls):
                    reader.parse(response, shape)
                times[name].append((time.process_time() - started) / calls * 1e6)
        for name, values in times.items():
            print(f"bench: parse_{kind}_{name}_us {statistics.median(values):.1f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
