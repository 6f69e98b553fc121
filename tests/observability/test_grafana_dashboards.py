"""deploy/grafana: dashboards generated from code, current, well-formed, provisioned."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import yaml
from obs_catalog import DASHBOARDS_DIR, REPO_ROOT, dashboard_targets, grafana_to_promql, metric_names

GRAFANA_DIR = REPO_ROOT / "deploy" / "grafana"


@pytest.fixture(scope="module")
def generator():
    if importlib.util.find_spec("grafana_foundation_sdk") is None:
        message = "grafana-foundation-sdk is not installed; make setup"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    spec = importlib.util.spec_from_file_location("pulse_grafana_generate", GRAFANA_DIR / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


def _boards() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def _panels(board: dict) -> list[dict]:
    return [panel for panel in board["panels"] if panel["type"] != "row"]


def test_the_committed_dashboards_equal_a_fresh_generation(generator):
    wanted = generator.files()
    assert sorted(DASHBOARDS_DIR.glob("*.json")) == sorted(wanted), "run deploy/grafana/generate.py"
    stale = [path.name for path, text in wanted.items() if path.read_text() != text]
    assert stale == [], "stale dashboards; run .venv/bin/python deploy/grafana/generate.py"


def test_the_generator_check_mode_agrees(generator):
    assert generator.main(["--check"]) == 0


def test_there_is_an_overview_and_one_detail_dashboard_per_service():
    boards = _boards()
    assert set(boards) == {
        "pulse-overview",
        "pulse-producer",
        "pulse-enricher",
        "pulse-indexer",
        "pulse-dashboard-api",
    }
    assert all(board["uid"] == uid for uid, board in boards.items())
    assert len({board["title"] for board in boards.values()}) == len(boards)


def test_the_overview_shows_what_operators_need():
    overview = _boards()["pulse-overview"]
    names = set().union(*(metric_names(t["expr"]) for p in _panels(overview) for t in p["targets"]))
    needed = {
        "posts in per source": "pulse_producer_posts_received_total",
        "Kinesis put rate": "pulse_producer_records_put_total",
        "Kinesis put failures": "pulse_producer_put_failures_total",
        "enricher throughput": "pulse_enricher_records_total",
        "millis_behind_latest per shard": "pulse_enricher_millis_behind_latest",
        "dead letters (producer)": "pulse_producer_dead_letters_total",
        "dead letters (enricher)": "pulse_enricher_dead_letters_total",
        "dead letters (indexer)": "pulse_indexer_dead_letters_total",
        "DynamoDB write latency": "pulse_enricher_dynamodb_write_seconds_bucket",
        "DynamoDB throttles": "pulse_enricher_dynamodb_retries_total",
        "indexer lag": "pulse_indexer_lag_seconds",
        "bulk latency": "pulse_indexer_bulk_seconds_bucket",
        "freshness": "pulse_indexer_freshness_ingested_seconds_bucket",
        "services up": "up",
    }
    missing = {what: metric for what, metric in needed.items() if metric not in names}
    assert missing == {}
    freshness = next(p for p in _panels(overview) if p["title"] == "Freshness: producer → searchable")
    assert [t["legendFormat"] for t in freshness["targets"]] == ["p50", "p95", "p99"]
    assert any(p["title"] == "Error ratios" for p in _panels(overview))


def test_every_panel_queries_prometheus_through_the_datasource_variable():
    for name, board in _boards().items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", name
        assert variables["datasource"]["query"] == "prometheus", name
        for panel in _panels(board):
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (
                name,
                panel["title"],
            )
            assert panel["targets"], (name, panel["title"])
            assert panel["fieldConfig"]["defaults"]["unit"], (name, panel["title"])


def test_panels_do_not_overlap_on_the_grid():
    for name, board in _boards().items():
        cells: dict[tuple[int, int], str] = {}
        for panel in board["panels"]:
            pos = panel["gridPos"]
            assert pos["x"] + pos["w"] <= 24, (name, panel["title"])
            for x in range(pos["x"], pos["x"] + pos["w"]):
                for y in range(pos["y"], pos["y"] + pos["h"]):
                    assert (x, y) not in cells, f"{name}: {panel['title']} overlaps {cells[(x, y)]}"
                    cells[(x, y)] = panel["title"]


def test_every_panel_query_is_valid_promql(promtool, tmp_path):
    # promtool parses each query as a recording rule: a syntax error fails here, not in Grafana.
    targets = dashboard_targets()
    rules = {
        "groups": [
            {
                "name": "panel-queries",
                "rules": [
                    {"record": f"pulse:panel_query:{i}", "expr": grafana_to_promql(t.expr)}
                    for i, t in enumerate(targets)
                ],
            }
        ]
    }
    path = tmp_path / "panel_queries.yml"
    path.write_text(yaml.safe_dump(rules))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_provisioning_files_point_at_the_prometheus_and_the_dashboards():
    datasources = yaml.safe_load((GRAFANA_DIR / "provisioning/datasources/pulse-prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["url"] == "${PULSE_PROMETHEUS_URL}"
    providers = yaml.safe_load((GRAFANA_DIR / "provisioning/dashboards/pulse.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "${PULSE_GRAFANA_DASHBOARDS}"
