"""Shared by the security tests: the dashboard app over a stand-in for OpenSearch that records every
request body (what would have reached OpenSearch) and answers with the posts it was given."""

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

# The producer's local fake servers (a WebSocket Jetstream, an X filtered stream) serve the attacks.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "producer"))


class RecordingSearch:
    """Answers `search` with `posts` (as hits, once) and empty aggregations; keeps every body."""

    def __init__(self, posts: list[dict[str, Any]] | None = None) -> None:
        self.posts = list(posts or [])
        self.bodies: list[dict[str, Any]] = []

    def search(self, index, body, params=None, request_timeout=None):
        self.bodies.append(body)
        hits = [{"_id": p["id"], "_source": p, "sort": [i]} for i, p in enumerate(self.posts)]
        self.posts = []
        return {"hits": {"total": {"value": len(hits)}, "hits": hits}, "aggregations": {}}

    def ping(self):
        return True


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
