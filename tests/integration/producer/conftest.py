"""Producer integration fixtures: the real local AWS emulator (moto over hypercorn), no OpenSearch.

`isolated_stack` here overrides the root one for these tests: its own Kinesis stream (2 shards) and
dead-letter queue per test; the producer needs neither the table nor OpenSearch, so the session
only needs the emulator (reused when up, else started with `pulse-stack up --no-opensearch`).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest


def _aws_healthy(env: dict[str, str]) -> bool:
    """A cheap Kinesis call (moto's /moto-api/data.json dumps all state: slow on a busy emulator)."""
    from pulse_common.aws import client
    from pulse_common.settings import StackSettings

    stack = StackSettings(aws_endpoint_url=env["PULSE_AWS_ENDPOINT_URL"])
    try:
        client("kinesis", stack, connect_timeout=2, read_timeout=10).list_streams(Limit=1)
    except Exception:  # noqa: BLE001 - not up
        return False
    return True


@pytest.fixture(scope="session")
def aws_stack() -> Iterator[dict[str, str]]:
    """The emulator: a running one (anyone's) is reused and never stopped; else started and stopped."""
    from pulse_devstack import cli, procs

    if procs.read_pid(cli.AWS) is not None:
        env = cli.read_stack_env() or cli.stack_env(cli.Ports())
        deadline = time.monotonic() + 60
        while not _aws_healthy(env):
            assert time.monotonic() < deadline, "the running AWS emulator is not healthy; see .local/logs/"
            time.sleep(0.5)
        os.environ.update(env)
        yield env
        return
    assert cli.main(["up", "--no-opensearch"]) == 0, "pulse-stack up --no-opensearch failed; see .local/logs/"
    env = cli.read_stack_env()
    os.environ.update(env)
    try:
        yield env
    finally:
        if os.environ.get("PULSE_KEEP_STACK") != "1":
            procs.stop_process(cli.AWS)  # only what this session started


@pytest.fixture
def isolated_stack(aws_stack: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    from pulse_common.settings import StackSettings
    from pulse_devstack.resources import ensure_queue, ensure_stream

    names = {
        "PULSE_STREAM_NAME": f"t-prod-{uuid.uuid4().hex[:10]}",
        "PULSE_DLQ_NAME": f"t-prod-dlq-{uuid.uuid4().hex[:10]}",
    }
    for key, value in {**aws_stack, **names}.items():
        monkeypatch.setenv(key, value)
    stack = StackSettings()
    ensure_stream(stack, shards=2)
    ensure_queue(stack)
    return stack
