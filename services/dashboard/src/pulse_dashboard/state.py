"""What the app's routes share: settings, the OpenSearch client, the views, metrics and the cache."""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from opensearchpy import OpenSearch
from prometheus_client import CollectorRegistry, Counter, Histogram

from pulse_common.metrics import CALL_LATENCY_BUCKETS
from pulse_common.tracking import TrackingConfig
from pulse_dashboard.filters import Filters
from pulse_dashboard.insights import Insights
from pulse_dashboard.settings import DashboardSettings


class TTLCache:
    """A small thread-safe LRU of view results, each kept `ttl_s` seconds."""

    def __init__(self, ttl_s: float, entries: int) -> None:
        self.ttl_s = ttl_s
        self.entries = entries
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: str, compute: Callable[[], Any], on_hit: Callable[[bool], None]) -> Any:
        if self.ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > now:
                self._data.move_to_end(key)
                on_hit(True)
                return hit[1]
        on_hit(False)
        value = compute()
        with self._lock:
            self._data[key] = (now + self.ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)
        return value


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "pulse_dashboard_requests_total",
            "API requests by route and status class",
            ["route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "pulse_dashboard_request_duration_seconds",
            "API latency by route",
            ["route"],
            buckets=CALL_LATENCY_BUCKETS,
            registry=registry,
        )
        self.cache = Counter(
            "pulse_dashboard_cache_lookups_total",
            "Aggregation view cache lookups",
            ["result"],
            registry=registry,
        )
        self.auth_refused = Counter(
            "pulse_dashboard_auth_refused_total",
            "oidc-header requests refused, by the check that failed",
            ["reason"],
            registry=registry,
        )
        self.search_errors = Counter(
            "pulse_dashboard_opensearch_errors_total",
            "OpenSearch calls that failed, by kind",
            ["kind"],
            registry=registry,
        )


@dataclass
class AppState:
    settings: DashboardSettings
    client: OpenSearch
    tracking: TrackingConfig
    insights: Insights
    metrics: Metrics
    cache: TTLCache

    def cached(self, view: str, f: Filters, compute: Callable[[], Any], **extra: Any) -> Any:
        """A view's result for these filters (and extra parameters), from the cache when fresh."""
        key = json.dumps([view, f.as_params(), extra], sort_keys=True, default=str)
        return self.cache.get_or_compute(
            key, compute, lambda hit: self.metrics.cache.labels("hit" if hit else "miss").inc()
        )


def app_state(request: Request) -> AppState:
    """The routes' dependency: the state create_app built."""
    return request.app.state.pulse
