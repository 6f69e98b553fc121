"""Scenario 9, the soak: memory and freshness under a steady load."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import datetime
from pathlib import Path

from pulse_devstack.procs import descendants

from .check import Options, Result, result_of, wait_converged, workspace
from .inputs import replay_input
from .world import wait_producer


def tree_rss_mb(pid: int) -> float:
    """Sum of the RSS of a service's process and all its descendants (the enricher's JVM and its
    per-shard processors are in their own process group, so a group would miss them)."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def _epoch(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()


def stage_summary(stages: list[tuple[float, float]]) -> str:
    """'ingested->enriched p50 a p95 b; enriched->searchable p50 c p95 d' (seconds)."""
    if not stages:
        return "no stage timings"

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    first, second = [s[0] for s in stages], [s[1] for s in stages]
    return (f"ingested->enriched p50 {pct(first, 0.5):.2f}s p95 {pct(first, 0.95):.2f}s; "
            f"enriched->searchable p50 {pct(second, 0.5):.2f}s p95 {pct(second, 0.95):.2f}s")


class FreshnessProbe(threading.Thread):
    """Polls OpenSearch for sampled ids (in input order); latency = first seen - ingested_at.

    `ingested_at` is set by the producer when the post enters its batch (before the put), so
    this over-estimates the put → searchable time by at most the producer's linger (100 ms).
    Resolution: the poll interval (0.25 s) plus the search call itself.
    """

    def __init__(self, url: str, alias: str, ids: list[str], interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.url, self.alias, self.interval_s = url, alias, interval_s
        self.pending = list(ids)
        self.latencies: list[tuple[float, float]] = []  # (seen at, latency s)
        # Where the time went, per found id: ingested -> enriched, enriched -> seen in a search.
        self.stages: list[tuple[float, float]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        from opensearchpy import OpenSearch

        search = OpenSearch(self.url, timeout=10)
        while not self.stop_event.is_set() and self.pending:
            window = self.pending[:300]
            try:
                res = search.search(index=f"{self.alias}-*", body={
                    "query": {"ids": {"values": window}}, "size": len(window),
                    "_source": ["ingested_at", "enriched_at"]},
                    ignore_unavailable=True, allow_no_indices=True)
                now = time.time()
                found = {}
                for hit in res["hits"]["hits"]:
                    ingested = _epoch(hit["_source"]["ingested_at"])
                    found[hit["_id"]] = now - ingested
                    enriched = hit["_source"].get("enriched_at")
                    if enriched:
                        self.stages.append((_epoch(enriched) - ingested, now - _epoch(enriched)))
                if found:
                    self.latencies += [(now, lat) for lat in found.values()]
                    self.pending = [i for i in self.pending if i not in found]
            except Exception:  # noqa: BLE001 - not there yet
                pass
            self.stop_event.wait(self.interval_s)

    def p(self, q: float, since: float = 0.0) -> float | None:
        values = sorted(lat for at, lat in self.latencies if at >= since)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


def s9_soak(opts: Options) -> Result:
    """`soak_minutes` at `soak_rate` posts/s through all three services; RSS of every service
    (process group: the enricher's JVM and processors included) must grow < 10 % after warm-up,
    freshness p95 (put → searchable, sampled ids) must stay within 3 s."""
    ws = workspace("soak", opts)
    try:
        seconds = opts.soak_minutes * 60
        total = int(seconds * opts.soak_rate)
        tag = f"s9{ws.suffix}"
        expected, replay = replay_input(ws, total, tag)
        sampled = [f"x:{tag}{i:07d}" for i in range(0, total, 20)]
        services = {"indexer": ws.start_indexer(), "enricher": ws.start_enricher()}
        time.sleep(10)  # the JVM and the processors start before the load
        probe = FreshnessProbe(ws.stack.opensearch_url, ws.stack.opensearch_index_alias, sampled)
        started = time.monotonic()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.soak_rate))
        services["producer"] = producer
        probe.start()
        warmup = max(60.0, seconds / 4)
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in services}
        while producer.running:
            ws.check_alive()
            for name, svc in services.items():
                if svc.proc is not None and svc.running:
                    samples[name].append((time.monotonic() - started, tree_rss_mb(svc.proc.pid)))
            time.sleep(5)
        wait_producer(producer)
        done = time.monotonic()
        verdict, recovered = wait_converged(ws, expected, since=done, timeout_s=300)
        probe.stop_event.set()
        notes, ok = [], True
        warm_end = time.time() - (time.monotonic() - started) + warmup
        for name, series in samples.items():
            after = [rss for t, rss in series if t >= warmup]
            if len(after) < 4:
                notes.append(f"{name}: too few samples after warm-up")
                continue
            first = statistics.median(after[: max(2, len(after) // 5)])
            last = statistics.median(after[-max(2, len(after) // 5):])
            growth = (last - first) / first * 100
            notes.append(f"rss {name}: after warm-up {first:.0f} MB -> end {last:.0f} MB ({growth:+.1f} %), "
                         f"max {max(after):.0f} MB")
            if growth >= 10:
                ok = False
        p95_all, p95_warm, p50 = probe.p(0.95), probe.p(0.95, since=warm_end), probe.p(0.5, since=warm_end)
        notes.append(f"freshness (put -> searchable, {len(probe.latencies)} sampled ids): "
                     f"p50 {p50 and round(p50, 2)} s, p95 {p95_warm and round(p95_warm, 2)} s after warm-up, "
                     f"p95 {p95_all and round(p95_all, 2)} s overall")
        if p95_warm is None or p95_warm > 3.0:
            ok = False
            notes.append("freshness p95 target (<= 3 s) MISSED")
        result = result_of("soak", ws, expected, verdict, recovered, notes)
        result.ok_extra = ok
        return result
    finally:
        ws.pipeline.stop()
        ws.drop()
