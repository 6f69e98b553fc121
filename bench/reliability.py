"""`make reliability`: failure scenarios against the local stack, one line each, plus fuzzing.

    reliability: <scenario> posts=<n> lost=<n> sink_duplicates=<n> dead_letter=<n> recovered_s=<s>

The scenarios (each on its own stream, table, queue, index alias and consumer applications) and the
exact meaning of every figure are in `bench/scenarios` (its package docstring). Scenarios run
one after another; the script exits 1 when any scenario lost a post, stored a sink duplicate, never
recovered, or missed its own extra check (poison: every poison record dead-lettered; soak: RSS
growth < 10 % after warm-up and freshness p95 <= 3 s), or when the fuzzing found a contract breach.

Examples:
    .venv/bin/python bench/reliability.py                       # fuzz 100k + all ten scenarios
    .venv/bin/python bench/reliability.py --only poison replay  # some scenarios
    .venv/bin/python bench/reliability.py --soak-minutes 3 --fuzz-count 0
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_fuzz(count: int) -> bool:
    if count <= 0:
        return True
    print(f"# fuzzing {count} inputs", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, str(REPO / "tests" / "fuzz" / "pulse_fuzz_targets.py"),
                           "--count", str(count)], check=False)
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    import scenarios as reliability

    from pulse_devstack import procs

    procs.exit_on_sigterm()

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(reliability.SCENARIOS), help="scenarios to run")
    parser.add_argument("--posts", type=int, default=3000, help="posts per scenario (1-8)")
    parser.add_argument("--rate", type=float, default=600.0, help="producer posts/s in the fault scenarios")
    parser.add_argument("--soak-minutes", type=float, default=20.0)
    parser.add_argument("--soak-rate", type=float, default=300.0)
    parser.add_argument("--fuzz-count", type=int, default=100_000, help="0 = no fuzzing")
    args = parser.parse_args(argv)

    from pulse_devstack.session import running_stack

    with running_stack(opensearch=True):  # reuses a running stack; stops only what it started
        return run(args)


def run(args: argparse.Namespace) -> int:
    import scenarios as reliability

    ok = run_fuzz(args.fuzz_count)
    opts = reliability.Options(posts=args.posts, rate=args.rate, soak_minutes=args.soak_minutes,
                               soak_rate=args.soak_rate, base_env=dict(os.environ))
    names = args.only or list(reliability.SCENARIOS)
    lines = []
    from bench_e2e import host_loop_seconds

    for name in names:
        # The host's speed moves by tens of percent from hour to hour; the soak's freshness with it.
        print(f"# scenario {name}; host speed: a 2M-step Python loop takes {host_loop_seconds():.3f} s, "
              f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            result = reliability.SCENARIOS[name](opts)
        except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the others
            traceback.print_exc()
            print(f"reliability: {name} ERROR {type(exc).__name__}: {exc}", flush=True)
            ok = False
            continue
        print(result.line(), flush=True)
        lines.append(result.line())
        for note in result.notes:
            print(f"#   {note}", file=sys.stderr, flush=True)
        print(f"# {name}: {'ok' if result.ok else 'FAILED'} in {time.monotonic() - started:.0f}s",
              file=sys.stderr, flush=True)
        ok &= result.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
