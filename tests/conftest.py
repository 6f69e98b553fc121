"""Shared fixtures: the real local stack, started once per test session (or reused), and
per-test resource names so tests never see each other's data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class LocalStack:
    """A running local stack: its environment."""

    env: dict[str, str]

    @property
    def aws_endpoint_url(self) -> str:
        return self.env["PULSE_AWS_ENDPOINT_URL"]

    @property
    def opensearch_url(self) -> str:
        return self.env["PULSE_OPENSEARCH_URL"]


@pytest.fixture(scope="session")
def local_stack() -> Iterator[LocalStack]:
    """The real local stack (moto over h2c + OpenSearch): what already runs is reused and left
    running; what this session starts, it stops."""
    from pulse_devstack.session import running_stack

    with running_stack(opensearch=True) as env:
        yield LocalStack(env=env)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def isolated_stack(local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch):
    """StackSettings with this test's own stream (2 shards), table, queue and index alias, created."""
    from pulse_common.settings import StackSettings
    from pulse_devstack.resources import ensure_all

    names = {
        "PULSE_STREAM_NAME": unique_name("t-posts"),
        "PULSE_TABLE_NAME": unique_name("t-posts"),
        "PULSE_DLQ_NAME": unique_name("t-dlq"),
        "PULSE_OPENSEARCH_INDEX_ALIAS": unique_name("t-posts"),
        # The KCL keeps its leases in tables named after the application: one per test.
        "PULSE_ENRICHER_APPLICATION_NAME": unique_name("t-enricher"),
    }
    for key, value in {**local_stack.env, **names}.items():
        monkeypatch.setenv(key, value)
    stack = StackSettings()
    ensure_all(stack, search=True)
    return stack


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the local stack is marked `stack`: `make test` (scripts/test.sh) runs
    those one after another, as they share its emulator, its OpenSearch node and the services'
    default ports, and the pure tests in a second pytest process beside them."""
    for item in items:
        if item.get_closest_marker("integration") or "local_stack" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.stack)
