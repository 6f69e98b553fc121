"""The batch every Pulse KCL record processor runs (amazon-kclpy v3, one process per shard):

    decode → pure transform → durable write → dead letters → checkpoint

A service supplies its parts as typed constructor arguments:

- a `RecordTransform[W]`: one record → a write `W`, a `Refusal` (the record becomes a dead letter) or a
  `Skip` (nothing to write). Decoding is part of it; it does no I/O. Whatever it raises refuses that
  record alone: a `BadRecord` with its own reason, anything else with the transform's `failure_reason`;
- a `DurableSink[W]`: makes the batch's writes durable, blocking and retrying for as long as it takes,
  and names the writes the store refused (their records are dead-lettered, the rest goes on);
- a `BatchObserver`: the service's metrics and logs.

`KclBatchProcessor` isolates each record, sends the batch's dead letters through the one
`DeadLetterWriter` (which blocks until SQS has them), and only then checkpoints the batch's last
sequence number: everything up to it is durably written, superseded or dead-lettered. A failure that
retrying cannot fix (a bug, bad credentials) exits the processor without checkpointing
(`EXIT_UNRECOVERABLE`): the MultiLangDaemon treats a dead child as fatal, its supervisor restarts it,
and the shard resumes from its last checkpoint. Crash-only, never skip.

A checkpoint is a lease-table write through the daemon, so with `checkpoint_interval_s` a processor
checkpoints at most once per interval: a batch that comes sooner leaves its (durable) sequence number
pending, and the first batch after the interval, empty or not, checkpoints it. A crash in between
redelivers at most that interval's records, which the idempotent writes absorb.

Lifecycle, per shard: `shard_ended` checkpoints at SHARD_END so the child shards can start;
`shutdown_requested` checkpoints the last durable sequence number, pending or not; `lease_lost`
stops (another worker owns the shard). Checkpoint errors: throttling and dependency errors back off and retry;
ShutdownException and InvalidStateException stop the processor (pulse_common.kcl.checkpoint).

stdout belongs to the KCL protocol: `run_processor` keeps a private handle on it and points fd 1 and
sys.stdout at stderr before anything else runs.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar, Generic, Protocol, TypeVar

from pulse_common.contracts.dead_letter import DeadLetter, DeadLetterWriter, Service
from pulse_common.contracts.items import BadRecord
from pulse_common.kcl import checkpoint
from pulse_common.retry import RetryPolicy

log = logging.getLogger("pulse.kcl.processor")

W = TypeVar("W")

INVALID_BASE64 = "invalid_base64"
CHECKPOINT_RETRY = RetryPolicy(base_s=0.2, cap_s=5.0, max_attempts=6)
# Exit status of a processor that hit a failure retrying cannot fix (see the module docstring).
EXIT_UNRECOVERABLE = 70


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record as the KCL delivered it; `data` is None when the daemon's base64 was broken."""

    sequence_number: str
    sub_sequence_number: int | None
    data: bytes | None


@dataclass(frozen=True, slots=True)
class BatchContext:
    shard_id: str
    started_at: datetime  # one clock reading for the whole batch


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a record (or its write) cannot go on: its dead letter's reason and detail."""

    reason: str
    error: str
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class Skip:
    """A record that needs no write; `kind` is a bounded label (counted by the observer)."""

    kind: str


@dataclass(frozen=True, slots=True)
class Planned(Generic[W]):
    record: SourceRecord
    write: W


class RecordTransform(Protocol[W]):
    failure_reason: str  # the dead letter's reason for an unexpected exception

    def __call__(self, record: SourceRecord, context: BatchContext) -> W | Refusal | Skip: ...


