"""Helpers for the indexer's integration tests: fast settings, an in-process worker, and the two
states to compare (DynamoDB table vs OpenSearch alias). A uniquely named module, not conftest, so
the whole suite's other conftest.py files never shadow it."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from pulse_indexer.documents import is_tombstone

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "indexer"))

FAST = {
    "PULSE_INDEXER_LEASE_DURATION_S": "2",
    "PULSE_INDEXER_LEASE_RENEW_INTERVAL_S": "0.5",
    "PULSE_INDEXER_SHARD_SYNC_INTERVAL_S": "1",
    "PULSE_INDEXER_IDLE_POLL_MIN_S": "0.05",
    "PULSE_INDEXER_IDLE_POLL_MAX_S": "0.2",
    "PULSE_INDEXER_RETRY_BASE_S": "0.1",
    "PULSE_INDEXER_RETRY_CAP_S": "2",
    "PULSE_INDEXER_METRICS_PORT": "0",
}


def _cleanup(stack) -> None:
    from pulse_common.aws import client
    from pulse_indexer import naming
    from pulse_indexer.clients import opensearch_client
    from pulse_indexer.settings import IndexerSettings

    with contextlib.suppress(Exception):
        search = opensearch_client(stack)
        search.indices.delete(index=naming.index_pattern(stack.opensearch_index_alias), ignore=[404])
        search.indices.delete_index_template(
            name=naming.template_name(stack.opensearch_index_alias), ignore=[404]
        )
    dynamodb = client("dynamodb", stack)
    for table in (stack.table_name, IndexerSettings(stack=stack).lease_table_name):
        with contextlib.suppress(Exception):
            dynamodb.delete_table(TableName=table)


def settings_for(stack, **overrides):
    from pulse_indexer.settings import IndexerSettings

    return IndexerSettings(stack=stack, **overrides)


@contextlib.contextmanager
def running_worker(settings) -> Iterator:
    from pulse_indexer.worker import Worker

    worker = Worker(settings)
    thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=60)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.5) -> None:
    """Poll check() until true; a check that raises (a fresh index not yet searchable) is retried."""
    from opensearchpy.exceptions import TransportError

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except TransportError:
            pass
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def table_state(stack) -> dict[str, int]:
    """{id: version} of the live posts in the table (tombstones are deleted posts)."""
    from pulse_common.aws import client

    dynamodb = client("dynamodb", stack)
    state: dict[str, int] = {}
    kwargs = {"TableName": stack.table_name, "ProjectionExpression": "id, version, deleted"}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            if not is_tombstone(item):
                state[item["id"]["S"]] = int(item["version"]["N"])
        if "LastEvaluatedKey" not in page:
            return state
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def index_state(stack, search=None) -> dict[str, int]:
    """{id: _version} of every document readable through the alias (after a refresh)."""
    from opensearchpy import helpers

    from pulse_indexer.clients import opensearch_client

    search = search or opensearch_client(stack)
    alias = stack.opensearch_index_alias
    search.indices.refresh(index=alias, ignore_unavailable=True, allow_no_indices=True)
    hits = helpers.scan(
        search,
        index=alias,
        query={"query": {"match_all": {}}},
        _source=False,
        version=True,
        size=2000,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    return {hit["_id"]: hit["_version"] for hit in hits}


def converged(stack, expected: dict[str, int]) -> Callable[[], bool]:
    """A check for wait_until: cheap _count first, the full id/version comparison once it matches."""
    from pulse_indexer.clients import opensearch_client

    search = opensearch_client(stack)
    alias = stack.opensearch_index_alias

    def check() -> bool:
        search.indices.refresh(index=alias, ignore_unavailable=True, allow_no_indices=True)
        count = search.count(index=alias, ignore_unavailable=True, allow_no_indices=True)["count"]
        return count == len(expected) and index_state(stack, search) == expected

    return check


def expected_state(ops) -> dict[str, int]:
    """{id: version} the index must hold after `ops` (a tombstone put or a remove: not there)."""
    state: dict[str, int] = {}
    for op, value in ops:
        if op == "put" and not is_tombstone(value):
            state[value["id"]["S"]] = int(value["version"]["N"])
        else:
            state.pop(value["id"]["S"] if op == "put" else value, None)
    return state


def dead_letters(stack) -> list[dict]:
    import json

    from pulse_common.aws import client

    sqs = client("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not batch:
            return messages
        messages.extend(json.loads(m["Body"]) for m in batch)
