"""pulse-demo: the whole pipeline on the local stack with the bundled sample.

Starts the stack, the enricher (real KCL daemon), the indexer and the dashboard, replays
data/sample through the producer, waits until every post is searchable, prints a summary,
then serves the dashboard until Ctrl-C (or stops at once with DEMO_EXIT=1). The last line is
`demo: produced=<n> enriched=<n> indexed=<n> dead_letter=<n> seconds=<s>`.

By default it uses the stack's shared names and fixed ports (dashboard 8080). For a run next to
others (the browser test): `--port 0` serves the dashboard on a free port and `--name <prefix>`
gives the run its own stream, table, queue, index alias, KCL application, metrics ports and logs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
import urllib.request
from pathlib import Path

from pulse_common.settings import StackSettings
from pulse_devstack import cli, procs
from pulse_devstack.paths import LOG_DIR, REPO_ROOT
from pulse_devstack.pipeline import Pipeline, dead_letter_count, search_count, table_count
from pulse_devstack.resources import reset_all


def find_sample() -> Path:
    for candidate in sorted((REPO_ROOT / "data" / "sample").glob("*.jsonl*")):
        return candidate
    raise procs.StackError("no sample under data/sample/; run `make sample`")


def wait_until_searchable(
    stack: StackSettings, expected: int, pipeline: Pipeline, timeout_s: float
) -> tuple[int, int]:
    deadline = time.monotonic() + timeout_s
    last_report = 0.0
    enriched = indexed = 0
    while time.monotonic() < deadline:
        pipeline.check_alive()
        enriched, indexed = table_count(stack), search_count(stack)
        if enriched >= expected and indexed >= expected:
            return enriched, indexed
        if time.monotonic() - last_report > 3:
            print(f"demo: waiting… enriched={enriched}/{expected} indexed={indexed}/{expected}", flush=True)
            last_report = time.monotonic()
        time.sleep(0.5)
    raise procs.StackError(
        f"posts not all searchable after {timeout_s:.0f}s (enriched={enriched} indexed={indexed} "
        f"of {expected}); see .local/logs/enricher.log and indexer.log"
    )


def print_insights(stack: StackSettings) -> None:
    """A few lines of what the sample says, straight from OpenSearch."""
    query = {
        "size": 0,
        "aggs": {
            "products": {"terms": {"field": "products", "size": 10}},
            "sentiment": {"terms": {"field": "sentiment.label", "size": 3}},
            "aspects": {
                "nested": {"path": "aspects"},
                "aggs": {
                    "names": {
                        "terms": {"field": "aspects.aspect", "size": 6},
                        "aggs": {"polarity": {"terms": {"field": "aspects.polarity", "size": 3}}},
                    }
                },
            },
        },
    }
    req = urllib.request.Request(
        f"{stack.opensearch_url.rstrip('/')}/{stack.opensearch_index_alias}/_search",
        data=json.dumps(query).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            aggs = json.load(resp)["aggregations"]
    except Exception as exc:  # noqa: BLE001 - the summary is a courtesy, the demo line is the contract
        print(f"demo: (insights unavailable: {exc})")
        return
    products = ", ".join(f"{b['key']}={b['doc_count']}" for b in aggs["products"]["buckets"])
    sentiment = ", ".join(f"{b['key']}={b['doc_count']}" for b in aggs["sentiment"]["buckets"])
    print(f"demo: posts by product: {products}")
    print(f"demo: sentiment: {sentiment}")
    for bucket in aggs["aspects"]["names"]["buckets"]:
        pol = {b["key"]: b["doc_count"] for b in bucket["polarity"]["buckets"]}
        print(
            f"demo: aspect {bucket['key']:<14} +{pol.get('positive', 0):<5} -{pol.get('negative', 0):<5}"
            f" ={pol.get('neutral', 0)}"
        )


_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def own_resources(prefix: str) -> dict[str, str]:
    """The stack env overrides that give a demo run its own resources (see --name)."""
    return {
        "PULSE_STREAM_NAME": f"{prefix}-posts",
        "PULSE_TABLE_NAME": f"{prefix}-posts",
        "PULSE_DLQ_NAME": f"{prefix}-dead-letter",
        "PULSE_OPENSEARCH_INDEX_ALIAS": f"{prefix}-posts",
        "PULSE_ENRICHER_APPLICATION_NAME": f"{prefix}-enricher",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-demo",
        description="Run the whole Pulse pipeline locally on the bundled sample. "
        "Set DEMO_EXIT=1 to stop after the summary instead of serving the dashboard.",
    )
    parser.add_argument("--sample", type=Path, default=None, help="replay file (default: data/sample)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for indexing")
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the stream, table, checkpoints and indices of an earlier run (default: start clean)",
    )
    parser.add_argument(
        "--port", type=int, default=8080, help="dashboard port (default 8080; 0 = any free port)"
    )
    parser.add_argument(
        "--name",
        metavar="PREFIX",
        help="run on resources of its own: <PREFIX>-posts stream, table and index alias, "
        "<PREFIX>-dead-letter queue, <PREFIX>-enricher KCL application, free metrics ports, logs under "
        ".local/logs/<PREFIX>/ (default: the stack's shared names and ports)",
    )
    parser.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    args = parser.parse_args(argv)
    if args.name is not None and not _NAME.match(args.name):
        parser.error("--name: lower-case letters, digits and '-', at most 40 characters")
    exit_after = os.environ.get("DEMO_EXIT", "") not in ("", "0")
    started = time.monotonic()

    already_up = bool(cli.read_stack_env())
    if cli.main(["up"] if args.no_prometheus else ["up", "--prometheus"]) != 0:
        return 1
    env = cli.read_stack_env()
    if args.name:
        env.update(own_resources(args.name))
    os.environ.update(env)
    stack = StackSettings()
    if not args.keep_data:
        print("demo: starting from a clean stream, table, queue and index")
        reset_all(stack, enricher_application=env.get("PULSE_ENRICHER_APPLICATION_NAME", "pulse-enricher"))
    pipeline = Pipeline(stack_env=env, log_dir=LOG_DIR / args.name if args.name else LOG_DIR)
    port = args.port or procs.free_port()
    # SIGTERM ends the demo like Ctrl-C, so the services (and the KCL's children) are stopped.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    def metrics_port(service: str) -> dict[str, str]:  # an own run: free ports, else the defaults
        return {f"PULSE_{service}_METRICS_PORT": str(procs.free_port())} if args.name else {}

    try:
        pipeline.start_indexer(**metrics_port("INDEXER"))
        pipeline.start_enricher(**metrics_port("ENRICHER"))
        pipeline.start_dashboard(PULSE_DASHBOARD_PORT=str(port))
        sample = args.sample or find_sample()
        shown = sample.relative_to(REPO_ROOT) if sample.is_relative_to(REPO_ROOT) else sample
        print(f"demo: replaying {shown}")
        summary = pipeline.run_producer("replay", str(sample))
        produced = int(summary.get("put", 0))
        enriched, indexed = wait_until_searchable(stack, produced, pipeline, args.timeout)
        print_insights(stack)
        dashboard_port = pipeline.services["dashboard"].env.get("PULSE_DASHBOARD_PORT", "8080")
        print(f"demo: dashboard  http://127.0.0.1:{dashboard_port}/")
        if env.get("PULSE_PROMETHEUS_URL"):
            print(f"demo: prometheus {env['PULSE_PROMETHEUS_URL']}/")
        print(f"demo: opensearch {stack.opensearch_url}/")
        line = (
            f"demo: produced={produced} enriched={enriched} indexed={indexed} "
            f"dead_letter={dead_letter_count(stack)} seconds={time.monotonic() - started:.1f}"
        )
        if exit_after:
            pipeline.stop()
            if not already_up:
                cli.main(["down"])
            print(line, flush=True)
            return 0
        print(line, flush=True)
        while True:
            pipeline.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\ndemo: stopping…", file=sys.stderr)
        return 0
    except procs.StackError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    finally:
        pipeline.stop()


if __name__ == "__main__":
    sys.exit(main())