@dataclass
class SinkResult(Generic[W]):
    refused: list[tuple[Planned[W], Refusal]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # outcome -> writes (a bounded label)


class DurableSink(Protocol[W]):
    def write(self, planned: Sequence[Planned[W]]) -> SinkResult[W]: ...


@dataclass(frozen=True)
class BatchReport:
    shard_id: str
    records: int
    first_sequence: str
    last_sequence: str
    writes: int
    skipped: Mapping[str, int]
    letters: Sequence[DeadLetter]
    counts: Mapping[str, int]
    seconds: float


class BatchObserver(Protocol):
    """The service's metrics and logs around the batch shape."""

    def received(self, shard_id: str, records: int, millis_behind: int | None) -> None: ...

    def batch_done(self, report: BatchReport) -> None: ...

    def shard_held(self, shard_id: str, held: bool, *, ended: bool = False) -> None: ...

    def checkpointed(self, error: str | None) -> None: ...


def source_record(record: object) -> SourceRecord:
    """A SourceRecord from amazon-kclpy's `messages.Record` (or anything with its attributes)."""
    try:
        data: bytes | None = record.binary_data  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - undecodable base64 from the daemon: refused as invalid_base64
        data = None
    return SourceRecord(record.sequence_number, record.sub_sequence_number, data)  # type: ignore[attr-defined]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(kw_only=True)
class KclBatchProcessor(Generic[W]):
    """One shard's processor: amazon-kclpy's v3 interface around the batch shape."""

    version: ClassVar[int] = 3  # amazon-kclpy dispatches to initialize / process_records / lease_lost / ...

    service: Service
    source: str  # where the records come from, as dead letters name it ("kinesis:<stream>", ...)
    transform: RecordTransform[W]
    sink: DurableSink[W]
    dead_letters: DeadLetterWriter
    observer: BatchObserver
    checkpoint_retry: RetryPolicy = CHECKPOINT_RETRY
    details: Mapping[str, object] = field(default_factory=dict)  # logged when a shard is initialized
    sleep: Callable[[float], object] = time.sleep
    clock: Callable[[], datetime] = _now
    checkpoint_interval_s: float = 0.0  # 0: checkpoint after every batch
    monotonic: Callable[[], float] = time.monotonic
    exit_on_failure: bool = True
    shard_id: str = field(default="unknown", init=False)
    last_durable: tuple[str, int] | None = field(default=None, init=False)  # (sequence, sub-sequence)
    last_checkpointed: str | None = field(default=None, init=False)
    stopped: bool = field(default=False, init=False)
    _checkpointed_durable: tuple[str, int] | None = field(default=None, init=False)
    _checkpointed_at: float | None = field(default=None, init=False)  # monotonic

    # -- lifecycle ----------------------------------------------------------------------------
    def initialize(self, initialize_input) -> None:
        self.shard_id = initialize_input.shard_id
        self.last_checkpointed = initialize_input.sequence_number
        self.observer.shard_held(self.shard_id, True)
        log.info("processor initialized", extra={"shard_id": self.shard_id, **self.details,
                                                 "sequence_number": initialize_input.sequence_number})

    def process_records(self, process_records_input) -> None:
        records = process_records_input.records
        self.observer.received(self.shard_id, len(records), process_records_input.millis_behind_latest)
        if not records:
            self._checkpoint_when_due(process_records_input.checkpointer)
            return
        if self.stopped:
            log.warning("processor stopped; batch ignored (it will be redelivered)",
                        extra={"shard_id": self.shard_id, "records": len(records)})
            return
        try:
            self.run_batch([source_record(record) for record in records])
        except Exception as exc:
            # Nothing escapes the sink or the dead-letter writer but what retrying cannot fix.
            self.stopped = True
            log.critical("batch failed; processor exits without checkpointing", exc_info=True,
                         extra={"shard_id": self.shard_id, "first_sequence": records[0].sequence_number,
                                "last_sequence": records[-1].sequence_number})
            if self.exit_on_failure:
                raise SystemExit(EXIT_UNRECOVERABLE) from exc
            return
        last = records[-1]
        self.last_durable = (last.sequence_number, last.sub_sequence_number or 0)
        self._checkpoint_when_due(process_records_input.checkpointer)

    def lease_lost(self, _lease_lost_input) -> None:
        self.stopped = True
        self.observer.shard_held(self.shard_id, False)
        log.info("lease lost", extra={"shard_id": self.shard_id})

    def shard_ended(self, shard_ended_input) -> None:
        log.info("shard ended; checkpointing at SHARD_END", extra={"shard_id": self.shard_id})
        self._checkpoint(shard_ended_input.checkpointer, None, None)
        self.stopped = True
        self.observer.shard_held(self.shard_id, False, ended=True)

    def shutdown_requested(self, shutdown_requested_input) -> None:
        log.info("shutdown requested", extra={"shard_id": self.shard_id,
                                              "sequence_number": self.last_durable and self.last_durable[0]})
        if self.last_durable is not None and not self.stopped:
            self._checkpoint(shutdown_requested_input.checkpointer, *self.last_durable)
        self.stopped = True

    # -- the batch ----------------------------------------------------------------------------
    def run_batch(self, records: Sequence[SourceRecord]) -> BatchReport:
        """Transform, write, dead-letter: returns once all of it is durable (or raises)."""
        started = time.perf_counter()
        context = BatchContext(self.shard_id, self.clock())
        planned: list[Planned[W]] = []
        letters: list[DeadLetter] = []
        skipped: Counter[str] = Counter()
        for record in records:
            outcome = self._plan(record, context)
            if isinstance(outcome, Refusal):
                letters.append(self._letter(record, outcome))
            elif isinstance(outcome, Skip):
                skipped[outcome.kind] += 1
            else:
                planned.append(Planned(record, outcome))
        result = self.sink.write(planned) if planned else SinkResult()
        letters += [self._letter(entry.record, refusal) for entry, refusal in result.refused]
        if letters:
            self.dead_letters.send(letters)
        report = BatchReport(
            shard_id=self.shard_id, records=len(records), first_sequence=records[0].sequence_number,
            last_sequence=records[-1].sequence_number, writes=len(planned), skipped=dict(skipped),
            letters=letters, counts=result.counts, seconds=time.perf_counter() - started,
        )
        self.observer.batch_done(report)
        return report

    def _plan(self, record: SourceRecord, context: BatchContext) -> W | Refusal | Skip:
        if record.data is None:
            return Refusal(INVALID_BASE64, "the daemon's base64 data could not be decoded")
        try:
            return self.transform(record, context)
        except BadRecord as exc:
            return Refusal(exc.reason, str(exc), exc.post_id)
        except Exception as exc:  # noqa: BLE001 - one bad record never stops the batch
            return Refusal(self.transform.failure_reason, f"{type(exc).__name__}: {exc}")

    def _letter(self, record: SourceRecord, refusal: Refusal) -> DeadLetter:
        return DeadLetter(
            service=self.service, reason=refusal.reason, error=refusal.error, source=self.source,
            raw=record.data or b"", shard_id=self.shard_id, sequence_number=record.sequence_number,
            post_id=refusal.post_id,
        )

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint_when_due(self, checkpointer) -> None:
        """Checkpoint the last durable record unless it is checkpointed already or the last
        checkpoint is younger than `checkpoint_interval_s`."""
        if self.stopped or self.last_durable is None or self.last_durable == self._checkpointed_durable:
            return
        if self._checkpointed_at is not None and (
            self.monotonic() - self._checkpointed_at < self.checkpoint_interval_s
        ):
            return
        self._checkpoint(checkpointer, *self.last_durable)

    def _checkpoint(self, checkpointer, sequence: str | None, sub: int | None) -> bool:
        """Checkpoint at `sequence` (None: SHARD_END). True when the KCL stored it."""
        result = checkpoint(
            checkpointer, sequence, sub, retry=self.checkpoint_retry, sleep=self.sleep,
            on_error=self.observer.checkpointed, context={"shard_id": self.shard_id},
        )
        if result == "stop":
            self.stopped = True
        if result != "ok":
            return False
        self.observer.checkpointed(None)
        self.last_checkpointed = sequence or "SHARD_END"
        self._checkpointed_durable = None if sequence is None else (sequence, sub or 0)
        self._checkpointed_at = self.monotonic()
        return True


def run_processor(build: Callable[[], KclBatchProcessor]) -> int:
    """The per-shard process the daemon launches: stdout is kept for the KCL protocol, then `build()`
    (settings, logging, clients, models) runs, then the protocol loop until the daemon ends it."""
    from amazon_kclpy import kcl

    from pulse_common.kcl import protocol_streams

    # Ctrl-C reaches the service's `run`, which stops the daemon gracefully; never die mid-batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_out = protocol_streams()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        atexit.register(multiprocess.mark_process_dead, os.getpid())
    processor = build()
    kcl.KCLProcess(processor, input_file=sys.stdin, output_file=protocol_out, error_file=sys.stderr).run()
    return 0
