"""Every metric a Grafana panel or an alert uses is one the services really declare (no drift).

A renamed or removed metric in services/*/src fails this test, not a silent empty panel in production.
"""

from __future__ import annotations

import re

import pytest
from obs_catalog import (
    BUILTIN_SERIES,
    alert_rules,
    dashboard_targets,
    declared_metrics,
    exported_metrics,
    metric_names,
)

NAME_CONVENTION = re.compile(r"^pulse_(producer|enricher|indexer|dashboard|common)_[a-z0-9_]+$")


def _unknown(expr: str) -> set[str]:
    exported = exported_metrics()
    return {name for name in metric_names(expr) if name not in exported and name not in BUILTIN_SERIES}


def test_the_services_declare_metrics_the_grep_can_see():
    # Guards the grep itself: if the services stopped declaring metrics this way, every check
    # below would pass vacuously.
    services = {decl.family.split("_")[1] for decl in declared_metrics().values()}
    assert {"producer", "indexer"} <= services


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule.name)
def test_every_metric_an_alert_uses_is_exported_by_a_service(rule):
    assert metric_names(rule.expr), f"{rule.name} selects no metric"
    assert _unknown(rule.expr) == set()


def test_every_metric_a_dashboard_panel_uses_is_exported_by_a_service():
    targets = dashboard_targets()
    assert targets, "no dashboards generated under deploy/grafana/dashboards"
    unknown = {f"{t.dashboard} / {t.panel}": sorted(_unknown(t.expr)) for t in targets if _unknown(t.expr)}
    assert unknown == {}


def test_every_declared_metric_follows_the_naming_convention():
    families = [decl.family for decl in declared_metrics().values()]
    bad = sorted(family for family in families if not NAME_CONVENTION.match(family))
    assert bad == []
