"""Helpers for the indexer's integration tests: fast settings, `pulse-indexer run` as a real process
(the KCL daemon with the DynamoDB Streams adapter and its per-shard processors), its lease table,
and the two states to compare (DynamoDB table vs OpenSearch alias). A uniquely named module, not
conftest, so the whole suite's other conftest.py files never shadow it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pulse_common.contracts.items import is_tombstone

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "indexer"))

REPO = Path(__file__).resolve().parents[3]
INDEXER = str(REPO / ".venv" / "bin" / "pulse-indexer")

# The KCL's own intervals are already short on the local stack (see IndexerSettings.local_or).
FAST = {
    "PULSE_INDEXER_IDLE_TIME_BETWEEN_READS_MS": "200",
    "PULSE_INDEXER_RETRY_BASE_S": "0.1",
    "PULSE_INDEXER_RETRY_CAP_S": "2",
    "PULSE_INDEXER_METRICS_PORT": "0",
    "PULSE_INDEXER_LOG_LEVEL": "WARNING",
}


def _cleanup(stack) -> None:
    from pulse_common.aws import client
    from pulse_common.contracts import search as naming
    from pulse_common.opensearch import opensearch_client
    from pulse_indexer.settings import IndexerSettings

    with contextlib.suppress(Exception):
        search = opensearch_client(stack)
        search.indices.delete(index=naming.index_pattern(stack.opensearch_index_alias), ignore=[404])
        search.indices.delete_index_template(
            name=naming.template_name(stack.opensearch_index_alias), ignore=[404]
        )
    dynamodb = client("dynamodb", stack)
    app = IndexerSettings(stack=stack).app_name
    for table in (stack.table_name, app, f"{app}-CoordinatorState", f"{app}-WorkerMetricStats"):
        with contextlib.suppress(Exception):
            dynamodb.delete_table(TableName=table)


def settings_for(stack, **overrides):
    from pulse_indexer.settings import IndexerSettings

    return IndexerSettings(stack=stack, **overrides)


def lease_tables(app: str) -> tuple[str, ...]:
    """The three tables KCL 3 keeps for one application."""
    return (app, f"{app}-CoordinatorState", f"{app}-WorkerMetricStats")


@dataclass
class IndexerRun:
    """One `pulse-indexer run` process (KCL daemon + per-shard processors) with its own env."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    metrics_port: int = 0

    def start(self) -> IndexerRun:
        from pulse_devstack.procs import free_port

        self.metrics_port = self.metrics_port or free_port()
        env = {**self.env, "PULSE_INDEXER_METRICS_PORT": str(self.metrics_port)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [INDEXER, "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}{path}", timeout=5) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return 0, ""

    def metric(self, name: str) -> float:
        """The sum of every sample of `name` (all labels) on /metrics; 0 when absent."""
        total = 0.0
        for line in self.get("/metrics")[1].splitlines():
            if line.startswith(name) and line[len(name)] in " {":
                total += float(line.rsplit(" ", 1)[1])
        return total

    def applied(self) -> float:
        """Documents indexed, deleted or refused as older (conflicts) so far."""
        return sum(
            self.metric(f"pulse_indexer_docs_{what}_total") for what in ("indexed", "deleted", "conflicts")
        )

    def stop(self, timeout_s: float = 60) -> int | None:
        if self.proc is None:
            return None
        if self.running:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def kill9(self) -> None:
        """kill -9 of `run`, its JVM and every processor at once (a crash)."""
        from pulse_devstack.procs import descendants

        assert self.proc is not None
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def seed_leases(stack, app: str) -> None:
    """Create the KCL lease table with one TRIM_HORIZON lease per stream shard, as the KCL does.

    Only to skip the KCL's random 1-30 s wait on an empty lease table (Scheduler
    shouldInitiateLeaseSync): a running or restarted daemon never pays it. With the adapter, the
    lease key is the shard id.
    """
    from pulse_common.aws import client

    dynamodb = client("dynamodb", stack)
    streams = client("dynamodbstreams", stack)
    dynamodb.create_table(
        TableName=app,
        KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = dynamodb.describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        dynamodb.put_item(
            TableName=app,
            Item={
                "leaseKey": {"S": shard["ShardId"]},
                "checkpoint": {"S": "TRIM_HORIZON"},
                "checkpointSubSequenceNumber": {"N": "0"},
                "leaseCounter": {"N": "0"},
                "ownerSwitchesSinceCheckpoint": {"N": "0"},
                "startingHashKey": {"S": "0"},
                "endingHashKey": {"S": "1"},
            },
        )


def leases(stack, app: str) -> list[dict[str, str]]:
    """The KCL lease items of `app` ({leaseKey, leaseOwner, checkpoint, ...} as plain strings)."""
    from pulse_common.aws import client

    dynamodb = client("dynamodb", stack)
    try:
        items = dynamodb.scan(TableName=app, ConsistentRead=True)["Items"]
    except dynamodb.exceptions.ResourceNotFoundException:
        return []
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def stream_end(stack) -> str:
    """The sequence number of the last record on the table's stream (one open shard locally)."""
    from pulse_common.aws import client

    streams = client("dynamodbstreams", stack)
    arn = client("dynamodb", stack).describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
    last = ""
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator")
    return last


@contextlib.contextmanager
def running_worker(
    tmp_path: Path, *, seed: bool = True, name: str = "indexer", **env: str
) -> Iterator[IndexerRun]:
    """`pulse-indexer run` on the test's stack (the process environment, FAST included) until the
    block ends; `seed` pre-creates its lease table (see seed_leases)."""
    from pulse_common.settings import StackSettings
    from pulse_indexer.settings import IndexerSettings

    merged = {**os.environ, **env}
    stack = StackSettings()
    app = merged.get("PULSE_INDEXER_APPLICATION_NAME") or IndexerSettings(stack=stack).app_name
    if seed:
        seed_leases(stack, app)
    run = IndexerRun(merged, tmp_path / f"{name}.log").start()
    try:
        yield run
    finally:
        run.stop()


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

    from pulse_common.opensearch import opensearch_client

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
    from pulse_common.opensearch import opensearch_client

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
