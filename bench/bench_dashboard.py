"""Dashboard API latency over 100,000 indexed posts.

Indexes 100,000 EnrichedPost-shaped synthetic posts (pulse_devstack.synthetic: 30 days, three
brands, eleven aspects, a planted spike) through the indexer's template into a throw-away alias of
the local OpenSearch, starts `pulse-dashboard` as a real process on it, and calls every view the page
loads (overview, timeline, aspects, share of voice, influencers, emerging topics, alerts, posts,
search, drill-down, live) with varied filters (ranges 24h..30d, brand subsets, networks), sequentially.
Prints:

    bench: dashboard_api_p95_ms <p95 over all cold calls>
    bench: dashboard_api_p50_ms <p50 over all cold calls>
    bench: dashboard_api_cached_p95_ms <p95 as deployed, with the view cache>

The headline is measured cold: the dashboard's view cache is off and OpenSearch's request cache
is cleared before every round, so every call aggregates from scratch. A second pass with the
dashboard as deployed (15 s view cache, minute-aligned ranges) and users repeating the same filter
sets prints `bench: dashboard_api_cached_p95_ms`. Per-view p50/p95 go to stderr. The alias and its
indices are deleted afterwards; the local stack is reused if it is up (and stopped again only if
this script started it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from pulse_common.tracking import load_tracking_config
from pulse_devstack import synthetic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
from dashboard_index import SampleIndex

VIEWS = {
    "overview": ("/api/overview", {}),
    "timeline": ("/api/timeline", {}),
    "aspects": ("/api/aspects", {}),
    "share-of-voice": ("/api/share-of-voice", {}),
    "influencers": ("/api/influencers", {"limit": 6}),
    "emerging": ("/api/emerging", {}),
    "alerts": ("/api/alerts", {"limit": 6}),
    "posts": ("/api/posts", {"size": 10}),
    "search": ("/api/posts", {"q": "battery drain", "size": 10, "sort": "relevance"}),
    "drill-down": ("/api/posts", {"aspect": "camera", "aspect_polarity": "negative", "size": 10}),
    "live": ("/api/live", {}),
}
FILTERS = [
    {"since": "7d"},
    {"since": "30d"},
    {"since": "14d", "product": "nova"},
    {"since": "24h"},
    {"since": "30d", "product": "nova", "competitor": "orbit"},
    {"since": "7d", "network": "x"},
]


def start_dashboard(index: SampleIndex, cache_ttl_s: float) -> tuple[subprocess.Popen, str]:
    script = Path(sys.executable).with_name("pulse-dashboard")
    # The server's own log, kept (and named on stderr) for when a call fails. The child writes to
    # its own copy of the descriptor: this process closes its handle once the child has it.
    with tempfile.NamedTemporaryFile("w", prefix="bench-dashboard-", suffix=".log", delete=False) as log:
        print(f"# pulse-dashboard log: {log.name}", file=sys.stderr)
        proc = subprocess.Popen(
            [str(script), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=log,
            env={**os.environ, **index.env(), "PULSE_DASHBOARD_CACHE_TTL_S": str(cache_ttl_s)},
            text=True,
        )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("pulse-dashboard: "):
        proc.kill()
        raise SystemExit(f"pulse-dashboard did not start: {line!r}")
    return proc, line.split(": ", 1)[1].strip().rstrip("/")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def clear_request_cache(index: SampleIndex) -> None:
    index.client.indices.clear_cache(index=index.alias, params={"request": "true"})


def measure(base: str, rounds: int, before_round=None) -> dict[str, list[float]]:
    """Every view × every filter set, `rounds` times, one call at a time; ms per call by view."""
    timings: dict[str, list[float]] = {name: [] for name in VIEWS}
    with httpx.Client(base_url=base, timeout=60) as http:
        for path, params in VIEWS.values():  # warm-up: first-use costs (global ordinals, JIT)
            http.get(path, params={**FILTERS[0], **params}).raise_for_status()
        for _ in range(rounds):
            if before_round:
                before_round()
            for filters in FILTERS:
                for name, (path, params) in VIEWS.items():
                    started = time.perf_counter()
                    res = http.get(path, params={**filters, **params})
                    elapsed = (time.perf_counter() - started) * 1000
                    res.raise_for_status()
                    timings[name].append(elapsed)
    return timings


def report(label: str, timings: dict[str, list[float]]) -> None:
    every = [t for values in timings.values() for t in values]
    for name, values in timings.items():
        print(
            f"# {label:6} {name:15} p50 {pct(values, 0.5):7.1f} ms  p95 {pct(values, 0.95):7.1f} ms",
            file=sys.stderr,
        )
    print(f"# {label:6} {len(every)} calls, mean {statistics.fmean(every):.1f} ms", file=sys.stderr)
    print(f"# load average during the run: {os.getloadavg()}", file=sys.stderr)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=6, help="passes over every view × filter set")
    parser.add_argument("--alias", help="measure this existing alias instead of indexing a new one")
    args = parser.parse_args()

    from pulse_devstack.session import running_stack

    with running_stack(opensearch=True) as env:  # reuses a running stack; stops only what it started
        return _bench(args, env["PULSE_OPENSEARCH_URL"])


def _bench(args: argparse.Namespace, url: str) -> int:
    if args.alias:  # measure an alias indexed earlier (kept afterwards)
        from pulse_common.opensearch import opensearch_client
        from pulse_common.settings import StackSettings

        stack = StackSettings(opensearch_url=url, opensearch_index_alias=args.alias)
        index = SampleIndex(stack=stack, client=opensearch_client(stack, timeout_s=120))
    else:
        t0 = time.perf_counter()
        index = SampleIndex.create(
            url,
            prefix="bench-dash",
            posts=synthetic.generate(args.posts, load_tracking_config(), days=30, seed=11),
            refresh_interval="-1",
        )
        print(
            f"# indexed {index.count} posts in {time.perf_counter() - t0:.0f}s into {index.alias}",
            file=sys.stderr,
        )
    proc = None
    try:
        index.client.indices.forcemerge(
            index=index.alias, params={"max_num_segments": "1", "request_timeout": 600}
        )
        proc, base = start_dashboard(index, cache_ttl_s=0)
        cold = measure(base, args.rounds, before_round=lambda: clear_request_cache(index))
        stop(proc)
        proc, base = start_dashboard(index, cache_ttl_s=15)
        cached = measure(base, args.rounds)
        report("cold", cold)
        report("cached", cached)
        every = [t for values in cold.values() for t in values]
        print(f"bench: dashboard_api_p95_ms {pct(every, 0.95):.1f}")
        print(f"bench: dashboard_api_p50_ms {pct(every, 0.5):.1f}")
        print(f"bench: dashboard_api_cached_p95_ms {pct([t for v in cached.values() for t in v], 0.95):.1f}")
    finally:
        if proc is not None:
            stop(proc)
        if not args.alias:
            index.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
