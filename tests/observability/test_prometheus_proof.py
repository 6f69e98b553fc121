"""Proof against a real Prometheus: every Grafana panel query and every alert is backed by real series.

A real Prometheus (Debian package) scrapes the four services, started as real processes by
`pulse_devstack.pipeline.Pipeline`, while a replay runs through the local stack. Bad input is mixed
in on purpose (a malformed line and an oversized post for the producer, poison Kinesis records for
the enricher, an unindexable item for the indexer) so the failure metrics exist too. Then, through
the Prometheus HTTP API:

- every panel query of deploy/grafana/dashboards returns at least one finite sample;
- every metric selector of every alert in deploy/prometheus/alerts.yml has series (the expression
  without its threshold), and every rule evaluates without error;
- the dead-letter and bulk-failure alerts really fire on the injected bad records.

The few metrics a healthy local run cannot produce are listed in EVENT_ONLY with the reason; for
those the test asserts Prometheus scraped the metric family's metadata (the service exports it
under that name), not samples.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from obs_catalog import alert_rules, dashboard_targets, grafana_to_promql, selectors

from pulse_common.aws import client
from pulse_devstack import procs, prometheus
from pulse_devstack.pipeline import Pipeline, console_script

pytestmark = pytest.mark.integration

SAMPLE = prometheus.REPO_ROOT / "data" / "sample" / "posts.jsonl.gz"
PORT_ENV = {
    "producer": "PULSE_PRODUCER_METRICS_PORT",
    "enricher": "PULSE_ENRICHER_METRICS_PORT",
    "indexer": "PULSE_INDEXER_METRICS_PORT",
    "dashboard": "PULSE_DASHBOARD_PORT",
}
# The producer replays POSTS at RATE posts/s (at most 2 minutes): it must still run when the queries
# are evaluated (a finished producer's series go stale); the test stops it once done.
POSTS = 2400
RATE = 20
WINDOW = "1m"  # what $__rate_interval becomes in the queries

# Metrics a healthy local run cannot produce samples for: (labelled) counters of events that need
# a fault the local stack does not inject here. The reliability suite (make reliability) drives them.
EVENT_ONLY = {
    "pulse_producer_put_failures_total": "Kinesis must reject entries (throttling fault proxy)",
    "pulse_producer_reconnects_total": "only the X and Bluesky stream sources reconnect",
    "pulse_indexer_bulk_retries_total": "OpenSearch must answer 429/5xx or drop the connection",
    "pulse_dashboard_opensearch_errors_total": "OpenSearch must fail a dashboard query",
    "pulse_enricher_dynamodb_retries_total": "DynamoDB must throttle or return unprocessed items",
    "pulse_enricher_checkpoint_errors_total": "the KCL must refuse a checkpoint",
    'pulse_dashboard_requests_total{status="5xx"}': "the dashboard API must fail",
}


def _event_only(selector: str) -> bool:
    return selector in EVENT_ONLY or selector.split("{")[0] in EVENT_ONLY


# --- Prometheus HTTP API ---------------------------------------------------------------------


def _get(url: str, path: str, **params: str) -> dict:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}{path}{query}", timeout=10) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return body["data"]


def _has_series(url: str, selector: str) -> bool:
    return bool(prometheus.query(url, f"count({selector})"))


def _family(name: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def _exported_family(url: str, name: str) -> bool:
    """Prometheus scraped HELP/TYPE for this metric from a target (even with no samples yet)."""
    for candidate in {name, _family(name)}:
        if _get(url, "/api/v1/targets/metadata", metric=candidate):
            return True
    return False


def _finite(result: list[dict]) -> bool:
    return any(math.isfinite(float(r["value"][1])) for r in result)


# --- bad input -------------------------------------------------------------------------------


def _replay_file(path, posts: int) -> None:
    """`posts` sample posts, plus one malformed line and one post over Kinesis' 1 MiB record limit."""
    lines = []
    with gzip.open(SAMPLE, "rt") as sample:
        for _ in range(posts):
            lines.append(sample.readline().rstrip("\n"))
    huge = json.loads(lines[0])  # text is capped at 25,000 chars by the schema; entities are not
    huge["data"]["id"] = "1999999999999999999"
    huge["data"].setdefault("entities", {})["urls"] = [
        {"expanded_url": f"https://example.com/{i}/{'x' * 90}"} for i in range(12_000)
    ]  # ~1.3 MB as a Kinesis record
    lines.insert(20, "{this is not json")
    lines.insert(40, json.dumps(huge))
    path.write_text("\n".join(lines) + "\n")


