"""Cost per post: Pulse-owned CPU and the AWS request units a post costs, and the dollars they make.

Runs the whole pipeline (the real producer at a steady `--rate` posts/s -> Kinesis -> enricher (KCL
daemon + processors) -> DynamoDB -> indexer (KCL daemon + DynamoDB Streams adapter + processors) ->
OpenSearch) on its own stream, table, queue and index, after `--warmup-seconds` unmeasured, then
measures `--runs` windows of `--seconds` each. Prints

  bench: pulse_cpu_ms_per_post <v>          CPU (user + system, from /proc) of every Pulse process per
                                            post put: the producer, the enricher's service, KCL JVM and
                                            per-shard processors, the indexer's; not the AWS emulator,
                                            not OpenSearch. The median of the windows.
  bench: producer_cpu_ms_per_post <v>       the same, one service (medians of the windows)
  bench: enricher_cpu_ms_per_post_pipeline <v>
  bench: indexer_cpu_ms_per_post <v>
  bench: kinesis_put_units_per_post <v>     request units per post, counted by the emulator from the
  bench: dynamodb_write_units_per_post <v>  requests the services sent over all windows
  bench: dynamodb_read_units_per_post <v>   (pulse_devstack.request_units: DynamoDB's size rounding,
  bench: streams_reads_per_post <v>         the KCL's lease tables included)
  bench: opensearch_bulk_bytes_per_post <v>
  bench: aws_usd_per_million_posts <v>      bench/cost_model.py with bench/prices_us_east_1.json at
                                            `--rate`: Kinesis, DynamoDB, Streams, SQS, Fargate tasks
  bench: reference_aws_usd_per_million_posts <v>  the reference design (put_record per post, put_item
                                            per post, one index request per document): the same request
                                            units without the enricher's reads, and the CPU of its
                                            per-record calls, measured here against the batched calls
  bench: reference_cost_ratio <v>           reference / Pulse

Needs the emulator's request counting (PULSE_EMULATOR_STATS, which `make bench` sets for the stack it
starts): against a stack started without it, the request-unit lines are missing and the script
exits 1 after the CPU lines.

Run: .venv/bin/python bench/bench_cost.py [--rate 500] [--seconds 30] [--runs 3] [--warmup-seconds 40]
     [--kcl-intervals deployed|local]   (deployed, the default: the KCL daemons react as on AWS)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from bench_e2e import host_loop_seconds
from cost_model import TASK_SIZES, PerPost, load_prices, posts_per_vcpu_second, usd_per_million
from scenarios.check import Options
from scenarios.inputs import replay_lines, sample_docs, write_lines
from scenarios.world import Workspace, wait_producer, wait_until

from pulse_common.kcl import KCL_INTERVALS_MS
from pulse_devstack import procs
from pulse_devstack.pipeline import search_count
from pulse_devstack.session import running_stack

CLK_TCK = os.sysconf("SC_CLK_TCK")
SERVICES = ("producer", "enricher", "indexer")


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class TreeCpu:
    """CPU seconds of a service's whole process tree, per pid, so a window can subtract its start."""

    def __init__(self, root: int) -> None:
        self.root = root

    def pids(self) -> list[int]:
        return [self.root, *procs.descendants(self.root)]

    def sample(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self.pids()}

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())

    def jvm_pids(self) -> set[int]:
        found = set()
        for pid in self.pids():
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "java":
                    found.add(pid)
            except OSError:
                continue
        return found


def spent(before: dict[int, float], after: dict[int, float], only: set[int] | None = None) -> float:
    return sum(value - before.get(pid, 0.0) for pid, value in after.items() if only is None or pid in only)


class Handled:
    """Posts each service handled so far: put to Kinesis, written to the posts table, indexed."""

    def __init__(self, endpoint: str, put_key: str, written_key: str, metrics_port: str) -> None:
        self.endpoint, self.put_key, self.written_key, self.port = (
            endpoint,
            put_key,
            written_key,
            metrics_port,
        )

    def read(self) -> dict[str, float]:
        self.units = request_units(self.endpoint)  # the same snapshot for the counts and the units
        units = self.units or {}
        indexed = scrape(self.port, "pulse_indexer_docs_indexed_total") + scrape(
            self.port, "pulse_indexer_docs_deleted_total"
        )
        return {
            "producer": units.get(self.put_key, 0.0),
            "enricher": units.get(self.written_key, 0.0),
            "indexer": indexed,
        }


