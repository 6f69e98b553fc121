"""Run and supervise the Java MultiLangDaemon (KCL 3.1.3, jars shipped inside amazon-kclpy).

`pulse-enricher run` writes the properties and logback files, starts the JVM in its own process
group (its per-shard Python children join that group), serves /metrics, /healthz and /readyz, and
forwards SIGTERM/SIGINT to the JVM, whose shutdown hook asks every processor to checkpoint
(`shutdown_requested`) within shutdownGraceMillis. Whatever is left of the group after the JVM
exits is killed, so no orphan processor outlives the daemon.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from pulse_enricher.properties import KCL_MAIN_CLASS, describe, render_logback, render_properties
from pulse_enricher.settings import EnricherSettings

log = logging.getLogger("pulse.enricher.daemon")


class DaemonError(RuntimeError):
    """The daemon cannot start; the message says what to install or set."""


def jars_dir() -> Path:
    import amazon_kclpy

    path = Path(amazon_kclpy.__file__).resolve().parent / "jars"
    if not path.is_dir() or not any(path.glob("amazon-kinesis-client-multilang-*.jar")):
        raise DaemonError(
            f"no KCL jars in {path}: reinstall amazon-kclpy (`make setup`), whose setup fetches them "
            "from Maven Central"
        )
    return path


def find_java(settings: EnricherSettings) -> str:
    candidates = []
    if settings.java:
        candidates.append(settings.java)
    if os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(os.environ["JAVA_HOME"]) / "bin" / "java"))
    found = shutil.which("java")
    if found:
        candidates.append(found)
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise DaemonError("java not found: install Java 17+ or set JAVA_HOME or PULSE_ENRICHER_JAVA")


def write_config(settings: EnricherSettings, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    properties = directory / f"{settings.application_name}.properties"
    logback = directory / "logback.xml"
    properties.write_text(render_properties(settings))
    logback.write_text(render_logback(settings))
    return properties, logback


def java_command(settings: EnricherSettings, properties: Path, logback: Path) -> list[str]:
    return [
        find_java(settings),
        # moto has no CBOR; real Kinesis does, but JSON works everywhere.
        "-Daws.cborEnabled=false",
        *settings.jvm_opts.split(),
        "-cp",
        f"{jars_dir()}/*",
        KCL_MAIN_CLASS,
        "--properties-file",
        str(properties),
        "--log-configuration",
        str(logback),
    ]


class Daemon:
    """One supervised MultiLangDaemon."""

    def __init__(self, settings: EnricherSettings) -> None:
        self.settings = settings
        self.proc: subprocess.Popen | None = None
        self._own_dirs: list[Path] = []
        self.stopping = threading.Event()
        base = settings.properties_dir
        self.config_dir = Path(base) if base else self._tempdir("pulse-enricher-")
        metrics_dir = settings.metrics_dir or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.metrics_dir = Path(metrics_dir) if metrics_dir else self._tempdir("pulse-enricher-metrics-")

    def _tempdir(self, prefix: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=prefix))
        self._own_dirs.append(path)
        return path

    def prepare_metrics_dir(self) -> None:
        self.metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.metrics_dir.glob("*.db"):  # files of a previous run's processes
            stale.unlink(missing_ok=True)

    def start(self) -> subprocess.Popen:
        properties, logback = write_config(self.settings, self.config_dir)
        self.prepare_metrics_dir()
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir), "PYTHONUNBUFFERED": "1"}
        argv = java_command(self.settings, properties, logback)
        log.info("starting the KCL MultiLangDaemon",
                 extra={"target": describe(self.settings), "properties": str(properties)})
        self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        return self.proc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request_stop(self, sig: int = signal.SIGTERM) -> None:
        """Ask the JVM to shut down gracefully (its hook runs shutdown_requested everywhere)."""
        self.stopping.set()
        if self.alive():
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def wait(self) -> int:
        assert self.proc is not None
        grace_s = self.settings.shutdown_grace_ms / 1000 + 15
        while True:
            try:
                code = self.proc.wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if self.stopping.is_set() and getattr(self, "_stop_deadline", None) is None:
                    self._stop_deadline = time.monotonic() + grace_s
                deadline = getattr(self, "_stop_deadline", None)
                if deadline is not None and time.monotonic() > deadline:
                    log.error("daemon did not stop in time; killing it")
                    self._kill_group(signal.SIGKILL)
        self._reap_group()
        return code

    def _kill_group(self, sig: int) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap_group(self) -> None:
        """Processors still alive after the JVM exits are orphans: end them."""
        self._kill_group(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _group_alive(self.proc.pid):
            time.sleep(0.1)
        self._kill_group(signal.SIGKILL)

    def cleanup(self) -> None:
        for path in self._own_dirs:
            shutil.rmtree(path, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