def _poison_kinesis(stack, n: int, tag: str) -> None:
    kinesis = client("kinesis", stack)
    records = [
        {"Data": b"\xff not json " + tag.encode(), "PartitionKey": f"x:poison-{tag}-{i}"} for i in range(n)
    ]
    failed = kinesis.put_records(StreamName=stack.stream_name, Records=records)["FailedRecordCount"]
    assert failed == 0


def _unindexable_item(stack, tag: str) -> None:
    now = datetime.now(UTC).isoformat()
    client("dynamodb", stack).put_item(
        TableName=stack.table_name,
        Item={
            "id": {"S": f"x:unindexable-{tag}"},
            "version": {"N": "1"},
            "created_at": {"S": now},
            "ingested_at": {"S": now},
            "enriched_at": {"S": now},
            "expires_at": {"N": str(int(time.time()) + 86400)},
            "doc": {"S": "{not json"},
        },
    )


def _call_dashboard(port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    for path in ("/api/config", "/api/overview", "/api/aspects", "/api/posts?size=5", "/api/posts?page=0"):
        try:
            with urllib.request.urlopen(base + path, timeout=30):
                pass
        except urllib.error.HTTPError:
            pass  # a 4xx is a metric too
        except OSError:
            return  # not listening yet


# --- waiting -----------------------------------------------------------------------------------


def _wait(what: str, check, pipeline: Pipeline, timeout_s: float, detail=lambda: "") -> None:
    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        for svc in pipeline.services.values():
            if svc.name != "producer" and svc.proc is not None and not svc.running:
                pytest.fail(
                    f"{svc.name} exited with {svc.proc.returncode}; "
                    f"{svc.log_path}:\n{procs.tail(svc.log_path)}"
                )
        if check():
            print(f"proof: {what}: {time.monotonic() - started:.1f}s")
            return
        time.sleep(0.5)
    logs = "\n".join(
        f"--- {s.name}: {s.log_path}\n{procs.tail(s.log_path, 8)}" for s in pipeline.services.values()
    )
    pytest.fail(f"timed out waiting for {what}: {detail()}\n{logs}")


# --- the proof ---------------------------------------------------------------------------------


def test_every_panel_query_and_alert_selector_has_real_series_during_a_pipeline_run(
    isolated_stack, prometheus_binary, tmp_path
):
    ports = {svc: procs.free_port() for svc in PORT_ENV}
    prom_port, name = procs.free_port(), f"prometheus-proof-{uuid.uuid4().hex[:8]}"
    url = f"http://127.0.0.1:{prom_port}"
    replay = tmp_path / "replay.jsonl"
    _replay_file(replay, POSTS)
    stack_env = {k: v for k, v in os.environ.items() if k.startswith(("PULSE_", "AWS_"))}
    pipeline = Pipeline(stack_env=stack_env, log_dir=tmp_path / "logs")

    panel_targets = dashboard_targets()
    rules = alert_rules()
    assert panel_targets and rules
    every_selector = sorted(
        set().union(
            *(selectors(grafana_to_promql(t.expr, WINDOW)) for t in panel_targets),
            *(selectors(r.expr) for r in rules),
        )
    )
    must_exist = [s for s in every_selector if not _event_only(s)]
    event_only_names = {s.split("{")[0] for s in EVENT_ONLY}
    unused = event_only_names - {s.split("{")[0] for s in every_selector}
    assert unused == set(), "EVENT_ONLY lists metrics no panel or alert uses"

    prometheus.start(
        prom_port,
        log=print,
        name=name,
        targets={svc: f"127.0.0.1:{port}" for svc, port in ports.items()},
        scrape_interval="1s",
        data_dir=tmp_path / "tsdb",
        config_dir=tmp_path / "prometheus",
    )
    try:
        # The KCL daemon takes longest to start (30-60 s here): start it first.
        pipeline.start_enricher(
            # the KCL names its lease table after the application: one per test, or it resumes
            # from another test's checkpoints on the shared local stack
            PULSE_ENRICHER_APPLICATION_NAME=f"t-enricher-{uuid.uuid4().hex[:10]}",
            **{PORT_ENV["enricher"]: str(ports["enricher"])},
        )
        pipeline.start_indexer(**{PORT_ENV["indexer"]: str(ports["indexer"])})
        pipeline.start_dashboard(**{PORT_ENV["dashboard"]: str(ports["dashboard"])})
        _poison_kinesis(isolated_stack, 3, "a")
        _unindexable_item(isolated_stack, "a")
        pipeline.service(
            "producer",
            [console_script("pulse-producer"), "replay", "--rate", str(RATE), str(replay)],
            **{PORT_ENV["producer"]: str(ports["producer"])},
        ).start()

        def values(*exprs: str) -> dict[str, list[str]]:
            return {e: [r["value"][1] for r in prometheus.query(url, e)] for e in exprs}

        def targets() -> str:
            active = _get(url, "/api/v1/targets")["activeTargets"]
            return "; ".join(f"{t['labels']['job']} {t['health']} {t['lastError']}" for t in active)

        _wait(
            "the enricher's shard processors to consume (KCL started)",
            lambda: bool(prometheus.query(url, "sum(pulse_enricher_dead_letters_total) >= 1")),
            pipeline,
            120,
            lambda: f"{values('sum(pulse_enricher_shards_owned)')}\ntargets: {targets()}",
        )

        def missing() -> list[str]:
            _call_dashboard(ports["dashboard"])  # API traffic for the dashboard's request metrics
            return [s for s in must_exist if not _has_series(url, s)]

        _wait(
            "every non-event-only selector to have series",
            lambda: not missing(),
            pipeline,
            60,
            lambda: f"{missing()}\ntargets: {targets()}",
        )

        # The dead-letter and bulk-failure counters exist now; grow them so `increase` sees it.
        _poison_kinesis(isolated_stack, 2, "b")
        _unindexable_item(isolated_stack, "b")
        _call_dashboard(ports["dashboard"])
        grown = (
            "sum(pulse_indexer_freshness_ingested_seconds_count) > 50",
            "sum(pulse_enricher_dead_letters_total) >= 5",
            'sum(pulse_indexer_docs_failed_total{reason="invalid_json"}) >= 2',
        )
        _wait(
            "freshness observations and the second bad records to be counted",
            lambda: all(prometheus.query(url, expr) for expr in grown),
            pipeline,
            45,
            lambda: str(values(*(e.split(" >")[0] for e in grown))),
        )
        time.sleep(2)  # two more scrapes: every rate window holds several samples
        assert pipeline.services["producer"].running, "the producer finished too early; raise POSTS"

        # 1. every Grafana panel query returns data
        empty_panels = []
        for target in panel_targets:
            result = prometheus.query(url, grafana_to_promql(target.expr, WINDOW))
            if _finite(result):
                continue
            if any(_event_only(s) for s in selectors(target.expr)):
                continue  # checked below through the metadata
            empty_panels.append(f"{target.dashboard} / {target.panel} [{target.ref_id}]: {target.expr}")
        assert empty_panels == []

        # 2. every alert's selectors have series (event-only ones: the family is exported)
        no_series = [s for s in must_exist if not _has_series(url, s)]
        assert no_series == []
        # (The enricher's and the indexer's multiprocess collectors (one process per KCL shard)
        # export a family only once it has a sample, so their event-only metrics are covered by the
        # source cross-check of test_metric_names.py alone.)
        checkable = [n for n in event_only_names if not n.startswith(("pulse_enricher_", "pulse_indexer_"))]
        unexported = sorted(n for n in checkable if not _exported_family(url, n))
        assert unexported == [], "EVENT_ONLY metrics no service exports under that name"

        # 3. every rule evaluates without error, and the injected bad records fire their alerts
        def evaluated() -> bool:
            groups = _get(url, "/api/v1/rules")["groups"]
            return all(not r["lastEvaluation"].startswith("0001") for g in groups for r in g["rules"])

        _wait("every rule to be evaluated", evaluated, pipeline, 30)
        unhealthy = [
            (r["name"], r.get("lastError"))
            for g in _get(url, "/api/v1/rules")["groups"]
            for r in g["rules"]
            if r["health"] != "ok"
        ]
        assert unhealthy == []

        def firing() -> set[tuple[str, str]]:
            alerts = _get(url, "/api/v1/alerts")["alerts"]
            return {
                (a["labels"]["alertname"], a["labels"].get("service", ""))
                for a in alerts
                if a["state"] == "firing"
            }

        expected = {("PulseDeadLettersAppearing", "enricher"), ("PulseIndexerBulkFailures", "")}
        _wait(
            "the dead-letter and bulk-failure alerts to fire",
            lambda: expected <= firing(),
            pipeline,
            30,
            firing,
        )
    finally:
        stopping = time.monotonic()
        pipeline.stop()
        prometheus.stop(name)
        print(f"proof: stopping the services: {time.monotonic() - stopping:.1f}s")
    procs.log_file(name).unlink(missing_ok=True)
