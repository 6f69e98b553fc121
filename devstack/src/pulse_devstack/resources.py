"""Create the Pulse resources on an AWS endpoint (the emulator, or real AWS for a smoke test)."""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from pulse_common.aws import client
from pulse_common.retry import aws_error_code
from pulse_common.settings import StackSettings


def ensure_stream(stack: StackSettings, *, shards: int = 2, timeout_s: float = 30) -> str:
    kinesis = client("kinesis", stack)
    try:
        kinesis.create_stream(StreamName=stack.stream_name, ShardCount=shards)
    except ClientError as exc:
        if aws_error_code(exc) != "ResourceInUseException":
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
        if aws_error_code(exc) != "ResourceInUseException":
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


def reset_all(stack: StackSettings, *, enricher_application: str = "pulse-enricher", shards: int = 2) -> None:
    """Drop the stream, tables, queue and indices (and every consumer checkpoint), then recreate.

    Checkpoints must go with the stream: a KCL lease (enricher or indexer) pointing at a sequence number of a
    deleted stream would skip the new stream's records.
    """
    kinesis, dynamodb, sqs = client("kinesis", stack), client("dynamodb", stack), client("sqs", stack)
    _ignore_missing(lambda: kinesis.delete_stream(StreamName=stack.stream_name, EnforceConsumerDeletion=True))
    indexer_application = f"{stack.table_name}-indexer"  # IndexerSettings.app_name's default
    for table in (
        stack.table_name,
        *(f"{app}{suffix}" for app in (enricher_application, indexer_application)
          for suffix in ("", "-CoordinatorState", "-WorkerMetricStats")),
    ):
        _ignore_missing(lambda table=table: dynamodb.delete_table(TableName=table))
    _ignore_missing(
        lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"])
    )
    _delete_indices(stack)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            kinesis.describe_stream_summary(StreamName=stack.stream_name)
        except ClientError:
            break
        time.sleep(0.2)
    ensure_all(stack, shards=shards)


def _ignore_missing(call) -> None:
    try:
        call()
    except ClientError as exc:
        if aws_error_code(exc) not in {
            "ResourceNotFoundException",
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
        }:
            raise


def _delete_indices(stack: StackSettings) -> None:
    import urllib.error
    import urllib.request

    url = f"{stack.opensearch_url.rstrip('/')}/{stack.opensearch_index_alias}-*?expand_wildcards=all"
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30)
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
