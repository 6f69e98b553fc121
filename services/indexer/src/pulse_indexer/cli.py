"""pulse-indexer: run | migrate | reindex.

  pulse-indexer run        consume the posts table's DynamoDB stream into OpenSearch (until SIGTERM)
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
from pulse_common.retry import backoff_delays
from pulse_common.settings import secret_values
from pulse_indexer.settings import IndexerSettings


def cmd_run(settings: IndexerSettings, args: argparse.Namespace) -> int:
    from pulse_indexer.migrate import NewerMappingInstalled, apply_migrations
    from pulse_indexer.worker import Worker

    log = configure_logging("indexer", settings.log_level, secrets=secret_values(settings))
    worker = Worker(settings)

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"signal": signum})
        worker.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if settings.metrics_port:
        serve_metrics(settings.metrics_port, readiness_check=worker.readiness)
    if not args.no_migrate:
        # Never write before the template is in place: an index auto-created without it would get
        # dynamic mappings. OpenSearch down at start = wait here (not ready), retrying with backoff.
        delays = backoff_delays(settings.retry_base_s, settings.retry_cap_s)
        while not worker.stop_event.is_set():
            try:
                apply_migrations(
                    settings.stack,
                    client=worker.search,
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
                worker.stop_event.wait(delay)
        if worker.stop_event.is_set():
            return 0
    worker.run()
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
    p_run = sub.add_parser("run", help="consume the table's stream into OpenSearch until SIGTERM")
    p_run.add_argument("--no-migrate", action="store_true", help="do not apply the index template first")
    p_run.set_defaults(func=cmd_run)
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
