"""Fixtures for the producer's unit tests (the fakes live in producer_fakes.py)."""

from __future__ import annotations

import pytest
from producer_fakes import FakeDeadLetter, FakeKinesis


@pytest.fixture
def fake_kinesis() -> FakeKinesis:
    return FakeKinesis()


@pytest.fixture
def fake_dead_letter() -> FakeDeadLetter:
    return FakeDeadLetter()
