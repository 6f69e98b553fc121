"""Fakes for the producer's unit tests: a Kinesis client that records and can fail entries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class FakeKinesis:
    """put_records that stores accepted records; `fail_entry(call, index, record)` -> error code or None."""

    def __init__(self, fail_entry: Callable[[int, int, dict[str, Any]], str | None] | None = None) -> None:
        self.fail_entry = fail_entry
        self.records: list[dict[str, Any]] = []
        self.calls: list[int] = []
        self.call_bytes: list[int] = []
        self.call_errors: list[Exception] = []

    def put_records(self, StreamName: str, Records: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        call = len(self.calls)
        self.calls.append(len(Records))
        self.call_bytes.append(sum(len(r["Data"]) + len(r["PartitionKey"]) for r in Records))
        if self.call_errors:
            raise self.call_errors.pop(0)
        results = []
        failed = 0
        for index, record in enumerate(Records):
            code = self.fail_entry(call, index, record) if self.fail_entry else None
            if code:
                failed += 1
                results.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                self.records.append(record)
                results.append({"SequenceNumber": str(len(self.records)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": failed, "Records": results}

    def describe_stream_summary(self, StreamName: str) -> dict[str, Any]:  # noqa: N803
        return {"StreamDescriptionSummary": {"StreamStatus": "ACTIVE"}}


class FakeDeadLetter:
    def __init__(self) -> None:
        self.letters: list[dict[str, Any]] = []

    def send(self, *, reason: str, source: str, raw: bytes, error: str = "") -> bool:
        self.letters.append({"reason": reason, "source": source, "raw": raw, "error": error})
        return True


@pytest.fixture
def fake_kinesis() -> FakeKinesis:
    return FakeKinesis()


@pytest.fixture
def fake_dead_letter() -> FakeDeadLetter:
    return FakeDeadLetter()
