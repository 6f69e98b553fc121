"""What the observability files reference and what the services export, found by reading them.

- `exported_metrics()`: every metric the services declare (prometheus_client Counter/Gauge/Histogram/
  Summary with a literal `pulse_...` name in services/*/src and libs/src), by the series names they
  expose (`_total`, `_bucket`/`_sum`/`_count`, ...).
- `metric_names(expr)` / `selectors(expr)`: the metric names and vector selectors a PromQL expression uses.
- `alert_rules()` / `dashboard_targets()`: every alert and every Grafana panel query in deploy/.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = [REPO_ROOT / "libs" / "src", *sorted((REPO_ROOT / "services").glob("*/src"))]
ALERTS = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARDS_DIR = REPO_ROOT / "deploy" / "grafana" / "dashboards"

# Prometheus' own series every scrape produces.
BUILTIN_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

_DECLARATION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*(?:name\s*=\s*)?[\"'](pulse_[a-z0-9_]+)[\"']", re.S
)
_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}
_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "inf",
    "nan",
    "atan2",
    "start",
    "end",
}


@dataclass(frozen=True)
class Declared:
    family: str  # the name passed to prometheus_client (counters without `_total`)
    kind: str
    path: Path


@functools.cache
def declared_metrics() -> dict[str, Declared]:
    """family name -> declaration, from the services' and libs' Python source."""
    found: dict[str, Declared] = {}
    for root in SOURCE_DIRS:
        for path in sorted(root.rglob("*.py")):
            for kind, name in _DECLARATION.findall(path.read_text(errors="replace")):
                family = name.removesuffix("_total") if kind == "Counter" else name
                found[family] = Declared(family, kind, path)
    return found


@functools.cache
def exported_metrics() -> dict[str, Declared]:
    """Every series name the services can expose -> its declaration."""
    series: dict[str, Declared] = {}
    for family, decl in declared_metrics().items():
        for suffix in _SUFFIXES[decl.kind]:
            series[family + suffix] = decl
    return series


def _strip(expr: str) -> str:
    expr = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)  # string literals
    expr = re.sub(r"\{[^}]*\}", " ", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", " ", expr)  # range / subquery durations
    # label lists of by/without/on/ignoring/group_left/group_right
    return re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (functions, keywords and label names excluded)."""
    names = set()
    for match in re.finditer(r"(?<![\w.:$])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()", _strip(expr)):
        token = match.group(1)
        if token.lower() not in _KEYWORDS:
            names.add(token)
    return names


def selectors(expr: str) -> set[str]:
    """The vector selectors (name plus label matchers, no range) an expression uses."""
    found = set()
    for name in metric_names(expr):
        for match in re.finditer(rf"(?<![\w:]){re.escape(name)}(?![\w:])\s*(\{{[^}}]*\}})?", expr):
            found.add(name + (match.group(1) or "").replace(" ", ""))
    return found


@dataclass(frozen=True)
class AlertRule:
    name: str
    expr: str
    labels: dict
    annotations: dict


def alert_rules(path: Path = ALERTS) -> list[AlertRule]:
    doc = yaml.safe_load(path.read_text())
    return [
        AlertRule(rule["alert"], rule["expr"], rule.get("labels", {}), rule.get("annotations", {}))
        for group in doc["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


@dataclass(frozen=True)
class PanelTarget:
    dashboard: str
    panel: str
    ref_id: str
    expr: str


def _panels(panels: list[dict]):
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # collapsed rows keep their panels inside


def dashboard_targets(directory: Path = DASHBOARDS_DIR) -> list[PanelTarget]:
    targets = []
    for path in sorted(directory.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    title, ref = panel.get("title", ""), target.get("refId", "")
                    targets.append(PanelTarget(board["title"], title, ref, target["expr"]))
    return targets


def grafana_to_promql(expr: str, window: str = "1m") -> str:
    """A Grafana query as plain PromQL for the HTTP API (Grafana's range variables replaced)."""
    for var in ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}", "$__range"):
        expr = expr.replace(var, window)
    return expr