def request_units(endpoint: str) -> dict[str, float] | None:
    try:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/_pulse/request-units", timeout=10) as resp:
            return json.load(resp)
    except (urllib.error.URLError, ValueError):
        return None


def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0)}


def scrape(port: str, name: str) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return 0.0
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith(name + " ") or line.startswith(name + "{")
    )


def per_post_units(units: dict[str, float], posts_table: str, handled: dict[str, float]) -> PerPost:
    """Units per post, each over the posts of the service that spent it (a service that falls behind
    handles fewer posts in the windows than were put): Kinesis and SQS over the posts put, the posts
    table and the enricher's KCL tables over the posts written, the DynamoDB stream reads and the
    indexer's KCL tables over the documents indexed."""

    def total(prefix: str, unit: str, *, tables: Callable[[str], bool] = lambda _: True) -> float:
        return sum(
            value
            for key, value in units.items()
            if key.split(":", 2)[0] == prefix
            and key.split(":", 2)[2] == unit
            and tables(key.split(":", 2)[1])
        )

    put, written, indexed = (max(1.0, handled[name]) for name in SERVICES)
    indexer_app = f"{posts_table}-indexer"

    def enricher_kcl(table: str) -> bool:
        return table != posts_table and not table.startswith(indexer_app)

    def indexer_kcl(table: str) -> bool:
        return table.startswith(indexer_app)

    return PerPost(
        kinesis_put_units=total("kinesis", "put_payload_units") / put,
        kinesis_put_bytes=total("kinesis", "put_bytes") / put,
        kinesis_records=total("kinesis", "put_records") / put,
        posts_write_units=total("dynamodb", "write_units", tables=lambda t: t == posts_table) / written,
        posts_read_units=total("dynamodb", "read_units", tables=lambda t: t == posts_table) / written,
        kcl_write_units=total("dynamodb", "write_units", tables=enricher_kcl) / written
        + total("dynamodb", "write_units", tables=indexer_kcl) / indexed,
        kcl_read_units=total("dynamodb", "read_units", tables=enricher_kcl) / written
        + total("dynamodb", "read_units", tables=indexer_kcl) / indexed,
        streams_reads=total("streams", "get_records") / indexed,
        sqs_requests=total("sqs", "requests") / put,
    )


def backlog(ws: Workspace, endpoint: str) -> float:
    """Posts put but not yet searchable (no request to the emulator but the counter's own)."""
    put = (request_units(endpoint) or {}).get(f"kinesis:{ws.stack.stream_name}:put_records", 0.0)
    return put - search_count(ws.stack)


