"""Run and supervise the Java MultiLangDaemon (KCL 3.1.3, jars shipped inside amazon-kclpy).

`pulse-enricher run` writes the properties and logback files, starts the JVM in its own process
group (its per-shard Python children join that group), serves /metrics, /healthz and /readyz, and
forwards SIGTERM/SIGINT to the JVM, whose shutdown hook asks every processor to checkpoint
(`shutdown_requested`) within shutdownGraceMillis. Whatever is left of the group after the JVM
exits is killed, so no orphan processor outlives the daemon.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from pulse_common.kcl import DaemonError, KclDaemon, kclpy_jars_dir
from pulse_common.kcl import find_java as _find_java
from pulse_enricher.properties import KCL_MAIN_CLASS, describe, render_logback, render_properties
from pulse_enricher.settings import EnricherSettings

log = logging.getLogger("pulse.enricher.daemon")

__all__ = ["Daemon", "DaemonError", "find_java", "jars_dir", "java_command", "write_config"]


def jars_dir() -> Path:
    return kclpy_jars_dir()


def find_java(settings: EnricherSettings) -> str:
    return _find_java(settings.java, "PULSE_ENRICHER_JAVA")


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


class Daemon(KclDaemon):
    """One supervised MultiLangDaemon (see pulse_common.kcl.KclDaemon)."""

    def __init__(self, settings: EnricherSettings) -> None:
        super().__init__(config_dir=settings.properties_dir, metrics_dir=settings.metrics_dir,
                         shutdown_grace_ms=settings.shutdown_grace_ms)
        self.settings = settings

    def start(self) -> subprocess.Popen:  # type: ignore[override]
        properties, logback = write_config(self.settings, self.config_dir)
        log.info("starting the KCL MultiLangDaemon",
                 extra={"target": describe(self.settings), "properties": str(properties)})
        return super().start(java_command(self.settings, properties, logback))


