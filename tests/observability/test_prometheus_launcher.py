"""pulse_devstack.prometheus runs a real Prometheus with a generated config and stops it by pid."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest
from prometheus_client import CollectorRegistry, Counter

from pulse_common.metrics import serve_metrics
from pulse_devstack import procs, prometheus


def test_the_generated_local_config_with_the_alert_rules_passes_promtool(promtool, tmp_path):
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus.render_config(prometheus.default_targets({})))
    done = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "alerts.yml" in done.stdout + done.stderr  # the rules were loaded and checked too


def test_the_scrape_targets_follow_the_services_port_settings():
    targets = prometheus.default_targets(
        {"PULSE_PRODUCER_METRICS_PORT": "19101", "PULSE_DASHBOARD_PORT": "18080"}
    )
    assert targets == {
        "producer": "127.0.0.1:19101",
        "enricher": "127.0.0.1:9102",
        "indexer": "127.0.0.1:9103",
        "dashboard": "127.0.0.1:18080",
    }


def test_a_missing_prometheus_binary_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PULSE_PROMETHEUS_BIN", "/nonexistent/prometheus")
    with pytest.raises(procs.StackError, match="make setup"):
        prometheus.start(procs.free_port(), log=lambda _msg: None)


def test_prometheus_scrapes_a_service_and_is_stopped_by_its_pid_file(prometheus_binary, tmp_path):
    registry = CollectorRegistry()
    Counter("pulse_selftest_things_total", "things", registry=registry).inc(3)
    server = serve_metrics(0, host="127.0.0.1", registry=registry)
    name = f"prometheus-test-{uuid.uuid4().hex[:8]}"
    port = procs.free_port()
    try:
        proc = prometheus.start(
            port,
            log=lambda _msg: None,
            name=name,
            targets={"producer": f"127.0.0.1:{server.server_address[1]}"},
            data_dir=tmp_path / "data",
            config_dir=tmp_path,
            rule_files=[],
        )
        assert procs.read_pid(name) == proc.pid
        url = f"http://127.0.0.1:{port}"
        result: list[dict] = []
        deadline = time.monotonic() + 30
        while not result and time.monotonic() < deadline:
            result = prometheus.query(url, 'pulse_selftest_things_total{service="producer"}')
            time.sleep(0.5)
        assert [float(r["value"][1]) for r in result] == [3.0]
        assert result[0]["metric"]["job"] == "pulse-producer"

        with pytest.raises(procs.StackError, match=f"port {port} is busy"):
            prometheus.start(port, log=lambda _msg: None, name=f"{name}-2", config_dir=tmp_path / "2")

        assert procs.stop_process(name)  # what `pulse-stack down` does for "prometheus"
        assert proc.wait(timeout=10) is not None
        assert procs.read_pid(name) is None
    finally:
        procs.stop_process(name)
        server.shutdown()
    procs.log_file(name).unlink(missing_ok=True)


def test_the_aws_example_config_passes_promtool_in_agent_mode(promtool):
    example = prometheus.REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml"
    argv = [promtool, "check", "config", "--agent", str(example)]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