def reference_extra_cpu_ms(ws: Workspace, samples: int = 600) -> dict[str, float]:
    """Client CPU per post the reference design's per-record calls cost on top of Pulse's batched
    ones, measured in this process against the same stores: put_record vs put_records (500),
    put_item vs batch_write_item (25), one index request vs _bulk (500)."""
    from pulse_common.aws import client
    from pulse_common.contracts.items import LIVE_ITEMS, from_item
    from pulse_common.opensearch import opensearch_client

    stack = ws.stack
    kinesis, dynamodb = client("kinesis", stack), client("dynamodb", stack)
    page = dynamodb.scan(TableName=stack.table_name, Limit=samples, **LIVE_ITEMS)["Items"]
    items = [{**item, "id": {"S": f"ref:{n}"}} for n, item in enumerate(page)]
    docs = [json.dumps(from_item(item).doc) for item in page]
    search = opensearch_client(stack)
    index = f"{stack.opensearch_index_alias}-costref"

    def timed(fn) -> float:
        started = time.process_time()
        fn()
        return (time.process_time() - started) * 1000 / len(items)

    def kinesis_single() -> None:
        for n, doc in enumerate(docs):
            kinesis.put_record(StreamName=stack.stream_name, Data=doc.encode(), PartitionKey=f"ref:{n}")

    def kinesis_batched() -> None:
        for start in range(0, len(docs), 500):
            kinesis.put_records(
                StreamName=stack.stream_name,
                Records=[
                    {"Data": doc.encode(), "PartitionKey": f"ref:{start + n}"}
                    for n, doc in enumerate(docs[start : start + 500])
                ],
            )

    def dynamodb_single() -> None:
        for item in items:
            dynamodb.put_item(
                TableName=stack.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(id) OR #v < :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": {"N": str(10**15)}},
            )

    def dynamodb_batched() -> None:
        for start in range(0, len(items), 25):
            dynamodb.batch_write_item(
                RequestItems={
                    stack.table_name: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                }
            )

    def search_single() -> None:
        for n, doc in enumerate(docs):
            search.index(
                index=index, id=f"ref:{n}", body=doc, params={"version": 1, "version_type": "external"}
            )

    def search_batched() -> None:
        lines = []
        for n, doc in enumerate(docs):
            lines.append(
                json.dumps(
                    {"index": {"_index": index, "_id": f"ref:{n}", "version": 2, "version_type": "external"}}
                )
            )
            lines.append(doc)
        search.bulk(body="\n".join(lines) + "\n")

    try:
        return {
            "producer": timed(kinesis_single) - timed(kinesis_batched),
            "enricher": timed(dynamodb_single) - timed(dynamodb_batched),
            "indexer": timed(search_single) - timed(search_batched),
        }
    finally:
        search.indices.delete(index=index, ignore_unavailable=True)


def deployed_kcl_intervals() -> dict[str, int]:
    """The env settings that give both KCL daemons a deployment's reaction intervals."""
    aws = {name: deployed for name, (_local, deployed) in KCL_INTERVALS_MS.items()}
    aws["lease_assignment_interval_ms"] = 2 * aws["failover_time_ms"]  # the KCL's default
    return {f"PULSE_{service.upper()}_{name.upper()}": value
            for service in ("enricher", "indexer") for name, value in aws.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0, help="posts/s the producer offers")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measured window")
    parser.add_argument(
        "--runs", type=int, default=3, help="measured windows (the CPU figures are their median)"
    )
    parser.add_argument("--warmup-seconds", type=float, default=40.0, help="unmeasured load first")
    parser.add_argument(
        "--kcl-intervals", choices=("deployed", "local"), default="deployed",
        help="the KCL daemons' lease failover, shard sync and worker-metrics intervals: as a deployment "
        "runs them (the KCL's AWS defaults) or the local stack's short ones, for tests that kill daemons "
        "(before 2026-12-02's fourth session every run used the local ones)",
    )
    args = parser.parse_args()
    procs.exit_on_sigterm()
    if args.kcl_intervals == "deployed":
        for name, value in deployed_kcl_intervals().items():
            os.environ.setdefault(name, str(value))
    os.environ.setdefault("PULSE_EMULATOR_STATS", str(Path(".local/run/emulator-stats.json").resolve()))
    with running_stack(opensearch=True):
        return run(args)


