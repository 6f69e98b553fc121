"""A scenario's world: its own resources on the shared emulator, and its services as processes."""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse_devstack import procs
from pulse_devstack.pipeline import Pipeline, Service, console_script
from pulse_devstack.procs import descendants

REPO = Path(__file__).resolve().parents[2]


SAMPLE = REPO / "data" / "sample" / "posts.jsonl.gz"


# The indexer's KCL intervals are already short on the local stack (IndexerSettings.local_or).
FAST_INDEXER = {
    "PULSE_INDEXER_RETRY_BASE_S": "0.2",
    "PULSE_INDEXER_RETRY_CAP_S": "3",
    "PULSE_INDEXER_LOG_LEVEL": "WARNING",
}


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {message}", flush=True, file=__import__("sys").stderr)


@dataclass
class Workspace:
    """One scenario's own resources on the shared emulator (and a search node)."""

    name: str
    base_env: dict[str, str]
    log_dir: Path
    opensearch_url: str | None = None  # a private node for scenario 3
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_apps: list[str] = field(default_factory=list)  # more KCL applications to drop at the end
    killed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        s = f"rel-{self.name}-{self.suffix}"
        self.env = {
            **self.base_env,
            "PULSE_STREAM_NAME": s,
            "PULSE_TABLE_NAME": s,
            "PULSE_DLQ_NAME": f"{s}-dlq",
            "PULSE_OPENSEARCH_INDEX_ALIAS": s,
            "PULSE_ENRICHER_APPLICATION_NAME": f"{s}-kcl",
            "PULSE_ENRICHER_WORKER_ID": f"{s}-w1",
            "PULSE_ENRICHER_LOG_LEVEL": "WARNING",
            **FAST_INDEXER,
        }
        if self.opensearch_url:
            self.env["PULSE_OPENSEARCH_URL"] = self.opensearch_url
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pipeline = Pipeline(stack_env=self.env, log_dir=self.log_dir)

    @property
    def stack(self):
        from pulse_common.settings import StackSettings

        keys = ("AWS_ENDPOINT_URL", "AWS_REGION", "STREAM_NAME", "TABLE_NAME", "DLQ_NAME", "OPENSEARCH_URL",
                "OPENSEARCH_INDEX_ALIAS")
        return StackSettings(**{k.lower(): self.env[f"PULSE_{k}"] for k in keys if f"PULSE_{k}" in self.env})

    def create(self, shards: int = 2) -> None:
        from pulse_devstack.resources import ensure_all

        with scenario_env(self.env):
            ensure_all(self.stack, shards=shards, search=True)

    def drop(self) -> None:
        """Delete everything this scenario created (keeps the shared emulator's memory flat)."""
        from botocore.exceptions import ClientError

        from pulse_common.aws import client

        stack = self.stack
        with scenario_env(self.env):
            kinesis, dynamodb, sqs = client("kinesis", stack), client("dynamodb", stack), client("sqs", stack)
            calls: list[Callable[[], Any]] = [
                lambda: kinesis.delete_stream(StreamName=stack.stream_name, EnforceConsumerDeletion=True),
                lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]),
            ]
            app = self.env["PULSE_ENRICHER_APPLICATION_NAME"]
            tables = [t for page in dynamodb.get_paginator("list_tables").paginate()
                      for t in page.get("TableNames", []) if t.startswith(stack.table_name)]
            tables += [stack.table_name, app, f"{app}-CoordinatorState", f"{app}-WorkerMetricStats"]
            for table in set(tables):
                calls.append(lambda t=table: dynamodb.delete_table(TableName=t))
            for call in calls:
                with contextlib.suppress(ClientError):
                    call()
            for app_table in ("-CoordinatorState", "-WorkerMetricStats", ""):
                for name in self.extra_apps:
                    with contextlib.suppress(ClientError):
                        dynamodb.delete_table(TableName=f"{name}{app_table}")
        with contextlib.suppress(Exception):
            base, alias = stack.opensearch_url.rstrip("/"), stack.opensearch_index_alias
            for url in (f"{base}/{alias}-*?expand_wildcards=all", f"{base}/_index_template/{alias}-template"):
                urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30)

    # -- services ----------------------------------------------------------------------------
    def start_enricher(self, name: str = "enricher", **env: str) -> Service:
        self.killed.discard(name)
        env.setdefault("PULSE_ENRICHER_METRICS_PORT", str(procs.free_port()))
        return self.pipeline.start_enricher(name, **env)

    def start_indexer(self, name: str = "indexer", **env: str) -> Service:
        self.killed.discard(name)
        env.setdefault("PULSE_INDEXER_METRICS_PORT", str(procs.free_port()))
        return self.pipeline.start_indexer(name, **env)

    def kill(self, svc: Service) -> None:
        """kill -9 the service and every process below it (a crash); check_alive ignores it from now on.

        Not `Service.kill()` alone: that signals the service's process group, but `pulse-enricher run`
        starts the KCL daemon (JVM) with start_new_session=True, so the JVM and its per-shard
        processors are in another group and would survive as orphans still holding their leases.
        """
        kill_tree(svc)
        self.killed.add(svc.name)

    def check_alive(self) -> None:
        """Raise if a service died that nobody killed (producers may finish)."""
        for name, svc in self.pipeline.services.items():
            if name.startswith("producer") or name in self.killed:
                continue
            if svc.proc is not None and not svc.running:
                raise procs.StackError(f"{name} exited with {svc.proc.returncode}; see {svc.log_path}:\n"
                                       + procs.tail(svc.log_path))

    def start_producer(self, *args: str, name: str = "producer", **env: str) -> Service:
        env.setdefault("PULSE_PRODUCER_METRICS_PORT", "0")
        return self.pipeline.service(name, [console_script("pulse-producer"), *args], **env).start()


def kill_tree(svc: Service) -> None:
    """SIGKILL a service's process, every descendant and every process group among them, at once."""
    if svc.proc is None:
        return
    pids = [svc.proc.pid, *descendants(svc.proc.pid)]
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(OSError):
            os.killpg(group, 9)
    svc.proc.wait(timeout=10)
    wait_until(lambda: not any(procs.pid_alive(p) for p in pids), 10, f"{svc.name}'s processes to die",
               step=0.1)


@contextlib.contextmanager
def scenario_env(env: dict[str, str]):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_producer(svc: Service, timeout_s: float = 900) -> dict:
    """Wait for a finite producer run; its JSON summary (from its log) or raise."""
    assert svc.proc is not None
    svc.proc.wait(timeout=timeout_s)
    summary = {}
    for line in svc.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"put"' in line:
            with contextlib.suppress(ValueError):
                summary = json.loads(line)
    if svc.proc.returncode != 0:
        raise procs.StackError(f"producer exited {svc.proc.returncode}: {procs.tail(svc.log_path)}")
    return summary

def wait_until(check: Callable[[], bool], timeout_s: float, what: str, step: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")

