"""End-to-end latency and peak throughput of the whole pipeline on this machine.

Prints
  bench: e2e_latency_p95_ms <v>     posts replayed by the real producer at 500 posts/s for 60 s through
                                    Kinesis -> enricher (KCL daemon + processors) -> DynamoDB -> indexer
                                    -> OpenSearch; latency of every 10th post = the first moment a
                                    search finds it (polled every 0.25 s, so refresh included) minus
                                    its `ingested_at` (stamped by the producer when the post enters
                                    its batch, i.e. at most linger = 100 ms before the put: this
                                    over-states put -> searchable slightly, never under-states it)
  bench: e2e_latency_p50_ms <v>     the median of the same samples
  bench: pipeline_posts_per_s <v>   the highest offered rate (ramp 500, 750, 1000, 1500, 2000 posts/s,
                                    60 s each, stops at the first failure; if 500 already fails, down
                                    400, 300, 200, 100 until one holds) that the pipeline sustained:
                                    every post searchable, freshness p95 <= 3 s over the step. 0 when
                                    no step held (the line says so).
Before the first step, 45 s of the same load (`--warmup-seconds`) run unmeasured, so the figures are
the pipeline's steady state: JIT-compiled JVMs, KCL leases held, NLP caches filled, the index created.
Uses its own stream, table, queue, index alias and consumer applications (reliability.Workspace) on
the local stack (started for the run unless one is already up), and drops them at the end.

Run: .venv/bin/python bench/bench_e2e.py [--seconds 60] [--warmup-seconds 45] [--rates 750 1000 1500 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from scenarios.check import Options, counts
from scenarios.inputs import replay_lines, sample_docs, write_lines
from scenarios.soak import FreshnessProbe, stage_summary
from scenarios.world import Workspace, wait_producer, wait_until

from pulse_devstack import procs
from pulse_devstack.session import running_stack

TARGET_P95_S = 3.0


def step(ws: Workspace, rate: float, seconds: float, tag: str, docs: list[dict]) -> dict:
    """Offer `rate` posts/s for `seconds`; how the pipeline kept up."""
    total = int(rate * seconds)
    lines = replay_lines(total, tag, docs=docs)
    path = write_lines(ws.log_dir / f"{tag}.jsonl", lines)
    sampled = [f"x:{tag}{i:07d}" for i in range(0, total, 10)]
    base_table, base_search = counts(ws)
    probe = FreshnessProbe(ws.stack.opensearch_url, ws.stack.opensearch_index_alias, sampled)
    probe.start()
    started = time.monotonic()
    wait_producer(ws.start_producer("replay", str(path), "--rate", str(rate), name=f"producer-{tag}"))
    produced_s = time.monotonic() - started
    # Let the pipeline drain: all sampled ids found, or 60 s after the producer finished.
    deadline = time.monotonic() + 60
    while probe.pending and time.monotonic() < deadline:
        ws.check_alive()
        time.sleep(0.5)
    probe.stop_event.set()
    probe.join(timeout=5)
    table, search = counts(ws)
    latencies = sorted(lat for _, lat in probe.latencies)

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("inf")

    return {
        "rate": rate, "posts": total, "produced_s": produced_s, "offered_per_s": total / produced_s,
        "sampled": len(sampled), "found": len(latencies), "missing": len(probe.pending),
        "p50_s": pct(0.5), "p95_s": pct(0.95), "p99_s": pct(0.99),
        "max_s": latencies[-1] if latencies else -1,
        "table_new": table - base_table, "search_new": search - base_search,
        "stages": stage_summary(probe.stages),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each step")
    parser.add_argument("--latency-rate", type=float, default=500.0)
    parser.add_argument("--warmup-seconds", type=float, default=45.0,
                        help="unmeasured load at the latency rate before the first step")
    parser.add_argument("--rates", type=float, nargs="*", default=[750, 1000, 1500, 2000],
                        help="ramp steps after the latency step (which is the first ramp step)")
    parser.add_argument("--down-rates", type=float, nargs="*", default=[400, 300, 200, 100],
                        help="when the first step is not sustained: lower rates, tried in order")
    args = parser.parse_args()
    procs.exit_on_sigterm()
    with running_stack(opensearch=True):  # reuses a running stack; stops only what it started
        return run(args)


def host_loop_seconds() -> float:
    """Best of 3 timings of a fixed pure-Python loop: how fast this machine's cores are right now.
    On a shared (virtual) host it moves by tens of percent from hour to hour, and the pipeline's
    latency at 500 posts/s with it; the log line lets a reader tell the machine from the code."""
    best = float("inf")
    for _ in range(3):
        started, total = time.perf_counter(), 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def run(args: argparse.Namespace) -> int:
    print(f"# host speed: a 2M-step Python loop takes {host_loop_seconds():.3f} s (lower is faster)",
          file=sys.stderr, flush=True)
    opts = Options(base_env=dict(os.environ))
    ws = Workspace("e2e", opts.base_env, opts.log_root.parent / "bench-e2e")
    ws.create()
    docs = sample_docs()
    try:
        ws.start_indexer()
        ws.start_enricher()
        # Warm-up, not measured: the JVMs' JIT, the KCL leases, the NLP caches and the new index reach
        # their steady state under `--warmup-seconds` of the latency rate, and all of it is searchable.
        warm_total = max(200, int(args.latency_rate * args.warmup_seconds))
        warm = write_lines(ws.log_dir / "warm.jsonl", replay_lines(warm_total, f"w{ws.suffix}", docs=docs))
        print(f"# warm-up: {warm_total} posts at {args.latency_rate:.0f}/s", file=sys.stderr, flush=True)
        rate = str(args.latency_rate)
        wait_producer(ws.start_producer("replay", str(warm), "--rate", rate, name="producer-warm"))
        wait_until(lambda: counts(ws)[1] >= warm_total, 300, "the warm-up posts to be searchable", step=1)
        results = []
        best = 0.0
        plan = [args.latency_rate, *args.rates]
        i = 0
        while i < len(plan):
            rate = plan[i]
            res = step(ws, rate, args.seconds, f"e{i}{ws.suffix}", docs)
            ok = res["missing"] == 0 and res["p95_s"] <= TARGET_P95_S and res["search_new"] >= res["posts"]
            verdict = "sustained" if ok else "NOT sustained"
            print(f"# step {rate:.0f}/s offered {res['offered_per_s']:.0f}/s for {res['produced_s']:.0f}s: "
                  f"p50 {res['p50_s']:.2f}s p95 {res['p95_s']:.2f}s p99 {res['p99_s']:.2f}s "
                  f"max {res['max_s']:.2f}s, sampled {res['sampled']} missing {res['missing']}, "
                  f"searchable {res['search_new']}/{res['posts']} -> {verdict}; {res['stages']}",
                  file=sys.stderr, flush=True)
            results.append(res)
            if i == 0:
                print(f"bench: e2e_latency_p95_ms {res['p95_s'] * 1000:.0f}", flush=True)
                print(f"bench: e2e_latency_p50_ms {res['p50_s'] * 1000:.0f}", flush=True)
                if res["p95_s"] > TARGET_P95_S:
                    print(f"# e2e latency target (p95 <= {TARGET_P95_S:.0f} s at {rate:.0f} posts/s) MISSED",
                          file=sys.stderr)
            if ok:
                best = max(best, res["offered_per_s"])
            if not ok and best == 0 and rate > min(args.down_rates, default=rate):
                # Not even the first step: ramp down to find what is sustained.
                plan = plan[: i + 1] + [r for r in args.down_rates if r < rate]
            elif not ok or (best and rate < args.latency_rate):
                break
            i += 1
        print(f"bench: pipeline_posts_per_s {best:.0f}", flush=True)
        if best == 0:
            print("# pipeline_posts_per_s: not even the first step was sustained (see the step lines)",
                  file=sys.stderr)
        return 0
    finally:
        ws.pipeline.stop()
        ws.drop()


if __name__ == "__main__":
    sys.exit(main())
