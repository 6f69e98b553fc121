"""deploy/prometheus/alerts.yml: valid for promtool, unit-tested, complete, and documented."""

from __future__ import annotations

import re
import subprocess

import yaml
from obs_catalog import ALERTS, REPO_ROOT, alert_rules

ALERTS_TEST = ALERTS.parent / "alerts_test.yml"
RUNBOOK = REPO_ROOT / "docs" / "observability.md"

# What issue 9 asks to be alerted on -> the alert that covers it.
REQUIRED = {
    "a service down": "PulseServiceDown",
    "producer silent": "PulseProducerSilent",
    "producer disconnected": "PulseProducerDisconnected",
    "Kinesis iterator age high": "PulseKinesisIteratorAgeHigh",
    "dead letters appearing": "PulseDeadLettersAppearing",
    "indexer lag high": "PulseIndexerLagHigh",
    "bulk failures": "PulseIndexerBulkFailures",
    "freshness p95 over target": "PulseFreshnessP95OverTarget",
}


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)


def test_promtool_check_rules_accepts_the_alert_rules(promtool):
    done = _run([promtool, "check", "rules", str(ALERTS)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(alert_rules())} rules found" in done.stdout


def test_promtool_test_rules_passes_every_alert_unit_test(promtool):
    done = _run([promtool, "test", "rules", str(ALERTS_TEST)])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_the_issue_asks_for_exists():
    names = {rule.name for rule in alert_rules()}
    missing = {need: alert for need, alert in REQUIRED.items() if alert not in names}
    assert not missing


def test_every_alert_has_a_unit_test_where_it_fires_and_one_where_it_stays_quiet():
    cases = yaml.safe_load(ALERTS_TEST.read_text())["tests"]
    fired, quiet = set(), set()
    for case in cases:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule.name for rule in alert_rules()}
    assert names - fired == set()
    assert names - quiet == set()


def test_every_alert_has_a_severity_a_summary_and_a_runbook_section_that_exists():
    runbook = RUNBOOK.read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("#")
    }
    for rule in alert_rules():
        assert rule.labels.get("severity") in ("critical", "warning"), rule.name
        assert rule.annotations.get("summary"), rule.name
        link = rule.annotations.get("runbook", "")
        assert link == f"docs/observability.md#{rule.name.lower()}", rule.name
        assert link.split("#", 1)[1] in anchors, f"{rule.name}: no '## {rule.name}' section in {RUNBOOK}"
