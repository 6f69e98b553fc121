"""Enricher throughput on the local stack: the real KCL daemon + processors into DynamoDB.

Prints
  bench: enricher_posts_per_s <v>            50,000 posts (pre-loaded into a 2-shard stream) through
                                             `pulse-enricher run` into DynamoDB (batch_get versions +
                                             batch_write_item), from the first stored post to the
                                             checkpoint at the last record of each shard
  bench: enricher_cpu_ms_per_post <v>        CPU of the daemon (JVM + per-shard processors) per post
  bench: enricher_emulator_cpu_ms_per_post <v>  CPU the AWS emulator (moto) spent per post meanwhile
  bench: enricher_startup_s <v>              `run` to the first stored post (fresh KCL application)
  bench: enricher_baseline_posts_per_s <v>   the reference design's one PutItem per post (same daemon,
                                             write mode `conditional`, one thread), on a smaller slice
Uses its own stream, table, queue and KCL application. Reuses a running local stack, else starts the
AWS emulator (`pulse-stack up --no-opensearch`) and stops it at the end.

Run: .venv/bin/python bench/bench_enricher.py [--posts 50000] [--baseline-posts 3000]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "fixtures" / "enricher"))
_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _emulator_pid() -> int | None:
    from pulse_devstack import cli, procs

    return procs.read_pid(cli.AWS)


def _tree(pid: int) -> list[int]:
    from pulse_devstack.procs import descendants

    return [pid, *descendants(pid)]


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime, stime of the process itself (fields 14, 15 of stat; index 11, 12 after the name)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Run:
    """One isolated stream/table/queue/app and a `pulse-enricher run` over it."""

    def __init__(self, label: str, extra_env: dict[str, str] | None = None) -> None:
        from pulse_common.aws import client
        from pulse_common.settings import StackSettings
        from pulse_devstack.resources import ensure_queue, ensure_stream, ensure_table

        suffix = f"{label}-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "PULSE_STREAM_NAME": f"bench-enr-{suffix}",
            "PULSE_TABLE_NAME": f"bench-enr-{suffix}",
            "PULSE_DLQ_NAME": f"bench-enr-dlq-{suffix}",
            "PULSE_ENRICHER_APPLICATION_NAME": f"bench-enr-app-{suffix}",
            "PULSE_ENRICHER_WORKER_ID": f"bench-{suffix}",
            "PULSE_ENRICHER_LOG_LEVEL": "WARNING",
            "PULSE_ENRICHER_METRICS_PORT": "0",
            **(extra_env or {}),
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.app = self.env["PULSE_ENRICHER_APPLICATION_NAME"]
        self.stack = StackSettings(
            aws_endpoint_url=self.env["PULSE_AWS_ENDPOINT_URL"],
            stream_name=self.env["PULSE_STREAM_NAME"], table_name=self.env["PULSE_TABLE_NAME"],
            dlq_name=self.env["PULSE_DLQ_NAME"],
        )
        ensure_stream(self.stack, shards=2)
        ensure_table(self.stack)
        ensure_queue(self.stack)
        self.kinesis = client("kinesis", self.stack, max_attempts=5)
        self.dynamodb = client("dynamodb", self.stack, max_attempts=5)
        self.last: dict[str, int] = {}
        self.proc: subprocess.Popen | None = None

    def load(self, count: int) -> None:
        import enricher_posts as posts

        for start in range(0, count, 500):
            pending = [{"Data": posts.encode(posts.upsert(i)), "PartitionKey": f"synthetic:{1_000_000 + i}"}
                       for i in range(start, min(count, start + 500))]
            while pending:
                response = self.kinesis.put_records(StreamName=self.stack.stream_name, Records=pending)
                failed = []
                for entry, result in zip(pending, response["Records"], strict=True):
                    if "ErrorCode" in result:
                        failed.append(entry)
                    else:
                        shard, seq = result["ShardId"], int(result["SequenceNumber"])
                        self.last[shard] = max(self.last.get(shard, 0), seq)
                pending = failed

    def count(self) -> int:
        total, kwargs = 0, {"TableName": self.stack.table_name, "Select": "COUNT"}
        while True:
            page = self.dynamodb.scan(**kwargs)
            total += page["Count"]
            if "LastEvaluatedKey" not in page:
                return total
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def caught_up(self) -> bool:
        try:
            items = self.dynamodb.scan(TableName=self.app, ConsistentRead=True)["Items"]
        except self.dynamodb.exceptions.ResourceNotFoundException:
            return False
        cps = {i["leaseKey"]["S"]: i.get("checkpoint", {}).get("S", "") for i in items}
        return all(cps.get(s, "").isdigit() and int(cps[s]) >= seq for s, seq in self.last.items())

    def start(self, log_path: Path) -> None:
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "pulse-enricher"), "run", "--no-metrics"],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = _tree(self.proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(30)
        self.log.close()

    def cleanup(self) -> None:
        for table in (self.stack.table_name, self.app, f"{self.app}-CoordinatorState",
                      f"{self.app}-WorkerMetricStats"):
            try:
                self.dynamodb.delete_table(TableName=table)
            except Exception:  # noqa: BLE001 - best effort: frees the emulator's memory
                pass
        try:
            self.kinesis.delete_stream(StreamName=self.stack.stream_name, EnforceConsumerDeletion=True)
        except Exception:  # noqa: BLE001
            pass


def measure(run: Run, count: int, log_path: Path, timeout_s: float) -> dict[str, float]:
    run.load(count)
    started = time.perf_counter()
    run.start(log_path)
    assert run.proc is not None
    emulator = _emulator_pid()
    # Startup: until the first post is stored (the KCL's lease bootstrap and JVM/processor start).
    while run.count() == 0:
        if run.proc.poll() is not None:
            raise SystemExit(f"bench_enricher: the daemon exited ({run.proc.returncode}); see {log_path}")
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"bench_enricher: nothing stored after {timeout_s}s; see {log_path}")
        time.sleep(0.2)
    t0 = time.perf_counter()
    n0 = run.count()
    tree = _tree(run.proc.pid)
    cpu0 = {pid: _cpu_s(pid) for pid in tree}
    emu0 = _cpu_s(emulator) if emulator else 0.0
    last_cpu: dict[int, float] = dict(cpu0)
    while not run.caught_up():
        if time.perf_counter() - t0 > timeout_s:
            raise SystemExit(f"bench_enricher: not caught up after {timeout_s}s; see {log_path}")
        for pid in _tree(run.proc.pid):  # processes may come and go: keep their last reading
            last_cpu[pid] = max(last_cpu.get(pid, 0.0), _cpu_s(pid))
        time.sleep(0.5)
    elapsed = time.perf_counter() - t0
    for pid in _tree(run.proc.pid):
        last_cpu[pid] = max(last_cpu.get(pid, 0.0), _cpu_s(pid))
    emu1 = _cpu_s(emulator) if emulator else 0.0
    stored = run.count()
    if stored != count:
        raise SystemExit(f"bench_enricher: {stored} of {count} posts stored; see {log_path}")
    processed = count - n0
    cpu = sum(last_cpu[pid] - cpu0.get(pid, 0.0) for pid in last_cpu)
    return {
        "posts_per_s": processed / elapsed,
        "cpu_ms_per_post": 1000 * cpu / processed,
        "emulator_cpu_ms_per_post": 1000 * (emu1 - emu0) / processed,
        "startup_s": t0 - started,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--baseline-posts", type=int, default=3_000, help="0 skips the baseline")
    parser.add_argument("--timeout-s", type=float, default=1200)
    args = parser.parse_args()
    for key, value in _DUMMY_CREDENTIALS.items():
        os.environ.setdefault(key, value)
    from pulse_devstack.session import running_stack

    logs = Path(tempfile.mkdtemp(prefix="bench-enricher-"))
    with running_stack(opensearch=False):  # reuses a running emulator; stops only what it started
        run = Run("main")
        try:
            figures = measure(run, args.posts, logs / "enricher.log", args.timeout_s)
        finally:
            run.stop()
            run.cleanup()
        print(f"bench: enricher_posts_per_s {figures['posts_per_s']:.1f}")
        print(f"bench: enricher_cpu_ms_per_post {figures['cpu_ms_per_post']:.3f}")
        print(f"bench: enricher_emulator_cpu_ms_per_post {figures['emulator_cpu_ms_per_post']:.3f}")
        print(f"bench: enricher_startup_s {figures['startup_s']:.1f}", flush=True)
        if args.baseline_posts:
            base = Run("base", {"PULSE_ENRICHER_WRITE_MODE": "conditional",
                                "PULSE_ENRICHER_WRITE_CONCURRENCY": "1"})
            try:
                baseline = measure(base, args.baseline_posts, logs / "baseline.log", args.timeout_s)
            finally:
                base.stop()
                base.cleanup()
            print(f"bench: enricher_baseline_posts_per_s {baseline['posts_per_s']:.1f}")
            print(f"# batched / per-item PutItem: {figures['posts_per_s'] / baseline['posts_per_s']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
