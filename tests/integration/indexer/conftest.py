"""Fixtures for the indexer's integration tests (helpers live in indexer_helpers.py)."""

from __future__ import annotations

import pytest
from indexer_helpers import FAST, _cleanup


@pytest.fixture
def indexer_stack(isolated_stack, monkeypatch):
    """isolated_stack + fast indexer settings; drops the test's indices, template and tables after."""
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    yield isolated_stack
    _cleanup(isolated_stack)
