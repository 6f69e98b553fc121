"""Create the Pulse resources on an AWS endpoint (the emulator, or real AWS for a smoke test)."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from pulse_common.aws import client
from pulse_common.settings import StackSettings


def ensure_stream(stack: StackSettings, *, shards: int = 2, timeout_s: float = 30) -> str:
    kinesis = client("kinesis", stack)
    try:
        kinesis.create_stream(StreamName=stack.stream_name, ShardCount=shards)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    deadline = time.monotonic() + timeout_s
    while True:
        desc = kinesis.describe_stream_summary(StreamName=stack.stream_name)["StreamDescriptionSummary"]
        if desc["StreamStatus"] == "ACTIVE":
            return desc["StreamARN"]
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {stack.stream_name} not ACTIVE after {timeout_s}s")
        time.sleep(0.2)


def ensure_table(stack: StackSettings) -> str:
    """The posts table: key `id`, stream NEW_AND_OLD_IMAGES, TTL on `expires_at`."""
    dynamodb = client("dynamodb", stack)
    try:
        dynamodb.create_table(
            TableName=stack.table_name,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        dynamodb.get_waiter("table_exists").wait(
            TableName=stack.table_name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 150}
        )
        dynamodb.update_time_to_live(
            TableName=stack.table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
    return dynamodb.describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]


def ensure_queue(stack: StackSettings) -> str:
    sqs = client("sqs", stack)
    return sqs.create_queue(
        QueueName=stack.dlq_name, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)}
    )["QueueUrl"]


def ensure_search_templates(stack: StackSettings) -> bool:
    """Apply the index templates and write alias from mappings/ (the indexer owns them)."""
    try:
        from pulse_indexer.migrate import apply_migrations
    except ImportError:
        return False
    apply_migrations(stack)
    return True


def ensure_all(stack: StackSettings, *, shards: int = 2, search: bool = True) -> dict[str, str]:
    created = {
        "stream_arn": ensure_stream(stack, shards=shards),
        "table_stream_arn": ensure_table(stack),
        "dlq_url": ensure_queue(stack),
    }
    if search:
        created["search_templates"] = str(ensure_search_templates(stack))
    return created
