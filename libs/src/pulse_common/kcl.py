"""Running a KCL 3 MultiLangDaemon (the jars amazon-kclpy ships) under a Python supervisor.

Shared by the services whose consumers run on the KCL: where the jars and java are, the daemon's
logback file (JSON-shaped lines on stderr), the per-shard processor command, and `KclDaemon`,
which starts the JVM in its own process group (its per-shard Python children join that group),
forwards SIGTERM for a graceful shutdown (each processor checkpoints within shutdownGraceMillis)
and kills whatever of the group is left once the JVM exits, so no orphan processor outlives it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from pulse_common.retry import RetryPolicy
from pulse_common.settings import StackSettings

log = logging.getLogger("pulse.kcl")

ClientVersion = Literal["CLIENT_VERSION_CONFIG_3X", "CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X"]


# The KCL's reaction intervals (lease failover, shard sync, worker metrics, parent shards), as
# (local stack, AWS): the KCL's own defaults on AWS, short locally, where tests start and kill
# daemons every few seconds. leaseAssignmentIntervalMillis follows failover (KCL: 2 x failover).
KCL_INTERVALS_MS: dict[str, tuple[int, int]] = {
    "failover_time_ms": (5000, 10000),
    "shard_sync_interval_ms": (1000, 60000),
    "worker_metrics_reporter_freq_ms": (1000, 30000),
    "parent_shard_poll_interval_ms": (1000, 10000),
}


class KclConsumerSettings(BaseSettings):
    """How a KCL 3 MultiLangDaemon consumer is run and tuned: the enricher's and the indexer's
    settings classes subclass it, each with its own env prefix (PULSE_ENRICHER_, PULSE_INDEXER_).

    Durations that only matter for how fast the KCL reacts (lease failover, shard sync, lease
    assignment) default to the KCL's own values on AWS and to short values on the local stack,
    where tests start and kill daemons every few seconds. Every one can be set explicitly.
    """

    stack: StackSettings = Field(default_factory=StackSettings)

    # Stable across restarts on one host: a restarted daemon takes back its own leases at once
    # instead of waiting for lease expiry and the KCL leader (whose lock lasts 2 minutes).
    worker_id: str = Field(default_factory=socket.gethostname)
    initial_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    metrics_level: Literal["NONE", "SUMMARY", "DETAILED"] | None = None  # None: NONE local, SUMMARY on AWS
    max_records: int = Field(default=1000, ge=1, le=10000)
    idle_time_between_reads_ms: int = Field(default=250, ge=0)
    # None: by where it runs (KCL_INTERVALS_MS)
    failover_time_ms: int | None = None
    shard_sync_interval_ms: int | None = None
    lease_assignment_interval_ms: int | None = None  # KCL default 2 x failover; local 1000
    worker_metrics_reporter_freq_ms: int | None = None
    parent_shard_poll_interval_ms: int | None = None
    shutdown_grace_ms: int = Field(default=20000, ge=1000)
    # Each checkpoint is a lease-table write through the JVM: at most one per shard per interval
    # (shard end and shutdown still checkpoint at once); a crash replays at most this much. 0: every batch.
    checkpoint_interval_ms: int = Field(default=1000, ge=0)
    # KCL 3 assigns leases from a leader holding a 2-minute DynamoDB lock: when the leader dies,
    # its leases wait ~2 min. CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X keeps KCL 2.x lease taking.
    client_version_config: ClientVersion | None = None
    java: str | None = None  # java binary; default $JAVA_HOME/bin/java, then `java` on PATH
    # The daemon is I/O and JSON glue: C1 alone (TieredStopAtLevel=1) skips C2's costly compiles; a
    # 96 MB young generation keeps fetched batches from overflowing the survivors (README: What it costs).
    jvm_opts: str = "-Xms160m -Xmx384m -Xmn96m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    kcl_log_level: str = "WARN"  # the daemon's own (logback) level; processors log via log_level
    properties_dir: str | None = None  # where `run` writes the generated files; default a temp dir
    metrics_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR for the processors; default a temp dir

    def local_or(self, value: int | None, local: int, aws: int) -> int:
        if value is not None:
            return value
        return local if self.stack.is_local else aws

    def interval_ms(self, name: str) -> int:
        """One of the KCL's reaction intervals (`KCL_INTERVALS_MS`): as set, else by where it runs."""
        local, aws = KCL_INTERVALS_MS[name]
        return self.local_or(getattr(self, name), local, aws)

    @property
    def resolved_metrics_level(self) -> str:
        return self.metrics_level or ("NONE" if self.stack.is_local else "SUMMARY")


