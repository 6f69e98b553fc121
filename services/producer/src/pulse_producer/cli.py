"""pulse-producer: read posts from a source and put them on the Kinesis stream.

Every option is also a setting (env prefix PULSE_PRODUCER_, stack names PULSE_...).
On a finite source it exits 0 once everything is flushed and prints one JSON summary line
to stdout: {"received":..,"put":..,"failed":..,"skipped":..,"dead_letter":..,"outcomes":{"posts":..,
"deletes":..,"hides":..,"unhides":..,"user_compliance":..},"refused":{<reason>:..}}; `replay` also
prints those counts as one readable line to stderr.
SIGTERM/SIGINT: stop reading, flush everything already read, print the summary, exit 0.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulse_common.logging import configure_logging, redact
from pulse_common.settings import secret_values

from .settings import ProducerSettings

EXIT_OK = 0
EXIT_FAILED = 1  # something could not be delivered, or a source failed
EXIT_USAGE = 2  # bad arguments, missing stream, bad credentials


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulse-producer",
        description="Normalize posts from a source into Kinesis records (envelope JSON, key = post id). "
        "Settings come from PULSE_PRODUCER_* and PULSE_* environment variables; options override them.",
    )
    parser.add_argument("--stream", help="Kinesis stream name (default: PULSE_STREAM_NAME)")
    parser.add_argument(
        "--metrics-port", type=int, help="Prometheus port, 0 = off (PULSE_PRODUCER_METRICS_PORT)"
    )
    parser.add_argument("--linger-ms", type=int, help="max wait before a partial batch is sent (default 100)")
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING (PULSE_PRODUCER_LOG_LEVEL)")
    sub = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")

    p = sub.add_parser(
        "replay",
        help="replay JSON-lines files (X v1.1, X v2, twarc/twarc2, Jetstream; gzip or plain)",
        description="Replay files (or '-' for stdin). The format is detected per line; gzip by magic bytes. "
        "A post's version is when it was observed (twarc2's retrieved_at, Jetstream's time_us, else its "
        "created_at): replaying a file twice changes nothing, a later collection wins. Prints counts by "
        "outcome at the end (posts, deletes, compliance events, refused by reason).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="a file path, or - for stdin")
    p.add_argument("--rate", type=float, help="posts per second (default: as fast as possible)")
    p.add_argument("--loop", action="store_true", help="start over at the end, until stopped")
    p.add_argument(
        "--compliance-ids", choices=("tweets", "users", "auto"), default="auto",
        help="what the ids of twarc2 batch-compliance lines are (auto: 'users' when the file name "
        "contains 'user', else 'tweets')",
    )

    p = sub.add_parser(
        "synthetic",
        help="generate realistic posts (load tests)",
        description="Deterministic generator of realistic posts with ids synthetic:<n>; "
        "created_at and version are the generation time.",
    )
    p.add_argument("--rate", type=float, help="posts per second (default: as fast as possible)")
    p.add_argument("--count", type=int, help="stop after N posts (PULSE_PRODUCER_COUNT; default: endless)")
    p.add_argument("--seed", type=int, help="generator seed (PULSE_PRODUCER_SEED, default 12)")

    p = sub.add_parser(
        "x",
        help="the X API v2 filtered stream (needs PULSE_PRODUCER_X_BEARER_TOKEN)",
        description="Sync stream rules from the tracking config, then read the filtered stream, "
        "reconnecting as X requires. The bearer token comes only from PULSE_PRODUCER_X_BEARER_TOKEN.",
    )
    p.add_argument("--api-base-url", help="default https://api.x.com (PULSE_PRODUCER_X_API_BASE_URL)")
    p.add_argument("--no-sync-rules", action="store_true", help="use the rules already in force")

    p = sub.add_parser(
        "x-search",
        help="backfill from X API v2 search (recent, or --archive) through tweepy; needs "
        "PULSE_PRODUCER_X_BEARER_TOKEN",
        description="Search X for the tracking config's terms (one query per stream rule) between --since "
        "and --until, page by page with tweepy's Paginator, into the same stream. A checkpoint file keeps "
        "the next_token of the first page not yet sent, so a restart resumes there; rate limits wait "
        "until X's reset time.",
    )
    p.add_argument("--since", type=_utc_time, help="start_time, ISO-8601 (default: X's default, 7 days ago)")
    p.add_argument("--until", type=_utc_time, help="end_time, ISO-8601 (default: now)")
    p.add_argument("--archive", action="store_true", help="full-archive search (needs that access level)")
    p.add_argument("--checkpoint-file", help="default PULSE_PRODUCER_X_SEARCH_CHECKPOINT_FILE")

    p = sub.add_parser(
        "bluesky",
        help="Bluesky Jetstream (app.bsky.feed.post), filtered locally by the tracking config",
        description="Read Jetstream commits; posts that mention a tracked brand go to Kinesis, deletes "
        "travel as delete events. The cursor (time_us) is saved so a restart resumes without gaps.",
    )
    p.add_argument("--jetstream-url", help="default wss://jetstream2.us-east.bsky.network/subscribe")
    p.add_argument("--cursor-file", help="where the cursor is kept (PULSE_PRODUCER_JETSTREAM_CURSOR_FILE)")
    return parser


def _utc_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {value!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _settings(args: argparse.Namespace) -> ProducerSettings:
    settings = ProducerSettings()
    updates: dict[str, Any] = {}
    for arg, field in (
        ("metrics_port", "metrics_port"),
        ("linger_ms", "linger_ms"),
        ("log_level", "log_level"),
        ("rate", "rate"),
        ("seed", "seed"),
        ("count", "count"),
        ("api_base_url", "x_api_base_url"),
        ("jetstream_url", "jetstream_url"),
        ("cursor_file", "jetstream_cursor_file"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            updates[field] = value
    if getattr(args, "loop", False):
        updates["loop"] = True
    if getattr(args, "no_sync_rules", False):
        updates["x_sync_rules"] = False
    if args.stream:
        updates["stack"] = settings.stack.model_copy(update={"stream_name": args.stream})
    return settings.model_copy(update=updates)


def build_source(args: argparse.Namespace, settings: ProducerSettings) -> Any:
    if args.source == "replay":
        from .sources.replay import ReplaySource

        for path in args.files:
            if path != "-" and not Path(path).is_file():
                raise UsageError(f"no such file: {path}")
        return ReplaySource(args.files, rate=settings.rate, loop=settings.loop,
                            compliance_ids=getattr(args, "compliance_ids", "auto"))
    if args.source == "synthetic":
        from .sources.synthetic import SyntheticSource

        return SyntheticSource(rate=settings.rate, count=settings.count, seed=settings.seed)
    tracking = _tracking(settings)
    if args.source == "x":
        from .sources.x_stream import XStreamSource

        if settings.x_bearer_token is None or not settings.x_bearer_token.get_secret_value():
            raise UsageError("the x source needs a bearer token in PULSE_PRODUCER_X_BEARER_TOKEN")
        return XStreamSource.from_settings(settings, tracking)
    if args.source == "x-search":
        from .sources.x_search import XSearchSource

        if settings.x_bearer_token is None or not settings.x_bearer_token.get_secret_value():
            raise UsageError("the x-search source needs a bearer token in PULSE_PRODUCER_X_BEARER_TOKEN")
        if args.since and args.until and args.since >= args.until:
            raise UsageError("--since must be before --until")
        return XSearchSource(
            bearer_token=settings.x_bearer_token.get_secret_value(), tracking=tracking, since=args.since,
            until=args.until, archive=args.archive,
            checkpoint_file=args.checkpoint_file or settings.x_search_checkpoint_file,
            exclude_retweets=settings.x_exclude_retweets,
        )
    if args.source == "bluesky":
        from .sources.bluesky import JetstreamSource

        return JetstreamSource.from_settings(settings, tracking)
    raise UsageError(f"unknown source {args.source}")


def _tracking(settings: ProducerSettings):
    from pulse_common.tracking import TrackingConfigError, load_tracking_config

    try:
        return load_tracking_config(settings.stack.tracking_config)
    except TrackingConfigError as exc:
        raise UsageError(str(exc)) from exc


class UsageError(Exception):
    """A problem the user must fix; printed without a traceback, exit 2."""


def _check_stream(kinesis: Any, stream: str) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from pulse_common.retry import RetryPolicy, aws_error_code

    try:
        RetryPolicy(max_attempts=4).call(lambda: kinesis.describe_stream_summary(StreamName=stream))
    except ClientError as exc:
        code = aws_error_code(exc)
        if code == "ResourceNotFoundException":
            raise UsageError(
                f"Kinesis stream {stream!r} does not exist (create it, or set PULSE_STREAM_NAME)"
            ) from None
        raise UsageError(f"cannot reach Kinesis stream {stream!r}: {code}: {exc}") from exc
    except BotoCoreError as exc:
        raise UsageError(f"cannot reach Kinesis for stream {stream!r}: {exc}") from exc


def _readiness(kinesis: Any, stream: str):
    cache: dict[str, Any] = {"at": 0.0, "result": (False, "not checked")}
    lock = threading.Lock()

    def check() -> tuple[bool, str]:
        with lock:
            if time.monotonic() - cache["at"] > 5:
                try:
                    kinesis.describe_stream_summary(StreamName=stream)
                    cache["result"] = (True, "ok")
                except Exception as exc:  # noqa: BLE001 - not ready, say why
                    cache["result"] = (False, f"kinesis: {type(exc).__name__}")
                cache["at"] = time.monotonic()
            return cache["result"]

    return check


def run(args: argparse.Namespace, settings: ProducerSettings) -> int:
    from pulse_common.aws import client
    from pulse_common.contracts.dead_letter import DeadLetterWriter
    from pulse_common.metrics import serve_metrics

    from . import metrics
    from .runner import Runner
    from .sink import KinesisSink

    log = configure_logging("producer", settings.log_level, secrets=secret_values(settings))
    stack = settings.stack
    kinesis = client("kinesis", stack, parameter_validation=False, as_built=("PutRecords",),
                     as_parsed=("PutRecords",))
    _check_stream(kinesis, stack.stream_name)
    source = build_source(args, settings)
    server = None
    if settings.metrics_port:
        server = serve_metrics(
            settings.metrics_port,
            host=settings.metrics_host,
            readiness_check=_readiness(kinesis, stack.stream_name),
        )
    sink = KinesisSink(
        kinesis,
        stack.stream_name,
        dead_letter=DeadLetterWriter(client("sqs", stack), stack.dlq_name, on_sent=metrics.count_dead_letter),
        max_records=settings.batch_max_records,
        max_bytes=settings.batch_max_bytes,
        retry_base_s=settings.retry_base_s,
        retry_cap_s=settings.retry_cap_s,
        max_entry_attempts=settings.max_entry_attempts,
    )
    runner = Runner(source, sink, queue_size=settings.queue_size, linger_s=settings.linger_ms / 1000)
    signals = {"count": 0}

    def on_signal(signum: int, _frame: Any) -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            os.write(2, b'{"level":"error","msg":"second signal: exiting without flushing"}\n')
            os._exit(EXIT_FAILED)
        log.info("signal received; flushing and stopping", extra={"signal": signal.Signals(signum).name})
        runner.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info(
        "producer starting",
        extra={"source": args.source, "stream": stack.stream_name, "endpoint": stack.aws_endpoint_url},
    )
    started = time.monotonic()
    summary = runner.run()
    if server is not None:
        server.shutdown()
    result = summary.as_dict()
    log.info("producer finished", extra={**result, "seconds": round(time.monotonic() - started, 3)})
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    if args.source == "replay":
        print(outcome_line(result), file=sys.stderr)
    if summary.error is not None:
        print(f"pulse-producer: {redact(summary.error)}", file=sys.stderr)
        return EXIT_USAGE if _is_usage(runner) else EXIT_FAILED
    return EXIT_OK if summary.failed == 0 else EXIT_FAILED


def outcome_line(result: dict[str, Any]) -> str:
    """The replay's counts by outcome, readable: posts, deletes, compliance events, refused by reason."""
    outcomes = result.get("outcomes") or {}
    refused = result.get("refused") or {}
    parts = [f"{name}={outcomes.get(name, 0)}" for name in ("posts", "deletes", "hides", "unhides",
                                                            "user_compliance")]
    reasons = " ".join(f"{reason}={n}" for reason, n in sorted(refused.items()))
    return f"replay: {' '.join(parts)} refused={sum(refused.values())}" + (f" ({reasons})" if reasons else "")


def _is_usage(runner: Any) -> bool:
    """Problems the user must fix (token, access, rules, missing stream): exit 2, not 1."""
    from .sources.x_stream import XStreamError

    if isinstance(runner.reader_error, XStreamError):
        return True
    return runner.sink_error is not None and runner.sink_error.usage


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
    except Exception as exc:  # noqa: BLE001 - pydantic's message names the bad variable
        print(f"pulse-producer: invalid settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run(args, settings)
    except UsageError as exc:
        print(f"pulse-producer: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
