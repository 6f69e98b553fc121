"""The per-shard record processor (amazon-kclpy v3) the KCL launcher runs for each stream shard.

The KCL (through the DynamoDB Streams Kinesis Adapter) owns shard discovery, parents before
children, leases, takeover and balancing; this processor turns one batch of stream records into
OpenSearch writes, in five steps:

1. decode: each record's data is the DynamoDB stream record as JSON (the adapter's serialization
   of the SDK's `Record`: eventName, dynamodb.{Keys, NewImage, OldImage, SequenceNumber,
   ApproximateCreationDateTime (epoch ms)}, userIdentity);
2. transform: `documents.record_to_action` per record; the last action of an id in the batch wins;
3. durable write: `bulk.BulkWriter` (external versions; 429/5xx/connection errors retried for as
   long as it takes, only the failed items resent);
4. dead letters: records that cannot be decoded or indexed (mapping conflict, ...) go to the
   dead-letter queue with their reason, shard and sequence number, and never block the shard;
5. checkpoint the batch's last sequence number: everything up to it was applied, conflicted (an
   equal or newer version is indexed) or dead-lettered.

`shard_ended` checkpoints at SHARD_END so the child shards can start; `shutdown_requested`
checkpoints the last durable sequence number; `lease_lost` stops. A failure retrying cannot fix
exits the processor without checkpointing (the daemon then exits and is restarted by its
supervisor; the shard resumes from its last checkpoint: crash-only, never skip).

stdout is the KCL protocol: logs are JSON lines on stderr.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from amazon_kclpy import kcl
from amazon_kclpy.v3 import processor as kcl_processor

from pulse_common.contracts.dead_letter import DeadLetter, DeadLetterWriter
from pulse_common.contracts.items import BadRecord
from pulse_common.kcl import checkpoint as kcl_checkpoint
from pulse_common.kcl import protocol_streams
from pulse_common.logging import configure_logging
from pulse_common.retry import RetryPolicy
from pulse_common.settings import secret_values
from pulse_indexer import metrics as m
from pulse_indexer.bulk import BulkWriter, record_outcome
from pulse_indexer.clients import dead_letter_writer, opensearch_client
from pulse_indexer.documents import Action, dead_letter, is_ttl_remove, record_to_action
from pulse_indexer.settings import IndexerSettings

log = logging.getLogger("pulse.indexer.processor")

CHECKPOINT_ATTEMPTS = 6
EXIT_UNRECOVERABLE = 70  # see the module docstring: crash-only


@dataclass
class Batch:
    """One batch, decoded and transformed: what to write, and what to dead-letter."""

    actions: list[Action] = field(default_factory=list)  # distinct ids, the last write of each
    letters: list[DeadLetter] = field(default_factory=list)
    skipped: int = 0  # TTL expiries and tombstones with nothing indexed behind them
    last_created_ms: float | None = None  # ApproximateCreationDateTime of the last record


def decode(data: bytes) -> dict[str, Any]:
    """A stream record from the adapter's JSON; BadRecord when it is not one."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRecord("invalid_json", f"stream record is not JSON: {exc}") from exc
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        raise BadRecord("invalid_record", "stream record has no dynamodb section")
    return record


def plan_batch(records: Iterable[tuple[str, bytes]], *, alias: str, shard_id: str, source: str) -> Batch:
    """Decode and transform (sequence number, data) pairs: the pure part of a batch."""
    batch = Batch()
    by_id: dict[str, Action] = {}
    for sequence, data in records:
        try:
            record = decode(data)
            ttl = is_ttl_remove(record)
            m.RECORDS_READ.labels("TTL_REMOVE" if ttl else str(record.get("eventName"))).inc()
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if isinstance(created, int | float):
                batch.last_created_ms = float(created)
            action = record_to_action(record, alias, shard_id)
        except BadRecord as exc:
            batch.letters.append(
                dead_letter(
                    reason=exc.reason,
                    error=str(exc),
                    source=source,
                    shard_id=shard_id,
                    sequence_number=sequence,
                    raw=data,
                    post_id=exc.post_id,
                )
            )
            m.DOCS_FAILED.labels(exc.reason).inc()
            continue
        if action is None:
            (m.TTL_SKIPPED if ttl else m.TOMBSTONES_SKIPPED).inc()
            batch.skipped += 1
            continue
        action.sequence_number = action.sequence_number or sequence
        action.raw = data
        by_id.pop(action.id, None)
        by_id[action.id] = action  # the last write of an id in the batch wins
    batch.actions = list(by_id.values())
    return batch


