"""Fixtures every unit test may use."""

from __future__ import annotations

import pytest


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """moto in-process: DynamoDB posts table, SQS dead-letter queue and a 2-shard stream."""
    from moto import mock_aws

    for key in ("PULSE_AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("PULSE_STREAM_NAME", "unit-posts")
    monkeypatch.setenv("PULSE_TABLE_NAME", "unit-posts")
    monkeypatch.setenv("PULSE_DLQ_NAME", "unit-dlq")
    with mock_aws():
        from pulse_common.settings import StackSettings
        from pulse_devstack.resources import ensure_queue, ensure_stream, ensure_table

        stack = StackSettings()
        ensure_table(stack)
        ensure_queue(stack)
        ensure_stream(stack, shards=2)
        yield stack
