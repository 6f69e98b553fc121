"""pulse-enricher: run the KCL daemon, print its properties, or act as its per-shard processor."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time

from pulse_common.logging import configure_logging
from pulse_common.settings import secret_values

DESCRIPTION = """\
The Pulse enricher: a Kinesis consumer (KCL 3 MultiLangDaemon + one Python processor per shard)
that enriches each post and writes it to the DynamoDB posts table, dead-lettering poison records.

commands:
  run         generate the KCL properties from settings, start and supervise the Java daemon,
              serve /metrics, /healthz, /readyz on PULSE_ENRICHER_METRICS_PORT (default 9102).
              SIGTERM/SIGINT: graceful shutdown (each shard checkpoints, leases are released).
  properties  print the generated KCL properties file.
  processor   the per-shard processor the daemon launches (stdout is the KCL protocol).

settings (environment): PULSE_AWS_ENDPOINT_URL, PULSE_AWS_REGION, PULSE_STREAM_NAME,
PULSE_TABLE_NAME, PULSE_DLQ_NAME, PULSE_TRACKING_CONFIG and PULSE_ENRICHER_* (APPLICATION_NAME,
WORKER_ID, INITIAL_POSITION, METRICS_LEVEL, MAX_RECORDS, IDLE_TIME_BETWEEN_READS_MS,
FAILOVER_TIME_MS, SHUTDOWN_GRACE_MS, RETENTION_DAYS, WRITE_MODE=batch|conditional,
WRITE_CONCURRENCY, METRICS_PORT, JAVA, JVM_OPTS, KCL_LOG_LEVEL, LOG_LEVEL, ...).
"""


def _settings():
    from pulse_enricher.settings import EnricherSettings

    return EnricherSettings()


def cmd_properties(_args: argparse.Namespace) -> int:
    from pulse_enricher.properties import render_properties

    sys.stdout.write(render_properties(_settings()))
    return 0


def cmd_processor(_args: argparse.Namespace) -> int:
    from pulse_enricher.processor import main as processor_main

    return processor_main(_settings())


def cmd_run(args: argparse.Namespace) -> int:
    from pulse_common.aws import client
    from pulse_common.metrics import serve_metrics
    from pulse_enricher.daemon import Daemon
    from pulse_enricher.metrics import multiprocess_registry

    settings = _settings()
    log = configure_logging("enricher", settings.log_level, secrets=secret_values(settings))
    daemon = Daemon(settings)
    try:
        daemon.prepare_metrics_dir()
        import os

        # Set before any metric is created in this process or its children.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(daemon.metrics_dir)
        dynamodb = client("dynamodb", settings.stack, max_attempts=1, read_timeout=3, connect_timeout=2)
        ready_cache: dict[str, object] = {"at": 0.0, "value": (False, "starting")}

        def readiness() -> tuple[bool, str]:
            if not daemon.alive():
                return False, "kcl daemon not running"
            now = time.monotonic()
            if now - float(ready_cache["at"]) > 5:
                try:
                    dynamodb.describe_table(TableName=settings.stack.table_name)
                    ready_cache["value"] = (True, "ok")
                except Exception as exc:  # noqa: BLE001 - not ready, say why
                    ready_cache["value"] = (False, f"dynamodb: {type(exc).__name__}")
                ready_cache["at"] = now
            return ready_cache["value"]  # type: ignore[return-value]

        server = None
        if args.metrics:
            server = serve_metrics(settings.metrics_port, host=settings.metrics_host,
                                   readiness_check=readiness, registry_factory=multiprocess_registry)

        def on_signal(signum: int, _frame) -> None:
            log.info("signal received; shutting the daemon down gracefully",
                     extra={"signal": signal.Signals(signum).name})
            daemon.request_stop(signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        return daemon.supervise(daemon.start, on_exit=server.shutdown if server is not None else lambda: None)
    finally:
        daemon.cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-enricher", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="start and supervise the KCL daemon")
    p_run.add_argument("--no-metrics", dest="metrics", action="store_false",
                       help="do not serve /metrics, /healthz, /readyz")
    p_run.set_defaults(func=cmd_run)
    sub.add_parser("properties", help="print the generated KCL properties").set_defaults(func=cmd_properties)
    sub.add_parser("processor", help="the per-shard processor (launched by the daemon)").set_defaults(
        func=cmd_processor
    )
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        logging.getLogger("pulse.enricher").exception("pulse-enricher failed")
        print(f"pulse-enricher: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