class ShardProcessor(kcl_processor.RecordProcessorBase):
    """One shard's processor. Dependencies are injectable for tests; built at initialize otherwise."""

    def __init__(
        self,
        settings: IndexerSettings,
        *,
        writer: BulkWriter | None = None,
        dlq: DeadLetterWriter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        exit_on_failure: bool = True,
    ) -> None:
        self.settings = settings
        self.writer = writer
        self.dlq = dlq
        self.sleep = sleep
        self.clock = clock
        self.exit_on_failure = exit_on_failure
        self.shard_id = "unknown"
        self.alias = settings.stack.opensearch_index_alias
        self.source = f"dynamodb-stream:{settings.stack.table_name}"
        self.last_durable: str | None = None
        self.last_checkpointed: str | None = None
        self.stopped = False

    # -- lifecycle ----------------------------------------------------------------------------
    def initialize(self, initialize_input) -> None:
        self.shard_id = initialize_input.shard_id
        self.last_checkpointed = initialize_input.sequence_number
        if self.writer is None:
            s = self.settings
            search = opensearch_client(
                s.stack, timeout_s=s.request_timeout_s, pool_size=s.bulk_concurrency * 4
            )
            self.writer = BulkWriter(
                search,
                max_docs=s.bulk_max_docs,
                max_bytes=s.bulk_max_bytes,
                concurrency=s.bulk_concurrency,
                retry_base_s=s.retry_base_s,
                retry_cap_s=s.retry_cap_s,
                timeout_s=s.request_timeout_s,
            )
        if self.dlq is None:
            self.dlq = dead_letter_writer(
                self.settings.stack,
                retry_base_s=self.settings.retry_base_s,
                retry_cap_s=self.settings.retry_cap_s,
            )
        m.SHARDS.set(1)
        log.info(
            "processor initialized",
            extra={"shard_id": self.shard_id, "sequence_number": initialize_input.sequence_number},
        )

    def process_records(self, process_records_input) -> None:
        records = process_records_input.records
        if not records:
            self._lag(0.0)
            return
        if self.stopped:
            log.warning(
                "processor stopped; batch ignored (it will be redelivered)",
                extra={"shard_id": self.shard_id, "records": len(records)},
            )
            return
        try:
            self._process(records)
        except Exception as exc:
            self.stopped = True
            log.critical(
                "batch failed; processor exits without checkpointing",
                exc_info=True,
                extra={
                    "shard_id": self.shard_id,
                    "first_sequence": records[0].sequence_number,
                    "last_sequence": records[-1].sequence_number,
                },
            )
            if self.exit_on_failure:
                raise SystemExit(EXIT_UNRECOVERABLE) from exc
            return
        self.last_durable = records[-1].sequence_number
        self._checkpoint(process_records_input.checkpointer, self.last_durable)

    def lease_lost(self, lease_lost_input) -> None:
        self.stopped = True
        m.SHARDS.set(0)
        log.info("lease lost", extra={"shard_id": self.shard_id})

    def shard_ended(self, shard_ended_input) -> None:
        log.info("shard ended; checkpointing at SHARD_END", extra={"shard_id": self.shard_id})
        self._checkpoint(shard_ended_input.checkpointer, None)
        self.stopped = True
        m.SHARDS.set(0)
        self._lag(None)

    def shutdown_requested(self, shutdown_requested_input) -> None:
        log.info(
            "shutdown requested", extra={"shard_id": self.shard_id, "sequence_number": self.last_durable}
        )
        if self.last_durable is not None and not self.stopped:
            self._checkpoint(shutdown_requested_input.checkpointer, self.last_durable)
        self.stopped = True

    # -- the batch ----------------------------------------------------------------------------
    def _process(self, records: list) -> None:
        started = time.perf_counter()
        batch = plan_batch(
            ((r.sequence_number, self._data(r)) for r in records),
            alias=self.alias,
            shard_id=self.shard_id,
            source=self.source,
        )
        outcome = self.writer.write(batch.actions)
        record_outcome(outcome)
        for failure in outcome.failed:
            action = failure.action
            batch.letters.append(
                dead_letter(
                    reason=failure.reason,
                    error=failure.error,
                    source=self.source,
                    shard_id=self.shard_id,
                    sequence_number=action.sequence_number,
                    raw=action.raw,
                    post_id=action.id,
                )
            )
            m.DOCS_FAILED.labels(failure.reason).inc()
        if batch.letters:
            self.dlq.send(batch.letters)
        if batch.last_created_ms is not None:
            self._lag(max(0.0, self.clock() - batch.last_created_ms / 1000))
        log.debug(
            "batch indexed",
            extra={
                "shard_id": self.shard_id,
                "records": len(records),
                "indexed": outcome.indexed,
                "deleted": outcome.deleted,
                "conflicts": outcome.conflicts,
                "dead_lettered": len(batch.letters),
                "skipped": batch.skipped,
                "seconds": round(time.perf_counter() - started, 4),
            },
        )

    def _data(self, record) -> bytes:
        try:
            return record.binary_data
        except Exception:  # noqa: BLE001 - undecodable base64 from the daemon: decode() refuses it
            return b""

    def _lag(self, seconds: float | None) -> None:
        seconds = seconds or 0.0  # None: the shard ended, nothing is behind
        m.SHARD_LAG.labels(self.shard_id).set(seconds)
        m.SHARD_LAG_MAX.set(seconds)

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint(self, checkpointer, sequence: str | None) -> bool:
        result = kcl_checkpoint(
            checkpointer,
            sequence,
            None if sequence is None else 0,
            attempts=CHECKPOINT_ATTEMPTS,
            delays=RetryPolicy(self.settings.retry_base_s, self.settings.retry_cap_s).delays(),
            sleep=self.sleep,
            on_error=lambda error: m.CHECKPOINT_ERRORS.labels(error).inc(),
            context={"shard_id": self.shard_id},
        )
        if result == "stop":
            self.stopped = True
        if result != "ok":
            return False
        m.CHECKPOINTS.inc()
        self.last_checkpointed = sequence or "SHARD_END"
        return True


def main(settings: IndexerSettings | None = None) -> int:
    """Entry point of `pulse-indexer processor` (run by the daemon, one process per shard)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches `run`, which stops the daemon
    protocol_out = protocol_streams()
    settings = settings or IndexerSettings()
    configure_logging("indexer", settings.log_level, secrets=secret_values(settings))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        atexit.register(multiprocess.mark_process_dead, os.getpid())
    processor = ShardProcessor(settings)
    kcl.KCLProcess(processor, input_file=sys.stdin, output_file=protocol_out, error_file=sys.stderr).run()
    return 0
