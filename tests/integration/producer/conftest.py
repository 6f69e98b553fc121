"""Producer integration fixtures: the real local AWS emulator (moto over hypercorn), no OpenSearch.

`isolated_stack` here overrides the root one for these tests: its own Kinesis stream (2 shards) and
dead-letter queue per test; the producer needs neither the table nor OpenSearch, so the session
only needs the emulator (reused when up, else started with `pulse-stack up --no-opensearch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def aws_stack() -> Iterator[dict[str, str]]:
    """The emulator: a running one (anyone's) is reused and never stopped; else started and stopped."""
    from pulse_devstack.session import running_stack

    with running_stack(opensearch=False) as env:
        yield env


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
