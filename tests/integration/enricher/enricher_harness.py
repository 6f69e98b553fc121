"""The real thing: `pulse-enricher run` (KCL 3 MultiLangDaemon + per-shard Python processors)
against the local AWS emulator, each test with its own stream, table, queue and KCL application.

Only the AWS emulator is needed (no OpenSearch): a running stack is reused (`.local/stack.env`),
else `pulse-stack up --no-opensearch` starts one for this session.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pulse_devstack.pipeline import LIVE_ITEMS
from pulse_devstack.procs import descendants as _descendants
from pulse_devstack.procs import free_port
from pulse_enricher.store import is_tombstone

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "enricher"
sys.path.insert(0, str(FIXTURES))
ENRICHER = str(REPO / ".venv" / "bin" / "pulse-enricher")


@pytest.fixture(scope="session")
def aws_emulator() -> Iterator[dict[str, str]]:
    """The emulator: reused when running (never stopped then); else started and stopped."""
    from pulse_devstack.session import running_stack

    with running_stack(opensearch=False) as env:
        yield env


@dataclass
class EnricherRun:
    """One `pulse-enricher run` process (and its JVM and processors)."""

    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    metrics_port: int = field(default_factory=free_port)

    def start(self) -> EnricherRun:
        env = {**self.env, "PULSE_ENRICHER_METRICS_PORT": str(self.metrics_port)}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([ENRICHER, "run"], env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def metrics(self) -> dict[str, float]:
        """Scraped samples without buckets: {'name{labels}': value}."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        samples = {}
        for line in text.splitlines():
            if line.startswith("pulse_enricher") and "_bucket" not in line:
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    def terminate(self, timeout_s: float = 60) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout_s)

    def kill9(self) -> None:
        """kill -9 the daemon, its JVM and every processor at once."""
        assert self.proc is not None
        pids = [self.proc.pid, *_descendants(self.proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and _alive(p) for p in pids):
            time.sleep(0.1)

    def cleanup(self) -> None:
        """Tests that need a graceful stop ask for it; the rest end the daemon at once."""
        if self.proc is None:
            return
        if self.alive():
            self.kill9()
        for pid in _descendants(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


class Pipeline:
    """A test's own stream/table/queue/application, helpers to feed it and to look inside."""

    def __init__(self, emulator_env: dict[str, str], tmp_path: Path) -> None:
        from pulse_common.aws import client
        from pulse_common.settings import StackSettings
        from pulse_devstack.resources import ensure_queue, ensure_stream, ensure_table

        suffix = uuid.uuid4().hex[:10]
        self.env = {
            **os.environ,
            **emulator_env,
            "PULSE_STREAM_NAME": f"t-enr-{suffix}",
            "PULSE_TABLE_NAME": f"t-enr-{suffix}",
            "PULSE_DLQ_NAME": f"t-enr-dlq-{suffix}",
            "PULSE_ENRICHER_APPLICATION_NAME": f"t-enr-app-{suffix}",
            "PULSE_ENRICHER_WORKER_ID": f"t-worker-{suffix}",
            "PULSE_ENRICHER_LOG_LEVEL": "WARNING",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.app = self.env["PULSE_ENRICHER_APPLICATION_NAME"]
        self.stack = StackSettings(
            aws_endpoint_url=self.env["PULSE_AWS_ENDPOINT_URL"], aws_region=self.env["PULSE_AWS_REGION"],
            stream_name=self.env["PULSE_STREAM_NAME"], table_name=self.env["PULSE_TABLE_NAME"],
            dlq_name=self.env["PULSE_DLQ_NAME"],
        )
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        ensure_stream(self.stack, shards=2)
        ensure_table(self.stack)
        ensure_queue(self.stack)
        self.kinesis = client("kinesis", self.stack, max_attempts=5)
        self.dynamodb = client("dynamodb", self.stack, max_attempts=5)
        self.sqs = client("sqs", self.stack, max_attempts=5)
        self.tmp_path = tmp_path
        self.runs: list[EnricherRun] = []
        self.last_sequence: dict[str, int] = {}  # shard -> highest sequence number put
        self.position: dict[str, tuple[str, int]] = {}  # partition key -> (shard, sequence) of its last put

    # -- feeding --------------------------------------------------------------------------------
    def put(self, records: list[tuple[bytes, str]]) -> None:
        """put_records in chunks of 500, re-putting failed entries (order kept per shard)."""
        for start in range(0, len(records), 500):
            pending = [{"Data": d, "PartitionKey": k} for d, k in records[start : start + 500]]
            while pending:
                response = self.kinesis.put_records(StreamName=self.stack.stream_name, Records=pending)
                failed = []
                for entry, result in zip(pending, response["Records"], strict=True):
                    if "ErrorCode" in result:
                        failed.append(entry)
                    else:
                        self._saw(result["ShardId"], result["SequenceNumber"], entry["PartitionKey"])
                pending = failed

    def put_one(self, data: bytes, key: str) -> None:
        result = self.kinesis.put_record(StreamName=self.stack.stream_name, Data=data, PartitionKey=key)
        self._saw(result["ShardId"], result["SequenceNumber"], key)

    def _saw(self, shard: str, seq: str, key: str) -> None:
        self.last_sequence[shard] = max(self.last_sequence.get(shard, 0), int(seq))
        self.position[key] = (shard, int(seq))

    # -- running --------------------------------------------------------------------------------
    def start_enricher(self, **extra_env: str) -> EnricherRun:
        n = len(self.runs)
        dirs = {"PULSE_ENRICHER_PROPERTIES_DIR": str(self.tmp_path / f"kcl-{n}"),
                "PULSE_ENRICHER_METRICS_DIR": str(self.tmp_path / f"metrics-{n}")}
        run = EnricherRun({**self.env, **dirs, **extra_env}, self.tmp_path / f"enricher-{n}.log")
        self.runs.append(run)
        return run.start()

    def seed_leases(self) -> None:
        """Create the KCL lease table with one TRIM_HORIZON lease per shard, as the KCL itself would.

        Only to skip the KCL's random 1-30 s wait on an empty lease table (Scheduler
        shouldInitiateLeaseSync): a restarted or long-running daemon never pays it.
        """
        self.dynamodb.create_table(
            TableName=self.app,
            KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for shard in self.kinesis.list_shards(StreamName=self.stack.stream_name)["Shards"]:
            self.dynamodb.put_item(TableName=self.app, Item={
                "leaseKey": {"S": shard["ShardId"]},
                "checkpoint": {"S": "TRIM_HORIZON"},
                "checkpointSubSequenceNumber": {"N": "0"},
                "leaseCounter": {"N": "0"},
                "ownerSwitchesSinceCheckpoint": {"N": "0"},
                "startingHashKey": {"S": shard["HashKeyRange"]["StartingHashKey"]},
                "endingHashKey": {"S": shard["HashKeyRange"]["EndingHashKey"]},
            })

    # -- looking --------------------------------------------------------------------------------
    def items(self, *, tombstones: bool = False) -> dict[str, dict]:
        """id -> item of the live posts (the delete tombstones instead with `tombstones=True`)."""
        found: dict[str, dict] = {}
        kwargs: dict = {"TableName": self.stack.table_name}
        while True:
            page = self.dynamodb.scan(**kwargs)
            for item in page["Items"]:
                if is_tombstone(item) == tombstones:
                    found[item["id"]["S"]] = item
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def count(self) -> int:
        """Live posts (tombstones not counted)."""
        total, kwargs = 0, {"TableName": self.stack.table_name, "Select": "COUNT", **LIVE_ITEMS}
        while True:
            page = self.dynamodb.scan(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def checkpoints(self) -> dict[str, str]:
        try:
            items = self.dynamodb.scan(TableName=self.app, ConsistentRead=True)["Items"]
        except self.dynamodb.exceptions.ResourceNotFoundException:
            return {}
        return {i["leaseKey"]["S"]: i.get("checkpoint", {}).get("S", "") for i in items}

    def caught_up(self) -> bool:
        cps = self.checkpoints()
        return bool(self.last_sequence) and all(
            cps.get(shard, "").isdigit() and int(cps[shard]) >= seq
            for shard, seq in self.last_sequence.items()
        )

    def dead_letters(self) -> list[dict]:
        url = self.sqs.get_queue_url(QueueName=self.stack.dlq_name)["QueueUrl"]
        bodies: dict[str, dict] = {}
        empty = 0
        while empty < 2:
            got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
                "Messages", [])
            empty = 0 if got else empty + 1
            for message in got:
                bodies[message["MessageId"]] = json.loads(message["Body"])
        return list(bodies.values())

    def table_stream_events(self) -> list[dict]:
        from pulse_common.aws import client

        streams = client("dynamodbstreams", self.stack, max_attempts=5)
        arn = self.dynamodb.describe_table(TableName=self.stack.table_name)["Table"]["LatestStreamArn"]
        events: list[dict] = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                                  ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                events += page["Records"]
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return events

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for run in self.runs:
            text = run.log_path.read_text(errors="replace").splitlines()
            out.append(f"--- {run.log_path.name} ---\n" + "\n".join(text[-lines:]))
        return "\n".join(out)

    def cleanup(self) -> None:
        for run in self.runs:
            run.cleanup()


def wait_until(check: Callable[[], bool], *, timeout_s: float, what: str, pipeline: Pipeline,
               every_s: float = 1.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        for run in pipeline.runs:
            if run.proc is not None and run.proc.poll() not in (None, 0, -9) and run is pipeline.runs[-1]:
                pytest.fail(f"enricher exited with {run.proc.returncode} while waiting for {what}\n"
                            + pipeline.log_tail())
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}\n" + pipeline.log_tail())


@pytest.fixture
def pipeline(aws_emulator: dict[str, str], tmp_path: Path) -> Iterator[Pipeline]:
    p = Pipeline(aws_emulator, tmp_path)
    try:
        yield p
    finally:
        p.cleanup()
