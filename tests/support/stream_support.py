"""Reading back what a test's Kinesis stream holds."""

from __future__ import annotations

import base64
import json
from typing import Any

from pulse_common.aws import client
from pulse_common.settings import StackSettings


def stream_records(stack: StackSettings) -> list[dict[str, Any]]:
    """Every record of the stack's stream, shard by shard, from TRIM_HORIZON (one page a shard)."""
    kinesis = client("kinesis", stack)
    found: list[dict[str, Any]] = []
    for shard in kinesis.list_shards(StreamName=stack.stream_name)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stack.stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        found += kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    return found


def adapter_json(record: dict[str, Any]) -> bytes:
    """A DynamoDB stream record as the KCL's DynamoDB Streams adapter hands it to a processor: JSON,
    with binary attributes (the B doc) as base64 text."""

    def as_base64(value: object) -> str:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode("ascii")
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return json.dumps(record, default=as_base64).encode()
