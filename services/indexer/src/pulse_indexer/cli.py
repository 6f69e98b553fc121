"""pulse-indexer: run | properties | processor | migrate | reindex.

  pulse-indexer run        consume the posts table's DynamoDB stream into OpenSearch (until SIGTERM):
                           applies the index template, then runs the KCL 3 MultiLangDaemon with AWS's
                           DynamoDB Streams Kinesis Adapter and one `pulse-indexer processor` per shard;
                           serves /metrics, /healthz, /readyz on PULSE_INDEXER_METRICS_PORT (9103)
  pulse-indexer properties print the generated KCL properties file
  pulse-indexer processor  the per-shard processor the daemon launches (stdout is the KCL protocol)
  pulse-indexer migrate    install / upgrade the index template (mappings/posts.template.json)
  pulse-indexer reindex    parallel scan of the table into OpenSearch, with a progress bar

Configuration comes from the environment (`set -a; . .local/stack.env; set +a` locally):
PULSE_* for the stack (see pulse_common.settings.StackSettings) and PULSE_INDEXER_* for the indexer
(see pulse_indexer.settings.IndexerSettings).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys

from pulse_common.logging import configure_logging
from pulse_common.metrics import serve_metrics
from pulse_common.retry import RetryPolicy
from pulse_common.settings import secret_values
from pulse_indexer.settings import IndexerSettings


def cmd_run(settings: IndexerSettings, args: argparse.Namespace) -> int:
    import os
    import threading
    import time

    from pulse_common.aws import client
    from pulse_common.kcl import KclDaemon
    from pulse_common.opensearch import opensearch_client
    from pulse_indexer import daemon as kcl_daemon
    from pulse_indexer.metrics import multiprocess_registry
    from pulse_indexer.migrate import NewerMappingInstalled, apply_migrations

    log = configure_logging("indexer", settings.log_level, secrets=secret_values(settings))
    daemon = KclDaemon(
        config_dir=settings.properties_dir,
        metrics_dir=settings.metrics_dir,
        shutdown_grace_ms=settings.shutdown_grace_ms,
    )
    stop = threading.Event()
    try:
        daemon.prepare_metrics_dir()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(daemon.metrics_dir)  # before any child's metric
        search = opensearch_client(settings.stack, timeout_s=5)
        dynamodb = client("dynamodb", settings.stack, max_attempts=1, read_timeout=3, connect_timeout=2)
        ready: dict[str, object] = {"at": 0.0, "value": (False, "starting")}

        def readiness() -> tuple[bool, str]:
            if not daemon.alive():
                return False, "kcl daemon not running"
            if time.monotonic() - float(ready["at"]) > 5:
                problems = []
                try:
                    if not search.ping():
                        problems.append("opensearch: ping failed")
                except Exception as exc:  # noqa: BLE001 - reported
                    problems.append(f"opensearch: {type(exc).__name__}")
                try:
                    dynamodb.describe_table(TableName=settings.app_name)
                except Exception as exc:  # noqa: BLE001 - reported (the KCL creates it at start)
                    problems.append(f"lease table: {type(exc).__name__}")
                ready["value"] = (
                    (False, "; ".join(problems))
                    if problems
                    else (True, f"ok: worker {settings.worker_id}, application {settings.app_name}")
                )
                ready["at"] = time.monotonic()
            return ready["value"]  # type: ignore[return-value]

        server = None
        if settings.metrics_port:
            server = serve_metrics(
                settings.metrics_port,
                host=settings.metrics_host,
                readiness_check=readiness,
                registry_factory=multiprocess_registry,
            )

        def on_signal(signum: int, _frame: object) -> None:
            log.info("stopping", extra={"signal": signum})
            stop.set()
            daemon.request_stop(signal.SIGTERM)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if not args.no_migrate:
            # Never write before the template is in place: an index auto-created without it would get
            # dynamic mappings. OpenSearch down at start = wait here (not ready), retrying with backoff.
            delays = RetryPolicy(settings.retry_base_s, settings.retry_cap_s).delays()
            while not stop.is_set():
                try:
                    apply_migrations(
                        settings.stack,
                        client=search,
                        mappings_dir=settings.mappings_dir,
                        shards=settings.index_shards,
                        replicas=settings.index_replicas,
                        refresh_interval=settings.refresh_interval,
                    )
                    break
                except NewerMappingInstalled as exc:
                    log.info("a newer mapping is installed; indexing with it", extra={"detail": str(exc)})
                    break
                except Exception as exc:  # noqa: BLE001 - OpenSearch may be down: wait for it
                    delay = next(delays)
                    log.warning(
                        "could not apply the index template; retrying",
                        extra={"error": str(exc)[:300], "delay_s": round(delay, 2)},
                    )
                    stop.wait(delay)
        if stop.is_set():
            return 0
        return daemon.supervise(
            lambda: kcl_daemon.start(settings, daemon, kcl_daemon.stream_arn(settings)),
            on_exit=server.shutdown if server is not None else lambda: None,
        )
    finally:
        daemon.cleanup()


def cmd_processor(settings: IndexerSettings, _args: argparse.Namespace) -> int:
    from pulse_indexer.processor import main as processor_main

    return processor_main(settings)


def cmd_properties(settings: IndexerSettings, _args: argparse.Namespace) -> int:
    from pulse_indexer.daemon import stream_arn
    from pulse_indexer.properties import render_properties

    sys.stdout.write(render_properties(settings, stream_arn(settings)))
    return 0


def cmd_migrate(settings: IndexerSettings, args: argparse.Namespace) -> int:
    from pulse_indexer.migrate import apply_migrations

    configure_logging("indexer", settings.log_level, secrets=secret_values(settings))
    result = apply_migrations(
        settings.stack,
        force=args.force,
        bootstrap=not args.no_bootstrap,
        mappings_dir=settings.mappings_dir,
        shards=settings.index_shards,
        replicas=settings.index_replicas,
        refresh_interval=settings.refresh_interval,
    )
    print(json.dumps(result, indent=2))
    return 1 if result["needs_reindex"] else 0


def cmd_reindex(settings: IndexerSettings, args: argparse.Namespace) -> int:
    from pulse_indexer.migrate import apply_migrations
    from pulse_indexer.reindex import reindex

    configure_logging("indexer", settings.log_level, secrets=secret_values(settings))
    apply_migrations(
        settings.stack,
        mappings_dir=settings.mappings_dir,
        shards=settings.index_shards,
        replicas=settings.index_replicas,
        refresh_interval=settings.refresh_interval,
    )
    result = reindex(
        settings,
        segments=args.segments,
        version_type=args.version_type,
        progress=not args.no_progress,
    )
    print(json.dumps(result.__dict__))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pulse-indexer", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser(
        "run", help="run the KCL daemon on the table's stream into OpenSearch until SIGTERM"
    )
    p_run.add_argument("--no-migrate", action="store_true", help="do not apply the index template first")
    p_run.set_defaults(func=cmd_run)
    sub.add_parser("properties", help="print the generated KCL properties (needs the table)").set_defaults(
        func=cmd_properties
    )
    sub.add_parser(
        "processor", help="the per-shard processor the KCL daemon launches (stdout is the protocol)"
    ).set_defaults(func=cmd_processor)
    p_mig = sub.add_parser("migrate", help="install/upgrade the index template from mappings/")
    p_mig.add_argument("--force", action="store_true", help="re-apply even if the version is current")
    p_mig.add_argument(
        "--no-bootstrap", action="store_true", help="do not create the current month's index when none exists"
    )
    p_mig.set_defaults(func=cmd_migrate)
    p_re = sub.add_parser("reindex", help="parallel scan of the table into OpenSearch")
    p_re.add_argument("--segments", type=int, default=None, help="parallel scan segments (default 4)")
    p_re.add_argument(
        "--version-type",
        choices=["external", "external_gte"],
        default="external_gte",
        help="external_gte rewrites equal versions (mapping changes); external skips them",
    )
    p_re.add_argument("--no-progress", action="store_true")
    p_re.set_defaults(func=cmd_reindex)
    args = parser.parse_args(argv)
    settings = IndexerSettings()
    return args.func(settings, args)


if __name__ == "__main__":
    sys.exit(main())