def common_properties(settings: KclConsumerSettings, *, module: str) -> dict[str, str]:
    """The MultiLangDaemon properties (KCL 3.1.3 `MultiLangDaemonConfiguration` keys) every Pulse
    consumer sets the same way; each adds its stream, application name and endpoints."""
    props: dict[str, str] = {
        "executableName": processor_command(module),
        "workerId": settings.worker_id,
        "AWSCredentialsProvider": "DefaultCredentialsProvider",
        "processingLanguage": f"python/{sys.version_info.major}.{sys.version_info.minor}",
        "regionName": settings.stack.aws_region,
        "initialPositionInStream": settings.initial_position,
        "retrievalMode": "POLLING",
        "maxRecords": str(settings.max_records),
        "idleTimeBetweenReadsInMillis": str(settings.idle_time_between_reads_ms),
        # Empty polls still reach the processor, so its lag figures stay fresh when idle.
        "callProcessRecordsEvenForEmptyRecordList": "true",
        "metricsLevel": settings.resolved_metrics_level,
        "failoverTimeMillis": str(settings.interval_ms("failover_time_ms")),
        "shardSyncIntervalMillis": str(settings.interval_ms("shard_sync_interval_ms")),
        "parentShardPollIntervalMillis": str(settings.interval_ms("parent_shard_poll_interval_ms")),
        "shutdownGraceMillis": str(settings.shutdown_grace_ms),
        "cleanupLeasesUponShardCompletion": "true",
    }
    failover = int(props["failoverTimeMillis"])
    props["leaseAssignmentIntervalMillis"] = str(
        settings.local_or(settings.lease_assignment_interval_ms, 1000, 2 * failover)
    )
    reporter = settings.interval_ms("worker_metrics_reporter_freq_ms")
    props["workerMetricsReporterFreqInMillis"] = str(reporter)
    props["inMemoryWorkerMetricsCaptureFrequencyMillis"] = str(min(reporter, 1000))
    if settings.client_version_config:
        props["clientVersionConfig"] = settings.client_version_config
    return props


class DaemonError(RuntimeError):
    """The daemon cannot start; the message says what to install or set."""


def kclpy_jars_dir() -> Path:
    """The KCL MultiLangDaemon's jars, inside the amazon-kclpy package."""
    import amazon_kclpy

    path = Path(amazon_kclpy.__file__).resolve().parent / "jars"
    if not path.is_dir() or not any(path.glob("amazon-kinesis-client-multilang-*.jar")):
        raise DaemonError(
            f"no KCL jars in {path}: reinstall amazon-kclpy (`make setup`), whose setup fetches them "
            "from Maven Central"
        )
    return path


def find_java(explicit: str | None, setting: str) -> str:
    """`explicit`, else $JAVA_HOME/bin/java, else `java` on PATH."""
    candidates = [explicit] if explicit else []
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    candidates.append(shutil.which("java") or "")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DaemonError(f"java not found: install Java 17+ or set JAVA_HOME or {setting}")


def processor_command(module: str) -> str:
    """What the daemon runs once per shard. The KCL splits it on spaces, so no quoting helps."""
    python = sys.executable
    if " " in python:
        raise ValueError(f"the KCL cannot launch a python whose path has spaces: {python!r}")
    return f"{python} -m {module} processor"