def run(args: argparse.Namespace) -> int:
    log(f"host speed: a 2M-step Python loop takes {host_loop_seconds():.3f} s (lower is faster)")
    log(f"load average {os.getloadavg()[0]:.1f} at start (2 cores shared with other jobs)")
    log(f"KCL intervals: {args.kcl_intervals}")
    opts = Options(base_env=dict(os.environ))
    ws = Workspace("cost", opts.base_env, opts.log_root.parent / "bench-cost")
    ws.create()
    endpoint = ws.env["PULSE_AWS_ENDPOINT_URL"]
    total = int(args.rate * (args.warmup_seconds + args.runs * args.seconds + 5))
    docs = sample_docs()
    start_posts = int(args.rate * 5)
    first = write_lines(ws.log_dir / "start.jsonl", replay_lines(start_posts, f"s{ws.suffix}", docs=docs))
    path = write_lines(ws.log_dir / "load.jsonl", replay_lines(total, f"c{ws.suffix}", docs=docs))
    try:
        indexer = ws.start_indexer()
        enricher = ws.start_enricher()
        # The KCL workers start, take their leases and create the index on a first few posts.
        wait_producer(
            ws.start_producer("replay", str(first), "--rate", str(args.rate), name="producer-start")
        )
        started = time.monotonic()
        wait_until(
            lambda: search_count(ws.stack) >= start_posts, 300, "the first posts to be searchable", step=1
        )
        log(
            f"pipeline started: {start_posts} posts searchable "
            f"{time.monotonic() - started:.0f} s after their put"
        )
        producer = ws.start_producer("replay", str(path), "--rate", str(args.rate), name="producer")
        trees = {
            "producer": TreeCpu(producer.proc.pid),
            "enricher": TreeCpu(enricher.proc.pid),
            "indexer": TreeCpu(indexer.proc.pid),
        }
        metrics_port = indexer.env["PULSE_INDEXER_METRICS_PORT"]
        log(
            f"{total} posts at {args.rate:.0f}/s; {args.warmup_seconds:.0f} s warm-up, then {args.runs} x "
            f"{args.seconds:.0f} s measured"
        )
        time.sleep(args.warmup_seconds)
        log(f"after the warm-up {backlog(ws, endpoint):.0f} posts put are not yet searchable")
        windows, jvm_windows = [], []
        put_key = f"kinesis:{ws.stack.stream_name}:put_records"
        counters = Handled(endpoint, put_key, f"dynamodb:{ws.stack.table_name}:items_written", metrics_port)
        handled_at_start = counters.read()
        units0 = counters.units
        bulk0 = scrape(metrics_port, "pulse_indexer_bulk_bytes_sum")
        for n in range(args.runs):
            ws.check_alive()
            before = {name: tree.sample() for name, tree in trees.items()}
            handled_before = counters.read()
            started = time.monotonic()
            time.sleep(args.seconds)
            after = {name: tree.sample() for name, tree in trees.items()}
            handled_after = counters.read()
            elapsed = time.monotonic() - started
            # Each service's CPU over the posts it handled in the window (a service that falls behind
            # handles fewer than were put).
            posts = {
                name: (handled_after[name] - handled_before[name])
                if units0 is not None
                else args.rate * elapsed
                for name in SERVICES
            }
            cpu = {name: 1000 * spent(before[name], after[name]) / max(1.0, posts[name]) for name in SERVICES}
            jvm = {
                name: 1000
                * spent(before[name], after[name], only=trees[name].jvm_pids())
                / max(1.0, posts[name])
                for name in ("enricher", "indexer")
            }
            windows.append(cpu)
            jvm_windows.append(jvm)
            log(
                f"window {n + 1}: {elapsed:.1f} s; posts handled "
                + " ".join(f"{k} {v:.0f}" for k, v in posts.items())
                + "; ms per post "
                + " ".join(f"{k} {v:.3f}" for k, v in cpu.items())
                + f" (KCL JVMs: enricher {jvm['enricher']:.3f} indexer {jvm['indexer']:.3f})"
                + f" total {sum(cpu.values()):.3f}; behind at its end {backlog(ws, endpoint):.0f} posts; "
                f"load {os.getloadavg()[0]:.1f}"
            )
        handled_at_end = counters.read()
        units1 = counters.units
        bulk1 = scrape(metrics_port, "pulse_indexer_bulk_bytes_sum")
        rss = {name: tree.rss_mb() for name, tree in trees.items()}
        producer.proc.wait(timeout=120)
        wait_until(
            lambda: search_count(ws.stack) >= total + start_posts, 900, "every post to be searchable", step=2
        )
        log(f"all {total} posts searchable; RSS MB " + " ".join(f"{k} {v:.0f}" for k, v in rss.items()))

        totals = sorted(sum(w.values()) for w in windows)
        median = {name: statistics.median(w[name] for w in windows) for name in SERVICES}
        print(f"bench: pulse_cpu_ms_per_post {statistics.median(totals):.3f}", flush=True)
        print(f"bench: producer_cpu_ms_per_post {median['producer']:.3f}", flush=True)
        print(f"bench: enricher_cpu_ms_per_post_pipeline {median['enricher']:.3f}", flush=True)
        print(f"bench: indexer_cpu_ms_per_post {median['indexer']:.3f}", flush=True)
        for name in ("enricher", "indexer"):
            jvm_median = statistics.median(w[name] for w in jvm_windows)
            print(f"bench: {name}_kcl_jvm_cpu_ms_per_post {jvm_median:.3f}", flush=True)
        log(
            "posts per vCPU-second: "
            + " ".join(f"{k} {posts_per_vcpu_second(v):.0f}" for k, v in median.items())
        )
        if units0 is None or units1 is None:
            log(
                "request units: the emulator does not count them (start the stack with PULSE_EMULATOR_STATS "
                "set, as `make bench` does)"
            )
            return 1
        units = delta(units0, units1)
        handled = {name: handled_at_end[name] - handled_at_start[name] for name in SERVICES}
        per = per_post_units(units, ws.stack.table_name, handled)
        per.cpu_ms = median
        log(
            "request units over the windows: "
            + json.dumps({k: round(v, 1) for k, v in sorted(units.items())})
        )
        bulk_bytes = (bulk1 - bulk0) / max(1.0, handled["indexer"])
        empty = units.get("kinesis:-:get_records_empty", 0.0), units.get("kinesis:-:get_records", 0.0)
        streams_empty = units.get("streams:-:get_records_empty", 0.0), units.get("streams:-:get_records", 0.0)
        log(
            f"empty polls: kinesis {empty[0]:.0f}/{empty[1]:.0f}, dynamodb streams "
            f"{streams_empty[0]:.0f}/{streams_empty[1]:.0f}"
        )
        print(f"bench: kinesis_put_units_per_post {per.kinesis_put_units:.3f}", flush=True)
        print(f"bench: kinesis_bytes_per_post {per.kinesis_put_bytes:.0f}", flush=True)
        print(
            f"bench: dynamodb_write_units_per_post {per.posts_write_units + per.kcl_write_units:.3f}",
            flush=True,
        )
        print(
            f"bench: dynamodb_read_units_per_post {per.posts_read_units + per.kcl_read_units:.3f}", flush=True
        )
        print(
            f"bench: dynamodb_kcl_units_per_post {per.kcl_write_units + per.kcl_read_units:.4f}", flush=True
        )
        print(f"bench: streams_reads_per_post {per.streams_reads:.4f}", flush=True)
        print(f"bench: sqs_requests_per_post {per.sqs_requests:.4f}", flush=True)
        print(f"bench: opensearch_bulk_bytes_per_post {bulk_bytes:.0f}", flush=True)

        prices = load_prices()
        ours = usd_per_million(per, args.rate, prices)
        extra = reference_extra_cpu_ms(ws)
        log(
            "reference design's extra client CPU per post (per-record minus batched calls): "
            + " ".join(f"{k} {v:.3f} ms" for k, v in extra.items())
        )
        reference = PerPost(
            **{
                **per.__dict__,
                "posts_read_units": 0.0,
                "cpu_ms": {k: v + max(0.0, extra[k]) for k, v in median.items()},
            }
        )
        theirs = usd_per_million(reference, args.rate, prices)
        log(
            f"prices: {prices['region']} as of {prices['as_of']} (bench/prices_us_east_1.json); "
            "Fargate tasks " + " ".join(f"{k} {s.vcpu} vCPU/{s.memory_gb} GB" for k, s in TASK_SIZES.items())
        )
        for name, lines in (("pulse", ours), ("reference", theirs)):
            log(f"{name} usd per million posts: " + " ".join(f"{k} {v:.4f}" for k, v in lines.items()))
        on_demand = usd_per_million(per, args.rate, prices, kinesis_mode="on_demand")
        log(f"pulse with an on-demand Kinesis stream: {on_demand['total']:.4f} usd per million posts")
        print(f"bench: aws_usd_per_million_posts {ours['total']:.4f}", flush=True)
        print(f"bench: reference_aws_usd_per_million_posts {theirs['total']:.4f}", flush=True)
        print(f"bench: reference_cost_ratio {theirs['total'] / ours['total']:.3f}", flush=True)
        return 0
    finally:
        ws.pipeline.stop()
        ws.drop()


if __name__ == "__main__":
    sys.exit(main())
