"""One way for tests, benchmarks and scripts to get a running local stack.

`running_stack()` reuses whatever components are already up (anyone's), starts the missing
ones, and on exit stops only what it started itself — never someone else's stack.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from pulse_devstack import cli, procs


@contextlib.contextmanager
def running_stack(*, opensearch: bool = True, prometheus: bool = False) -> Iterator[dict[str, str]]:
    """Yield the stack's environment (also exported to os.environ) while the stack runs."""
    wanted = [cli.AWS] + ([cli.OPENSEARCH] if opensearch else []) + ([cli.PROMETHEUS] if prometheus else [])
    already = {name for name in wanted if procs.read_pid(name) is not None}
    argv = ["up"] + ([] if opensearch else ["--no-opensearch"]) + (["--prometheus"] if prometheus else [])
    if cli.main(argv) != 0:
        raise procs.StackError("pulse-stack up failed; see .local/logs/")
    env = cli.read_stack_env()
    os.environ.update(env)
    try:
        yield env
    finally:
        if os.environ.get("PULSE_KEEP_STACK") != "1":
            for name in reversed(wanted):
                if name not in already:
                    procs.stop_process(name)
            if not already:
                cli.STACK_ENV_FILE.unlink(missing_ok=True)
