"""pulse-stack: start, stop and inspect the local stack (moto over h2c, OpenSearch, Prometheus)."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

from pulse_common.settings import StackSettings
from pulse_devstack import procs
from pulse_devstack.paths import CACHE_DIR, DATA_DIR, LOCAL_DIR, RUN_DIR, STACK_ENV_FILE, ensure_dirs

AWS = "aws-emulator"
OPENSEARCH = "opensearch"
PROMETHEUS = "prometheus"
COMPONENTS = (AWS, OPENSEARCH, PROMETHEUS)


@dataclass(frozen=True)
class Ports:
    aws: int = int(os.environ.get("PULSE_STACK_AWS_PORT", "4566"))
    opensearch: int = int(os.environ.get("PULSE_STACK_OPENSEARCH_PORT", "9200"))
    opensearch_transport: int = int(os.environ.get("PULSE_STACK_OPENSEARCH_TRANSPORT_PORT", "9300"))
    prometheus: int = int(os.environ.get("PULSE_STACK_PROMETHEUS_PORT", "9090"))


def stack_env(ports: Ports) -> dict[str, str]:
    """The environment every service and test uses to reach the local stack."""
    return {
        "PULSE_AWS_ENDPOINT_URL": f"http://127.0.0.1:{ports.aws}",
        "PULSE_AWS_REGION": "us-east-1",
        "PULSE_STREAM_NAME": "pulse-posts",
        "PULSE_TABLE_NAME": "pulse-posts",
        "PULSE_DLQ_NAME": "pulse-dead-letter",
        "PULSE_OPENSEARCH_URL": f"http://127.0.0.1:{ports.opensearch}",
        "PULSE_PROMETHEUS_URL": f"http://127.0.0.1:{ports.prometheus}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def read_stack_env() -> dict[str, str]:
    """The env written by the last `pulse-stack up` (empty when the stack is down)."""
    env: dict[str, str] = {}
    if STACK_ENV_FILE.exists():
        for line in STACK_ENV_FILE.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, value = line.split("=", 1)
                env[key.strip()] = value.strip()
    return env


@contextlib.contextmanager
def stack_lock() -> Iterator[None]:
    """Only one `up`/`down` at a time, even from parallel test sessions."""
    ensure_dirs()
    with open(RUN_DIR / "stack.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _http_ok(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bool:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return 200 <= resp.status < 300


def _aws_healthy(port: int) -> bool:
    return _http_ok(f"http://127.0.0.1:{port}/moto-api/")


def start_aws(ports: Ports, log) -> None:
    if procs.read_pid(AWS):
        log(f"aws emulator already running on :{ports.aws}")
        return
    if not procs.port_is_free(ports.aws):
        raise procs.StackError(
            f"port {ports.aws} is busy; stop what uses it or set PULSE_STACK_AWS_PORT"
        )
    proc = procs.start_process(
        AWS, [sys.executable, "-m", "pulse_devstack.aws_emulator", "--port", str(ports.aws)]
    )
    procs.wait_for(
        lambda: _aws_healthy(ports.aws),
        timeout_s=60,
        what="aws emulator (moto over hypercorn)",
        log_path=procs.log_file(AWS),
        proc=proc,
    )
    log(f"aws emulator up on http://127.0.0.1:{ports.aws} (HTTP/1.1 + h2c)")


def start_opensearch(ports: Ports, log, heap_mb: int) -> None:
    from pulse_devstack import opensearch

    if procs.read_pid(OPENSEARCH):
        log(f"opensearch already running on :{ports.opensearch}")
        return
    if not procs.port_is_free(ports.opensearch):
        raise procs.StackError(
            f"port {ports.opensearch} is busy; stop what uses it or set PULSE_STACK_OPENSEARCH_PORT"
        )
    opensearch.build(CACHE_DIR / "opensearch", log=log)
    log_path = procs.log_file(OPENSEARCH)
    proc = opensearch.start_node(
        cache_dir=CACHE_DIR / "opensearch",
        home=DATA_DIR / "opensearch",
        http_port=ports.opensearch,
        transport_port=ports.opensearch_transport,
        log_path=log_path,
        heap_mb=heap_mb,
    )
    procs.record_pid(OPENSEARCH, proc.pid)
    opensearch.wait_healthy(
        f"http://127.0.0.1:{ports.opensearch}", timeout_s=180, log_path=log_path, proc=proc
    )
    log(f"opensearch up on http://127.0.0.1:{ports.opensearch}")


def start_prometheus(ports: Ports, log) -> None:
    try:
        from pulse_devstack import prometheus
    except ImportError:
        log("prometheus: not configured in this checkout; skipped")
        return
    if procs.read_pid(PROMETHEUS):
        log(f"prometheus already running on :{ports.prometheus}")
        return
    prometheus.start(ports.prometheus, log=log)


def up(args: argparse.Namespace) -> int:
    ports = Ports()
    started = time.monotonic()
    with stack_lock():
        ensure_dirs()
        env = stack_env(ports)
        start_aws(ports, print)
        if not args.no_opensearch:
            start_opensearch(ports, print, args.opensearch_heap_mb)
        if args.prometheus:
            start_prometheus(ports, print)
        STACK_ENV_FILE.write_text(
            "# written by pulse-stack up; `set -a; . .local/stack.env; set +a` to use it\n"
            + "".join(f"{k}={v}\n" for k, v in env.items())
        )
        os.environ.update(env)
        from pulse_devstack.resources import ensure_all

        created = ensure_all(StackSettings(), search=not args.no_opensearch)
    print(f"resources ready: {json.dumps(created)}")
    print(f"stack up in {time.monotonic() - started:.1f}s; env in {STACK_ENV_FILE}")
    return 0


def down(_args: argparse.Namespace) -> int:
    with stack_lock():
        for name in reversed(COMPONENTS):
            if procs.stop_process(name):
                print(f"stopped {name}")
        STACK_ENV_FILE.unlink(missing_ok=True)
    return 0


def status(_args: argparse.Namespace) -> int:
    ports = Ports()
    checks = {
        AWS: lambda: _aws_healthy(ports.aws),
        OPENSEARCH: lambda: _http_ok(f"http://127.0.0.1:{ports.opensearch}/_cluster/health"),
        PROMETHEUS: lambda: _http_ok(f"http://127.0.0.1:{ports.prometheus}/-/ready"),
    }
    any_down = False
    for name in COMPONENTS:
        pid = procs.read_pid(name)
        if pid is None:
            print(f"{name:14} stopped")
            if name != PROMETHEUS:
                any_down = True
            continue
        try:
            healthy = checks[name]()
        except Exception:  # noqa: BLE001 - reported as unhealthy
            healthy = False
        any_down |= not healthy
        print(f"{name:14} pid={pid} {'healthy' if healthy else 'UNHEALTHY'} log={procs.log_file(name)}")
    return 1 if any_down else 0


def env_cmd(_args: argparse.Namespace) -> int:
    env = read_stack_env()
    if not env:
        print("stack is not up; run `make stack-up`", file=sys.stderr)
        return 1
    for key, value in env.items():
        print(f"export {key}={value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-stack",
        description=f"The local Pulse stack. State, logs and pids live under {LOCAL_DIR}.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start the emulator, OpenSearch (and Prometheus), create resources")
    p_up.add_argument("--no-opensearch", action="store_true", help="AWS emulator only")
    p_up.add_argument("--prometheus", action="store_true", help="also start Prometheus")
    p_up.add_argument("--opensearch-heap-mb", type=int, default=768)
    p_up.set_defaults(func=up)
    sub.add_parser("down", help="stop what `up` started").set_defaults(func=down)
    sub.add_parser("status", help="show each component; exit 1 if one is down").set_defaults(func=status)
    sub.add_parser("env", help="print the stack's environment as export lines").set_defaults(func=env_cmd)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except procs.StackError as exc:
        print(f"pulse-stack: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
