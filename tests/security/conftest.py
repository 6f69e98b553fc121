"""Fixtures of the security tests: the dashboard app over a RecordingSearch (security_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulse_common.settings import StackSettings
from pulse_common.tracking import load_tracking_config
from pulse_dashboard.app import create_app
from pulse_dashboard.settings import DashboardSettings

# The producer's local fake servers (a WebSocket Jetstream, an X filtered stream, a local HTTP
# server) serve the attacks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "producer"))

from security_support import RecordingSearch  # imports producer_fakes: after the path above


@pytest.fixture
def dashboard():
    """dashboard(search=None, **settings) -> a TestClient of the real app."""

    def make(search: RecordingSearch | None = None, **settings: Any) -> TestClient:
        stack = settings.pop("stack", None) or StackSettings(opensearch_index_alias="sec-posts")
        return TestClient(
            create_app(
                DashboardSettings(stack=stack, **settings),
                client=search or RecordingSearch(),
                tracking=load_tracking_config(),
            )
        )

    return make
