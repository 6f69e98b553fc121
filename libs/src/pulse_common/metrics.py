"""Prometheus metrics plus /healthz and /readyz on one small HTTP server per service."""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Histogram, generate_latest

log = logging.getLogger("pulse.metrics")

ReadinessCheck = Callable[[], tuple[bool, str]]

# Latency buckets (seconds) for calls to AWS / OpenSearch measured on the local stack and on AWS.
CALL_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# End-to-end freshness buckets (seconds): target is p95 <= 3 s.
FRESHNESS_BUCKETS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)
BATCH_SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)


class BatchedObservations:
    """A histogram's observations gathered over a batch and written at its end. In multiprocess mode
    each `Histogram.observe` writes its bucket and its sum to the process's mmap file under a lock;
    once per post that was about 5 % of the enricher processor's CPU. `flush` adds the bucket counts
    and the sum that `observe` of each value would have added
    (tests/unit/enricher/test_enricher_metrics.py)."""

    FLUSH_AT = 10_000  # observations kept at most, should nobody flush

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self.values: list[float] = []
        self._lock = threading.Lock()  # the indexer's bulk chunks observe from a thread pool

    def observe(self, value: float) -> None:
        with self._lock:
            self.values.append(value)
            full = len(self.values) >= self.FLUSH_AT
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            values, self.values = self.values, []
        if not values:
            return
        bounds = self.histogram._upper_bounds  # prometheus-client's own: observe() walks the same list
        counts = [0] * len(bounds)
        for value in values:
            counts[bisect.bisect_left(bounds, value)] += 1  # the first bound >= value, as observe() picks
        self.histogram._sum.inc(sum(values))
        for index, count in enumerate(counts):
            if count:
                self.histogram._buckets[index].inc(count)


def serve_metrics(
    port: int,
    *,
    host: str = "0.0.0.0",
    readiness_check: ReadinessCheck | None = None,
    registry: CollectorRegistry | None = None,
    registry_factory: Callable[[], CollectorRegistry] | None = None,
) -> ThreadingHTTPServer:
    """Serve /metrics, /healthz (alive) and /readyz (dependencies reachable) in a daemon thread.

    `registry_factory` builds a fresh registry per scrape (prometheus multiprocess mode).
    """

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                reg = registry_factory() if registry_factory else (registry or REGISTRY)
                self._send(200, generate_latest(reg), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n", "text/plain")
            elif path == "/readyz":
                ok, detail = True, "ok"
                if readiness_check is not None:
                    try:
                        ok, detail = readiness_check()
                    except Exception as exc:  # noqa: BLE001 - a failing check means not ready
                        ok, detail = False, f"{type(exc).__name__}: {exc}"
                self._send(200 if ok else 503, (detail + "\n").encode(), "text/plain")
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return  # scrapes are not worth a log line

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    log.info("metrics listening", extra={"port": server.server_address[1]})
    return server
