"""How often `KclBatchProcessor` checkpoints: every batch by default; with `checkpoint_interval_s`, at
most once per interval, always the last durable record, flushed by the next batch (empty or not)
once the interval has passed, and at once on shutdown and at shard end."""

from types import SimpleNamespace

import pytest

from pulse_common.kcl import KclConsumerSettings
from pulse_common.kcl_batch import KclBatchProcessor, SinkResult


class FakeSink:
    def __init__(self, log):
        self.log = log

    def write(self, planned):
        self.log.append(("write", planned[-1].record.sequence_number))
        return SinkResult()


class FakeCheckpointer:
    def __init__(self, log):
        self.log = log

    def checkpoint(self, sequence=None, sub=None):
        self.log.append(("checkpoint", sequence))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Observer:
    def received(self, *_a, **_k): ...

    def batch_done(self, *_a, **_k): ...

    def shard_held(self, *_a, **_k): ...

    def checkpointed(self, *_a, **_k): ...


def make(interval_s: float = 0.0):
    log, clock = [], Clock()
    processor = KclBatchProcessor(
        service="enricher", source="kinesis:test", transform=lambda record, _context: record.data,
        sink=FakeSink(log), dead_letters=SimpleNamespace(send=lambda _letters: None), observer=Observer(),
        checkpoint_interval_s=interval_s, monotonic=clock, exit_on_failure=False,
    )
    processor.initialize(SimpleNamespace(shard_id="shard-0", sequence_number="TRIM_HORIZON"))
    return processor, FakeCheckpointer(log), log, clock


def deliver(processor, checkpointer, *sequences):
    records = [SimpleNamespace(sequence_number=str(s), sub_sequence_number=None, binary_data=b"x")
               for s in sequences]
    processor.process_records(SimpleNamespace(records=records, checkpointer=checkpointer,
                                              millis_behind_latest=0))


def checkpoints(log):
    return [sequence for kind, sequence in log if kind == "checkpoint"]


def test_without_an_interval_every_batch_is_checkpointed_after_its_write():
    processor, checkpointer, log, _clock = make()
    deliver(processor, checkpointer, 1, 2)
    deliver(processor, checkpointer, 3)
    assert log == [("write", "2"), ("checkpoint", "2"), ("write", "3"), ("checkpoint", "3")]


def test_batches_within_the_interval_leave_their_checkpoint_pending_until_it_has_passed():
    processor, checkpointer, log, clock = make(interval_s=1.0)
    deliver(processor, checkpointer, 1)  # the first batch checkpoints at once
    clock.now += 0.4
    deliver(processor, checkpointer, 2)
    clock.now += 0.4
    deliver(processor, checkpointer, 3)
    assert checkpoints(log) == ["1"]
    clock.now += 0.3
    deliver(processor, checkpointer, 4)
    assert checkpoints(log) == ["1", "4"]
    assert log.index(("checkpoint", "4")) > log.index(("write", "4"))


def test_an_empty_batch_after_the_interval_checkpoints_what_is_pending_and_only_once():
    processor, checkpointer, log, clock = make(interval_s=1.0)
    deliver(processor, checkpointer, 1)
    deliver(processor, checkpointer, 2)
    deliver(processor, checkpointer)
    assert checkpoints(log) == ["1"]
    clock.now += 1.0
    deliver(processor, checkpointer)
    clock.now += 5.0
    deliver(processor, checkpointer)
    assert checkpoints(log) == ["1", "2"]


@pytest.mark.parametrize(("event", "expected"), [("shutdown_requested", "2"), ("shard_ended", None)])
def test_shutdown_and_shard_end_checkpoint_at_once_whatever_the_interval(event, expected):
    processor, checkpointer, log, _clock = make(interval_s=60.0)
    deliver(processor, checkpointer, 1)
    deliver(processor, checkpointer, 2)
    getattr(processor, event)(SimpleNamespace(checkpointer=checkpointer))
    assert checkpoints(log) == ["1", expected]


def test_a_lost_lease_never_checkpoints_what_was_pending():
    processor, checkpointer, log, clock = make(interval_s=1.0)
    deliver(processor, checkpointer, 1)
    deliver(processor, checkpointer, 2)
    processor.lease_lost(SimpleNamespace())
    clock.now += 2.0
    deliver(processor, checkpointer)
    assert checkpoints(log) == ["1"]


def test_the_consumers_checkpoint_at_most_once_a_second_per_shard_by_default(monkeypatch):
    monkeypatch.delenv("PULSE_ENRICHER_CHECKPOINT_INTERVAL_MS", raising=False)
    assert KclConsumerSettings().checkpoint_interval_ms == 1000
    monkeypatch.setenv("PULSE_TEST_CHECKPOINT_INTERVAL_MS", "0")

    class Settings(KclConsumerSettings, env_prefix="PULSE_TEST_"):
        pass

    assert Settings().checkpoint_interval_ms == 0
