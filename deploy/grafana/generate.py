#!/usr/bin/env python3
"""Generate Pulse's Grafana dashboards (deploy/grafana/dashboards/*.json) from code.

    .venv/bin/python deploy/grafana/generate.py            # write the JSON files
    .venv/bin/python deploy/grafana/generate.py --check    # exit 1 if the committed files are stale

Built with grafana-foundation-sdk. Every query uses only metrics the services export
(tests/observability/test_metric_names.py cross-checks the names against services/*/src, and
test_prometheus_proof.py runs every query against a real Prometheus scraping a real pipeline run).
Every series carries `service` (producer|enricher|indexer|dashboard) and job `pulse-<service>`,
locally (pulse_devstack.prometheus) and on AWS (the ADOT sidecar of deploy/terraform).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders import stat as stat_panel
from grafana_foundation_sdk.builders import timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
FRESHNESS_TARGET_S = 3.0


# --- panel specs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Q:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Q, ...]
    unit: str = "short"
    description: str = ""
    kind: str = "timeseries"  # or "stat"
    width: int = 12
    height: int = 8
    thresholds: tuple[tuple[float, str], ...] = ()  # (value, colour) steps above the base green
    no_value: str | None = None  # shown when a query has no series (e.g. a failure that never happened)
    stack: bool = False
    mappings: dict[str, tuple[str, str]] = field(default_factory=dict)  # value -> (text, colour)


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = ()


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[Q, ...]:
    """p50/p95/p99 of a histogram, optionally split by a label."""
    group = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return tuple(
        Q(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[{RATE}])))",
            f"p{round(q * 100)}{suffix}",
        )
        for q in qs
    )


def ratio(failed: str, total: str, *, by: str = "") -> str:
    """failed / total over the rate window; 0 (not "no data") while nothing failed."""
    grp = f" by ({by})" if by else ""
    return (
        f"(sum{grp} (rate({failed}[{RATE}])) or sum{grp} (rate({total}[{RATE}])) * 0)"
        f" / sum{grp} (rate({total}[{RATE}]))"
    )


# --- the metrics, by service (names exactly as declared in services/*/src) -------------------

SERVICES_UP = Panel(
    "Services up",
    (Q('max by (service) (up{job=~"pulse-.+"})', "{{service}}"),),
    kind="stat",
    width=8,
    height=5,
    description="1 when Prometheus can scrape the service (alert: PulseServiceDown).",
    mappings={"0": ("DOWN", "red"), "1": ("UP", "green")},
    thresholds=(),
)

FRESHNESS_P95_STAT = Panel(
    "Freshness p95 (producer → searchable)",
    (
        Q(
            "histogram_quantile(0.95, sum by (le) "
            f"(rate(pulse_indexer_freshness_ingested_seconds_bucket[{RATE}])))",
            "p95",
        ),
    ),
    unit="s",
    kind="stat",
    width=4,
    height=5,
    thresholds=((FRESHNESS_TARGET_S, "red"),),
    description="95th percentile of now − ingested_at when the indexer's bulk write succeeds. Target ≤ 3 s.",
)

FRESHNESS = Panel(
    "Freshness: producer → searchable",
    quantiles("pulse_indexer_freshness_ingested_seconds"),
    unit="s",
    thresholds=((FRESHNESS_TARGET_S, "red"),),
    description="now − ingested_at when the document's bulk write succeeds "
    "(alert: PulseFreshnessP95OverTarget).",
)

FRESHNESS_CREATED = Panel(
    "Freshness: post created → searchable",
    quantiles("pulse_indexer_freshness_created_seconds"),
    unit="s",
    description="now − the post's created_at on its network: includes the network's delivery delay; "
    "large for replays of old posts.",
)

ITERATOR_AGE_STAT = Panel(
    "Enricher behind (max shard)",
    (Q("max(pulse_enricher_millis_behind_latest)", "max"),),
    unit="ms",
    kind="stat",
    width=4,
    height=5,
    thresholds=((60000, "red"),),
    description="Largest millis_behind_latest over the Kinesis shards (alert: PulseKinesisIteratorAgeHigh).",
)

INDEXER_LAG_STAT = Panel(
    "Indexer lag (max)",
    (Q("max(pulse_indexer_lag_seconds)", "max"),),
    unit="s",
    kind="stat",
    width=4,
    height=5,
    thresholds=((30, "red"),),
    description="Largest DynamoDB-stream lag over the indexer workers (alert: PulseIndexerLagHigh).",
)

# Every service that writes to the dead-letter queue counts it as pulse_<service>_dead_letters_total{reason}.
DEAD_LETTERING_SERVICES = ("producer", "enricher", "indexer")

DEAD_LETTERS_STAT = Panel(
    "Dead letters (last hour)",
    (
        Q(
            " + ".join(f"(sum(increase(pulse_{service}_dead_letters_total[1h])) or vector(0))"
                       for service in DEAD_LETTERING_SERVICES),
            "dead letters",
        ),
    ),
    kind="stat",
    width=4,
    height=5,
    thresholds=((1, "orange"),),
    description="Records sent to the dead-letter queue by any service in the last hour.",
)

# producer
POSTS_IN = Panel(
    "Posts in, per source",
    (Q(f"sum by (source) (rate(pulse_producer_posts_received_total[{RATE}]))", "{{source}}"),),
    unit="reqps",
    stack=True,
    description="Posts read from each source and queued for Kinesis (alert: PulseProducerSilent).",
)
KINESIS_PUTS = Panel(
    "Kinesis puts and failures",
    (
        Q(f"sum(rate(pulse_producer_records_put_total[{RATE}]))", "records put"),
        Q(f"sum by (error_code) (rate(pulse_producer_put_failures_total[{RATE}]))", "failed: {{error_code}}"),
    ),
    unit="reqps",
    description="Records Kinesis accepted, and failed put_records entries by error code (throttled entries "
    "are retried, never dropped).",
)
PUT_LATENCY = Panel(
    "put_records latency",
    quantiles("pulse_producer_put_latency_seconds"),
    unit="s",
)
FLUSH_LATENCY = Panel(
    "Batch flush latency (retries included)",
    quantiles("pulse_producer_flush_latency_seconds"),
    unit="s",
)
BATCH_SIZE = Panel(
    "Records per put_records",
    quantiles("pulse_producer_batch_size_records", qs=(0.5, 0.95)),
    unit="short",
)
QUEUE_DEPTH = Panel(
    "Queue depth (reader → sink)",
    (Q('sum(pulse_producer_queue_depth{service="producer"})', "queued"),),
    description="Events waiting between the source reader and the Kinesis sink; grows under backpressure.",
)
SKIPPED = Panel(
    "Input skipped",
    (
        Q(
            f"sum by (source, reason) (rate(pulse_producer_input_skipped_total[{RATE}]))",
            "{{source}} {{reason}}",
        ),
    ),
    unit="reqps",
    no_value="0",
    description="Malformed lines, unknown shapes and untracked posts, skipped and counted.",
)
RECONNECTS = Panel(
    "Stream reconnects",
    (
        Q(
            f"sum by (source, cause) (increase(pulse_producer_reconnects_total[{RATE}]))",
            "{{source}} {{cause}}",
        ),
    ),
    no_value="0",
    description="Reconnects of the X / Bluesky streams (alert: PulseProducerDisconnected).",
)
RULES = Panel(
    "X rules in force",
    (Q("max(pulse_producer_rules_in_force)", "rules"),),
    kind="stat",
    width=6,
    height=5,
)

# enricher
ENRICHER_THROUGHPUT = Panel(
    "Enricher throughput",
    (
        Q(f"sum by (outcome) (rate(pulse_enricher_records_total[{RATE}]))", "{{outcome}}"),
        Q(f"sum by (reason) (rate(pulse_enricher_records_failed_total[{RATE}]))", "failed: {{reason}}"),
    ),
    unit="reqps",
    description="Kinesis records the KCL record processors handled, by outcome (written, deleted, stale, "
    "already_stored, delete_noop, dead_lettered), and failures by reason.",
)
ITERATOR_AGE = Panel(
    "Kinesis iterator age (millis_behind_latest) per shard",
    (Q("max by (shard) (pulse_enricher_millis_behind_latest)", "{{shard}}"),),
    unit="ms",
    thresholds=((60000, "red"),),
    description="How far each shard's processor is behind the tip of the stream (alert: "
    "PulseKinesisIteratorAgeHigh).",
)
ENRICH_LATENCY = Panel(
    "Enrichment latency",
    quantiles("pulse_enricher_enrich_seconds"),
    unit="s",
)
DDB_LATENCY = Panel(
    "DynamoDB write latency",
    quantiles("pulse_enricher_dynamodb_write_seconds", by="operation", qs=(0.5, 0.95, 0.99)),
    unit="s",
    description="batch_write_item latency, retries included.",
)
DDB_RETRIES = Panel(
    "DynamoDB retries and throttles",
    (Q(f"sum by (kind) (rate(pulse_enricher_dynamodb_retries_total[{RATE}]))", "{{kind}}"),),
    unit="reqps",
    no_value="0",
    description="Unprocessed items and throttled calls retried with backoff.",
)
CHECKPOINTS = Panel(
    "KCL checkpoints",
    (
        Q(f"sum(rate(pulse_enricher_checkpoints_total[{RATE}]))", "checkpoints"),
        Q(f"sum by (error) (rate(pulse_enricher_checkpoint_errors_total[{RATE}]))", "errors: {{error}}"),
    ),
    unit="reqps",
)

SHARDS_OWNED = Panel(
    "Shard processors alive",
    (Q("sum(pulse_enricher_shards_owned)", "shards"),),
    kind="stat",
    width=6,
    height=5,
    description="KCL record processors (one Python process per leased shard) alive in the daemon(s).",
)
ENRICHER_BATCH = Panel(
    "Records per process_records call",
    quantiles("pulse_enricher_batch_records", qs=(0.5, 0.95)),
)
REDELIVERED = Panel(
    "Redelivered and DLQ send retries",
    (
        Q(f"sum(rate(pulse_enricher_redelivered_total[{RATE}]))", "redelivered (already stored)"),
        Q(f"sum(rate(pulse_enricher_dlq_retries_total[{RATE}]))", "dead-letter send retries"),
    ),
    unit="reqps",
    description="Records delivered again after a restart or lease move (harmless: same version), and "
    "retried sends to the dead-letter queue.",
)

# dead letters (all services)
DEAD_LETTERS = Panel(
    "Dead letters per service",
    tuple(
        Q(f"sum by (reason) (rate(pulse_{service}_dead_letters_total[{RATE}]))", f"{service} {{{{reason}}}}")
        for service in DEAD_LETTERING_SERVICES
    ),
    unit="reqps",
    no_value="0",
    description="Records sent to the dead-letter queue (alert: PulseDeadLettersAppearing). "
    "Inspect with `pulse-dlq list`.",
)

# indexer
INDEXER_LAG = Panel(
    "Indexer lag per shard",
    (
        Q("max(pulse_indexer_lag_seconds)", "max"),
        Q("max by (shard) (pulse_indexer_shard_lag_seconds)", "{{shard}}"),
    ),
    unit="s",
    thresholds=((30, "red"),),
    description="now − creation time of the last DynamoDB stream record processed "
    "(alert: PulseIndexerLagHigh).",
)
BULK_LATENCY = Panel(
    "Bulk latency",
    quantiles("pulse_indexer_bulk_seconds"),
    unit="s",
)
INDEXER_DOCS = Panel(
    "Documents",
    (
        Q(f"sum(rate(pulse_indexer_docs_indexed_total[{RATE}]))", "indexed"),
        Q(f"sum(rate(pulse_indexer_docs_deleted_total[{RATE}]))", "deleted"),
        Q(f"sum(rate(pulse_indexer_docs_conflicts_total[{RATE}]))", "conflicts (older version, ok)"),
        Q(f"sum by (reason) (rate(pulse_indexer_docs_failed_total[{RATE}]))", "failed: {{reason}}"),
    ),
    unit="reqps",
    description="Bulk outcomes; a failed document is dead-lettered (alert: PulseIndexerBulkFailures).",
)
RECORDS_READ = Panel(
    "Stream records read",
    (Q(f"sum by (event) (rate(pulse_indexer_records_read_total[{RATE}]))", "{{event}}"),),
    unit="reqps",
    stack=True,
)
BULK_SIZE = Panel(
    "Bulk request size",
    (*quantiles("pulse_indexer_bulk_docs", qs=(0.5, 0.95)),),
    unit="short",
    description="Actions per _bulk request.",
)
BULK_BYTES = Panel(
    "Bulk request bytes",
    quantiles("pulse_indexer_bulk_bytes", qs=(0.5, 0.95)),
    unit="bytes",
)
BULK_RETRIES = Panel(
    "Bulk retries",
    (Q(f"sum by (cause) (rate(pulse_indexer_bulk_retries_total[{RATE}]))", "{{cause}}"),),
    unit="reqps",
    no_value="0",
    description="_bulk requests or items retried (429, 5xx, transport) (alert: PulseIndexerBulkRetries).",
)
LEASES = Panel(
    "Shards held",
    (Q("sum(pulse_indexer_shards_owned)", "shard processors"),),
    description="KCL record processors (one Python process per leased stream shard) alive in the "
    "indexer daemon(s); the KCL owns the leases (lease table = the indexer's KCL application).",
)
STREAM_TROUBLE = Panel(
    "Records skipped",
    (
        Q(f"sum(increase(pulse_indexer_ttl_removes_skipped_total[{RATE}]))", "TTL removes skipped"),
        Q(f"sum(increase(pulse_indexer_tombstones_skipped_total[{RATE}]))", "empty tombstones"),
    ),
)
INDEXER_CHECKPOINTS = Panel(
    "Indexer checkpoints",
    (Q(f"sum(rate(pulse_indexer_checkpoints_total[{RATE}]))", "checkpoints"),),
    unit="reqps",
)

# dashboard (API)
API_REQUESTS = Panel(
    "API requests by route",
    (Q(f"sum by (route) (rate(pulse_dashboard_requests_total[{RATE}]))", "{{route}}"),),
    unit="reqps",
    stack=True,
)
API_LATENCY = Panel(
    "API latency p95 by route",
    quantiles("pulse_dashboard_request_duration_seconds", by="route", qs=(0.95,)),
    unit="s",
    thresholds=((0.3, "red"),),
    description="Target: p95 ≤ 300 ms for the main views.",
)
API_LATENCY_ALL = Panel(
    "API latency (all routes)",
    quantiles("pulse_dashboard_request_duration_seconds"),
    unit="s",
)
API_ERRORS = Panel(
    "API errors",
    (
        Q(
            f'sum by (status) (rate(pulse_dashboard_requests_total{{status=~"4xx|5xx"}}[{RATE}]))',
            "{{status}}",
        ),
        Q(f"sum by (kind) (rate(pulse_dashboard_opensearch_errors_total[{RATE}]))", "opensearch: {{kind}}"),
    ),
    unit="reqps",
    no_value="0",
)

ERROR_RATIOS = Panel(
    "Error ratios",
    (
        Q(
            ratio("pulse_producer_put_failures_total", "pulse_producer_records_put_total"),
            "producer put failures",
        ),
        Q(
            ratio("pulse_enricher_records_failed_total", "pulse_enricher_records_total"),
            "enricher failed records",
        ),
        Q(
            ratio("pulse_indexer_docs_failed_total", "pulse_indexer_docs_indexed_total"),
            "indexer failed docs",
        ),
        Q(
            ratio('pulse_dashboard_requests_total{status="5xx"}', "pulse_dashboard_requests_total"),
            "dashboard 5xx",
        ),
    ),
    unit="percentunit",
    description="Failures over attempts per stage; 0 while nothing fails.",
)


# --- the dashboards --------------------------------------------------------------------------

OVERVIEW = Board(
    uid="pulse-overview",
    title="Pulse / Pipeline overview",
    description="producer → Kinesis → enricher → DynamoDB → indexer → OpenSearch → dashboard, end to end.",
    tags=("pulse", "overview"),
    rows=(
        Row(
            "Health",
            (SERVICES_UP, FRESHNESS_P95_STAT, ITERATOR_AGE_STAT, INDEXER_LAG_STAT, DEAD_LETTERS_STAT),
        ),
        Row("Freshness", (FRESHNESS, FRESHNESS_CREATED)),
        Row("Producer", (POSTS_IN, KINESIS_PUTS)),
        Row("Enricher", (ENRICHER_THROUGHPUT, ITERATOR_AGE)),
        Row("DynamoDB", (DDB_LATENCY, DDB_RETRIES)),
        Row("Indexer", (INDEXER_LAG, BULK_LATENCY)),
        Row("Errors", (DEAD_LETTERS, ERROR_RATIOS)),
    ),
)

PRODUCER = Board(
    uid="pulse-producer",
    title="Pulse / Producer",
    description="Sources → bounded queue → batched Kinesis put_records.",
    tags=("pulse", "producer"),
    rows=(
        Row("Sources", (POSTS_IN, SKIPPED, RECONNECTS, QUEUE_DEPTH)),
        Row("X filtered stream", (RULES,)),
        Row("Kinesis sink", (KINESIS_PUTS, PUT_LATENCY, FLUSH_LATENCY, BATCH_SIZE)),
        Row("Dead letters", (DEAD_LETTERS,)),
    ),
)

ENRICHER = Board(
    uid="pulse-enricher",
    title="Pulse / Enricher",
    description="KCL MultiLangDaemon + Python record processors: Kinesis → enrichment → DynamoDB.",
    tags=("pulse", "enricher"),
    rows=(
        Row("Consumption", (ENRICHER_THROUGHPUT, ITERATOR_AGE)),
        Row("Processors", (SHARDS_OWNED,)),
        Row("Work", (ENRICH_LATENCY, ENRICHER_BATCH, DDB_LATENCY, DDB_RETRIES, CHECKPOINTS, REDELIVERED)),
        Row("Dead letters", (DEAD_LETTERS,)),
    ),
)

INDEXER = Board(
    uid="pulse-indexer",
    title="Pulse / Indexer",
    description="DynamoDB stream → OpenSearch bulk, with shard leases and checkpoints.",
    tags=("pulse", "indexer"),
    rows=(
        Row("Freshness", (FRESHNESS, FRESHNESS_CREATED)),
        Row("Stream", (RECORDS_READ, INDEXER_LAG, LEASES, STREAM_TROUBLE)),
        Row("Bulk", (INDEXER_DOCS, BULK_LATENCY, BULK_SIZE, BULK_BYTES, BULK_RETRIES, INDEXER_CHECKPOINTS)),
        Row("Dead letters", (DEAD_LETTERS,)),
    ),
)

DASHBOARD_API = Board(
    uid="pulse-dashboard-api",
    title="Pulse / Dashboard API",
    description="The insights dashboard's HTTP API over OpenSearch.",
    tags=("pulse", "dashboard"),
    rows=(
        Row("Traffic", (API_REQUESTS, API_ERRORS)),
        Row("Latency", (API_LATENCY, API_LATENCY_ALL)),
    ),
)

BOARDS = (OVERVIEW, PRODUCER, ENRICHER, INDEXER, DASHBOARD_API)


# --- rendering with grafana-foundation-sdk ----------------------------------------------------


def _thresholds(steps: tuple[tuple[float, str], ...]) -> dash.ThresholdsConfig:
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps(
            [
                model.Threshold(value=None, color="green"),
                *(model.Threshold(value=v, color=c) for v, c in steps),
            ]
        )
    )


def _mappings(mappings: dict[str, tuple[str, str]]) -> list[model.ValueMap]:
    if not mappings:
        return []
    return [
        model.ValueMap(
            options={
                value: model.ValueMappingResult(text=text, color=colour, index=i)
                for i, (value, (text, colour)) in enumerate(mappings.items())
            }
        )
    ]


def _panel(spec: Panel):
    if spec.kind == "stat":
        builder = (
            stat_panel.Panel()
            .graph_mode(common.BigValueGraphMode.AREA)
            .color_mode(
                common.BigValueColorMode.BACKGROUND if spec.mappings else common.BigValueColorMode.VALUE
            )
            .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        )
    else:
        builder = (
            timeseries.Panel()
            .line_width(1)
            .fill_opacity(20 if spec.stack else 8)
            .show_points(common.VisibilityMode.NEVER)
            .legend(
                common_builders.VizLegendOptions()
                .display_mode(common.LegendDisplayMode.LIST)
                .placement(common.LegendPlacement.BOTTOM)
                .show_legend(True)
            )
        )
        if spec.thresholds:  # draw the target / alert threshold as a line
            builder = builder.thresholds_style(
                common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.LINE)
            )
        if spec.stack:
            builder = builder.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    builder = (
        builder.title(spec.title)
        .datasource(DATASOURCE)
        .unit(spec.unit)
        .span(spec.width)
        .height(spec.height)
        .thresholds(_thresholds(spec.thresholds))
    )
    if spec.description:
        builder = builder.description(spec.description)
    if spec.no_value is not None:
        builder = builder.no_value(spec.no_value)
    if spec.mappings:
        builder = builder.mappings(_mappings(spec.mappings))
    for ref, query in zip("ABCDEFGH", spec.queries, strict=False):
        builder = builder.with_target(
            prom.Dataquery().expr(query.expr).legend_format(query.legend or "__auto").ref_id(ref).range()
        )
    return builder


def build(board: Board) -> dict:
    builder = (
        dash.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(list(board.tags))
        .editable()
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .time("now-1h", "now")
        .refresh("10s")
        .timezone("browser")
        .with_variable(dash.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        .link(
            dash.DashboardLink("Pulse")
            .type(model.DashboardLinkType.DASHBOARDS)
            .tags(["pulse"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )
    for row in board.rows:
        builder = builder.with_row(dash.Row(row.title))
        for spec in row.panels:
            builder = builder.with_panel(_panel(spec))
    # Round-trip through the SDK's encoder for plain JSON; ids in order so diffs stay readable.
    out = json.loads(json.dumps(builder.build(), cls=JSONEncoder, sort_keys=True))
    for index, panel in enumerate(out.get("panels", []), start=1):
        panel["id"] = index
    return out


def render(board: Board) -> str:
    return json.dumps(build(board), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def files() -> dict[Path, str]:
    """file -> content, for every dashboard."""
    return {OUT_DIR / f"{board.uid}.json": render(board) for board in BOARDS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args(argv)
    wanted = files()
    if args.check:
        stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
        extra = sorted(set(OUT_DIR.glob("*.json")) - set(wanted))
        for path in [*stale, *extra]:
            print(f"stale: {path} (run deploy/grafana/generate.py)", file=sys.stderr)
        return 1 if stale or extra else 0
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path in set(OUT_DIR.glob("*.json")) - set(wanted):
        path.unlink()
    for path, text in wanted.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
