"""Run every benchmark of the project and print one `bench: <name> <value>` line per figure.

Each bench/bench_*.py is a standalone script that prints its own `bench:` lines. This runner
runs them one after another (never in parallel: they share 2 cores and the local stack, which it
starts once for all of them unless one is up),
collects the figures, prints a markdown table with the ratios against the baselines that
reproduce the original reference design's per-record calls, and saves both under bench/results/.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
STACKLESS = {"bench_enrich"}  # pure CPU benchmarks
LINE = re.compile(r"^bench: (?P<name>[a-z0-9_]+) (?P<value>-?[0-9.]+(?:e[+-]?\d+)?)\s*$")

# (batched figure, per-record baseline figure, what the baseline does)
RATIOS = [
    ("producer_replay_posts_per_s", "producer_baseline_posts_per_s", "put_record per post"),
    ("enricher_posts_per_s", "enricher_baseline_posts_per_s", "put_item per post"),
    ("indexer_docs_per_s", "indexer_baseline_docs_per_s", "one index request per document"),
]
TARGETS = {
    "enrich_posts_per_s": (">=", 2000),
    "indexer_docs_per_s": (">=", 3000),
    "e2e_latency_p95_ms": ("<=", 3000),
    "dashboard_api_p95_ms": ("<=", 300),
    "pulse_cpu_ms_per_post": ("<=", 1.0),
}


def run_script(script: Path, timeout_s: float) -> tuple[dict[str, float], str | None]:
    print(f"# running {script.name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        return {}, f"timed out after {timeout_s:.0f}s"
    figures = {}
    for line in done.stdout.splitlines():
        match = LINE.match(line.strip())
        if match:
            figures[match["name"]] = float(match["value"])
            print(line.strip(), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{script.stem}.log").write_text(done.stdout + done.stderr)
    print(f"# {script.name} took {time.monotonic() - started:.0f}s (log: bench/results/{script.stem}.log)",
          file=sys.stderr)
    if done.returncode != 0:
        return figures, f"exit {done.returncode}: {done.stderr.strip().splitlines()[-1:]}"
    return figures, None


def ratio_table(figures: dict[str, float]) -> str:
    rows = [
        "| figure | value | baseline (reference design) | baseline value | ratio |",
        "|---|---|---|---|---|",
    ]
    for batched, baseline, what in RATIOS:
        if batched in figures and baseline in figures and figures[baseline] > 0:
            rows.append(
                f"| {batched} | {figures[batched]:.0f} | {what} | {figures[baseline]:.0f} "
                f"| {figures[batched] / figures[baseline]:.1f}× |"
            )
    rows.append("")
    rows.append("| figure | value | target | met |")
    rows.append("|---|---|---|---|")
    for name, value in sorted(figures.items()):
        target = TARGETS.get(name)
        if target:
            op, bound = target
            met = value >= bound if op == ">=" else value <= bound
            rows.append(f"| {name} | {value:g} | {op} {bound} | {'yes' if met else 'NO'} |")
        else:
            rows.append(f"| {name} | {value:g} | | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="script stems to run, e.g. bench_enrich")
    parser.add_argument("--timeout", type=float, default=1200, help="seconds per script")
    args = parser.parse_args(argv)
    scripts = sorted(BENCH_DIR.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem in set(args.only)]
    figures: dict[str, float] = {}
    failures: dict[str, str] = {}
    # One stack for every script (each reuses it), as a deployment's services run for long; a stack
    # that is already up is used as it is. Its OpenSearch keeps the stack's C1-only JIT: the full
    # JIT indexes with ~40 % less CPU once warm, but on 2 cores its compiler threads take 15 s of
    # CPU a minute for the first five minutes of load, which costs the e2e figure more than it gains.
    from pulse_devstack.session import running_stack

    # The emulator counts each request's billing units for bench_cost (a stack started here does).
    os.environ.setdefault("PULSE_EMULATOR_STATS", str(RESULTS / "emulator-stats.json"))

    def run(chosen: list[Path]) -> None:
        for script in chosen:
            found, error = run_script(script, args.timeout)
            figures.update(found)
            if error:
                failures[script.name] = error
                print(f"bench: {script.stem} FAILED ({error})", file=sys.stderr)

    # CPU-only scripts first, before the stack exists: its processes would share their core.
    run([script for script in scripts if script.stem in STACKLESS])
    with_stack = [script for script in scripts if script.stem not in STACKLESS]
    with running_stack(opensearch=True) if with_stack else contextlib.nullcontext():
        run(with_stack)
    table = ratio_table(figures)
    print()
    print(table)
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    (RESULTS / "latest.json").write_text(
        json.dumps({"at": stamp, "figures": figures, "failures": failures}, indent=2)
    )
    (RESULTS / "latest.md").write_text(f"# Pulse benchmarks, {stamp}\n\n{table}\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
