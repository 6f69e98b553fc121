"""Start, find and stop the stack's background processes by pid file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from pulse_common.kcl import group_alive
from pulse_devstack.paths import LOG_DIR, RUN_DIR


class StackError(RuntimeError):
    """A stack component could not be started or checked; the message says what to do."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_file(name: str) -> Path:
    return RUN_DIR / f"{name}.pid"


def log_file(name: str) -> Path:
    return LOG_DIR / f"{name}.log"


def read_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); look at its state.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def start_process(
    name: str, argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    """Start argv in its own session, output to .local/logs/<name>.log, pid to .local/run/."""
    log_path = log_file(name)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    record_pid(name, proc.pid)
    return proc


def record_pid(name: str, pid: int) -> None:
    pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    pid_file(name).write_text(f"{pid}\n")


def stop_process(name: str, timeout_s: float = 20.0) -> bool:
    """SIGTERM the process group recorded for name, SIGKILL after timeout. True if one ran."""
    pid = read_pid(name)
    pid_file(name).unlink(missing_ok=True)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pid_alive(pid) and not _group_alive(pid):
            return True
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    time.sleep(0.2)
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        os.kill(pid, sig)


_group_alive = group_alive  # one /proc reading for every process-group wait


def descendants(pid: int) -> list[int]:
    """Every live descendant of pid (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal pid, its descendants and their process groups (a child may have its own group,
    like the enricher's JVM)."""
    for target in [pid, *descendants(pid)]:
        try:
            _signal_group(os.getpgid(target), sig)
        except ProcessLookupError:
            continue
        try:
            os.kill(target, sig)
        except ProcessLookupError:
            pass


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log yet)"


def wait_for(
    check, *, timeout_s: float, what: str, log_path: Path, proc: subprocess.Popen | None = None
) -> None:
    """Poll check() until it returns True; raise StackError naming the log on timeout or exit."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(
                f"{what} exited with code {proc.returncode} while starting; "
                f"see {log_path}:\n{tail(log_path)}"
            )
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.25)
    raise StackError(f"{what} not healthy after {timeout_s:.0f}s; see {log_path}:\n{tail(log_path)}")


def exit_on_sigterm() -> None:
    """Make SIGTERM (`timeout`, CI cancelling a job) end the program like Ctrl-C does: as SystemExit
    in the main thread, so `finally:` blocks stop the services a bench or scenario started instead
    of leaving them running against the stack."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