def render_logback(service: str, level: str, *, silenced: tuple[str, ...] = ()) -> str:
    """The daemon's own logs: one JSON-shaped line each, on stderr.

    The processors' stderr lines (already JSON) are echoed by the daemon as they are; the daemon's
    extra "Received error line from subprocess" copy of each one is switched off, and so is every
    logger named in `silenced`.
    """
    pattern = (
        '{"ts":"%d{yyyy-MM-dd\'T\'HH:mm:ss.SSS\'Z\',UTC}","level":"%level","service":"' + service + '",'
        '"logger":"%logger{36}","thread":"%thread","shard_id":"%mdc{ShardId:-}",'
        "\"msg\":\"%replace(%replace(%msg){'\\\\','\\\\\\\\'}){'\"','\\\\\"'}\"}%n"
    )
    return f"""<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>{_xml_escape(pattern)}</pattern></encoder>
  </appender>
  <logger name="software.amazon.kinesis.multilang.DrainChildSTDERRTask" level="OFF"/>
{"".join(f'  <logger name="{name}" level="OFF"/>{chr(10)}' for name in silenced)}\
  <logger name="software.amazon.kinesis.multilang.MultiLangDaemon" level="INFO"/>
  <root level="{level.upper()}">
    <appender-ref ref="STDERR"/>
  </root>
</configuration>
"""


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class KclDaemon:
    """One supervised MultiLangDaemon JVM.

    `config_dir` receives the generated files (a temp dir when None); `metrics_dir` is the
    prometheus multiprocess directory of the per-shard processors (a temp dir when None).
    """

    def __init__(self, *, config_dir: str | None, metrics_dir: str | None, shutdown_grace_ms: int) -> None:
        self.proc: subprocess.Popen | None = None
        self._own_dirs: list[Path] = []
        self.stopping = threading.Event()
        self.shutdown_grace_ms = shutdown_grace_ms
        self.config_dir = Path(config_dir) if config_dir else self._tempdir("pulse-kcl-")
        metrics_dir = metrics_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.metrics_dir = Path(metrics_dir) if metrics_dir else self._tempdir("pulse-kcl-metrics-")
        self._stop_deadline: float | None = None

    def _tempdir(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._own_dirs.append(path)
        return path

    def prepare_metrics_dir(self) -> None:
        self.metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.metrics_dir.glob("*.db"):  # files of a previous run's processes
            stale.unlink(missing_ok=True)

    def write(self, name: str, text: str) -> Path:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        path = self.config_dir / name
        path.write_text(text)
        return path

    def start(self, argv: list[str]) -> subprocess.Popen:
        self.prepare_metrics_dir()
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        return self.proc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request_stop(self, sig: int = signal.SIGTERM) -> None:
        """Ask the JVM to shut down gracefully (its hook runs shutdown_requested everywhere)."""
        self.stopping.set()
        if self.proc is not None and self.alive():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self) -> int:
        """Wait for the JVM; kill its group when a requested stop overruns the grace period."""
        assert self.proc is not None
        grace_s = self.shutdown_grace_ms / 1000 + 15
        while True:
            try:
                code = self.proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if self.stopping.is_set() and self._stop_deadline is None:
                    self._stop_deadline = time.monotonic() + grace_s
                if self._stop_deadline is not None and time.monotonic() > self._stop_deadline:
                    log.error("daemon did not stop in time; killing it")
                    self._kill_group(signal.SIGKILL)
        self._reap_group()
        return code

    def supervise(self, start, *, on_exit=lambda: None) -> int:
        """`start()` the JVM, wait for it, `on_exit()`, and return how `run` exits: 0 after a
        requested stop, the JVM's own code (or 1) when it died by itself, 2 when it cannot start."""
        try:
            start()
        except DaemonError as exc:
            log.error(str(exc))
            return 2
        code = self.wait()
        on_exit()
        if self.stopping.is_set():
            log.info("daemon stopped", extra={"exit_code": code})
            return 0
        log.error("daemon exited unexpectedly", extra={"exit_code": code})
        return code or 1

    def _kill_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap_group(self) -> None:
        """Processors still alive after the JVM exits are orphans: end them."""
        assert self.proc is not None
        self._kill_group(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and group_alive(self.proc.pid):
            time.sleep(0.1)
        self._kill_group(signal.SIGKILL)

    def cleanup(self) -> None:
        for path in self._own_dirs:
            shutil.rmtree(path, ignore_errors=True)


def group_alive(pgid: int) -> bool:
    """Whether any live process is in process group `pgid` (a zombie or dead entry is not: its parent,
    e.g. a subprocess.Popen owner, reaps it and so still gets the real exit code)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


# --------------------------------------------------------------------------- processors' checkpoints

RETRYABLE_CHECKPOINT_ERRORS = frozenset(
    {"ThrottlingException", "KinesisClientLibDependencyException", "DependencyException"}
)
STOPPING_CHECKPOINT_ERRORS = frozenset({"ShutdownException", "InvalidStateException"})


def bounded_checkpoint_error(error: str) -> str:
    """A checkpoint error name as a metric label (known names, else "other")."""
    return error if error in RETRYABLE_CHECKPOINT_ERRORS | STOPPING_CHECKPOINT_ERRORS else "other"


def checkpoint(
    checkpointer,
    sequence: str | None,
    sub: int | None = None,
    *,
    retry: RetryPolicy,
    sleep,
    on_error=lambda _error: None,
    context: dict | None = None,
) -> str:
    """Checkpoint at `sequence` (None: SHARD_END / everything delivered) with amazon-kclpy.

    Throttling and dependency errors back off on `retry`'s schedule, up to its max_attempts. Returns
    "ok", "stop" (ShutdownException / InvalidStateException: the shard is no longer ours, the
    processor stops) or "failed" (retries exhausted: the next batch tries again).
    """
    from amazon_kclpy import kcl

    extra = {**(context or {}), "sequence_number": sequence}
    attempts = retry.max_attempts or 1
    delays = retry.delays()
    for attempt in range(1, attempts + 1):
        try:
            if sequence is None:
                checkpointer.checkpoint()
            else:
                checkpointer.checkpoint(sequence, sub)
            return "ok"
        except kcl.CheckpointError as exc:
            error = str(getattr(exc, "value", exc))
            on_error(bounded_checkpoint_error(error))
            if error in STOPPING_CHECKPOINT_ERRORS:
                level = logging.INFO if error == "ShutdownException" else logging.ERROR
                log.log(level, "checkpoint refused; processor stops", extra={**extra, "error": error})
                return "stop"
            if attempt == attempts:
                log.error("checkpoint failed; the next batch will try again", extra={**extra, "error": error})
                return "failed"
            delay = next(delays)
            log.warning(
                "checkpoint failed; retrying",
                extra={**extra, "error": error, "attempt": attempt, "delay_s": round(delay, 3)},
            )
            sleep(delay)
    return "failed"


def protocol_streams():
    """Keep a private handle on stdout for the KCL protocol and point fd 1 and sys.stdout at stderr,
    so no stray print (nor a C library) can corrupt the protocol. Returns the protocol's output."""
    protocol_out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol_out
