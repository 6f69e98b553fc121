"""Run Pulse's services as real processes against the local stack.

Used by `pulse-demo`, the end-to-end tests, the benchmarks and the reliability suite, so all
of them start the services exactly the way an operator would (the console entry points).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pulse_common.aws import client
from pulse_common.contracts.items import LIVE_ITEMS
from pulse_common.settings import StackSettings
from pulse_devstack import procs
from pulse_devstack.paths import LOG_DIR

BIN_DIR = Path(sys.executable).parent


def console_script(name: str) -> str:
    """The path of one of our console scripts in the running virtualenv."""
    candidate = BIN_DIR / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise procs.StackError(f"{name} is not installed; run `make setup`")
    return found


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,  # its own process group: stop() reaches the KCL's children
            )
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM the service's process group and wait; SIGKILL what is left after timeout.

        Descendants in other process groups (the enricher's JVM and its per-shard children) are
        collected first and killed if they outlive the service."""
        if self.proc is None:
            return None
        tree = procs.descendants(self.proc.pid)
        if self.proc.poll() is None:
            procs._signal_group(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                procs.kill_tree(self.proc.pid)
                self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            procs._group_alive(self.proc.pid) or any(procs.pid_alive(p) for p in tree)
        ):
            time.sleep(0.1)
        procs._signal_group(self.proc.pid, 9)
        for orphan in tree:
            if procs.pid_alive(orphan):
                procs.kill_tree(orphan)
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9 the service and every descendant, whatever their process group (a crash)."""
        if self.proc is not None:
            procs.kill_tree(self.proc.pid)
            self.proc.wait(timeout=10)


@dataclass
class Pipeline:
    """The enricher, indexer and (optionally) dashboard running against one StackSettings."""

    stack_env: Mapping[str, str]
    log_dir: Path = LOG_DIR
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    def _env(self, **more: str) -> dict[str, str]:
        return {**self.stack_env, **self.extra_env, **more}

    def service(self, name: str, argv: list[str], **env: str) -> Service:
        svc = Service(name, argv, self._env(**env), self.log_dir / f"{name}.log")
        self.services[name] = svc
        return svc

    def start_enricher(self, name: str = "enricher", **env: str) -> Service:
        env.setdefault("PULSE_ENRICHER_METRICS_PORT", "9102")
        return self.service(name, [console_script("pulse-enricher"), "run"], **env).start()

    def start_indexer(self, name: str = "indexer", **env: str) -> Service:
        env.setdefault("PULSE_INDEXER_METRICS_PORT", "9103")
        # One KCL worker id per indexer: two workers sharing an id would both think they hold
        # every lease of that id.
        env.setdefault("PULSE_INDEXER_WORKER_ID", f"{os.uname().nodename}-{name}")
        return self.service(name, [console_script("pulse-indexer"), "run"], **env).start()

    def start_dashboard(self, name: str = "dashboard", **env: str) -> Service:
        env.setdefault("PULSE_DASHBOARD_PORT", "8080")
        return self.service(name, [console_script("pulse-dashboard")], **env).start()

    def run_producer(self, *args: str, timeout_s: float = 600, **env: str) -> dict:
        """Run `pulse-producer <args>` to completion; return its final JSON summary."""
        env.setdefault("PULSE_PRODUCER_METRICS_PORT", "0")
        log_path = self.log_dir / "producer.log"
        with open(log_path, "ab") as log:
            done = subprocess.run(
                [console_script("pulse-producer"), *args],
                stdout=subprocess.PIPE,
                stderr=log,
                env={**os.environ, **self._env(**env)},
                timeout=timeout_s,
                check=False,
            )
        if done.returncode != 0:
            raise procs.StackError(
                f"pulse-producer {' '.join(args)} exited {done.returncode}; see {log_path}:\n"
                + procs.tail(log_path)
            )
        lines = [ln for ln in done.stdout.decode().splitlines() if ln.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def stop(self) -> None:
        for svc in reversed(list(self.services.values())):
            svc.stop()

    def check_alive(self) -> None:
        for svc in self.services.values():
            if svc.proc is not None and not svc.running:
                raise procs.StackError(
                    f"{svc.name} exited with {svc.proc.returncode}; see {svc.log_path}:\n"
                    + procs.tail(svc.log_path)
                )


def table_count(stack: StackSettings) -> int:
    """Live posts in the table (tombstones not counted)."""
    dynamodb = client("dynamodb", stack)
    total = 0
    kwargs: dict = {"TableName": stack.table_name, "Select": "COUNT", **LIVE_ITEMS}
    while True:
        page = dynamodb.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dead_letter_count(stack: StackSettings) -> int:
    sqs = client("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def search_count(stack: StackSettings) -> int:
    base = stack.opensearch_url.rstrip("/")
    alias = stack.opensearch_index_alias
    try:
        urllib.request.urlopen(urllib.request.Request(f"{base}/{alias}/_refresh", method="POST"), timeout=10)
        with urllib.request.urlopen(f"{base}/{alias}/_count", timeout=10) as resp:
            return int(json.load(resp)["count"])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 0
        raise
