"""The indexer's per-shard processor (the KCL launcher runs one per stream shard): the shared KCL
batch shape (`pulse_common.kcl_batch`) with

- transform (`IndexRecord`): each record's data is the DynamoDB stream record as JSON (the
  adapter's serialization of the SDK's `Record`: eventName, dynamodb.{Keys, NewImage, OldImage,
  SequenceNumber, ApproximateCreationDateTime (epoch ms)}, userIdentity); `documents.record_to_action`
  turns it into an OpenSearch write. TTL expiries and tombstones with nothing indexed behind them are
  skipped; a record that cannot be decoded or indexed is refused with its reason;
- durable write (`BulkSink`): the last write of an id in the batch wins; `bulk.BulkWriter` (external
  versions; 429/5xx/connection errors retried for as long as it takes, only the failed items
  resent); a document OpenSearch refuses (mapping conflict, ...) is dead-lettered, never blocking;
- then the dead letters, then the checkpoint of the batch's last sequence number: everything up to it
  was applied, conflicted (an equal or newer version is indexed) or dead-lettered.

The KCL (through the DynamoDB Streams Kinesis Adapter) owns shard discovery, parents before
children, leases, takeover and balancing.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from pulse_common.contracts.dead_letter import DeadLetterWriter
from pulse_common.contracts.items import BadRecord
from pulse_common.kcl_batch import (
    CHECKPOINT_RETRY,
    BatchContext,
    BatchReport,
    KclBatchProcessor,
    Planned,
    Refusal,
    SinkResult,
    Skip,
    SourceRecord,
    run_processor,
)
from pulse_common.logging import configure_logging
from pulse_common.opensearch import opensearch_client
from pulse_common.settings import secret_values
from pulse_indexer import metrics as m
from pulse_indexer.bulk import BulkWriter, record_outcome
from pulse_indexer.clients import dead_letter_writer
from pulse_indexer.documents import Action, is_ttl_remove, record_to_action
from pulse_indexer.settings import IndexerSettings

log = logging.getLogger("pulse.indexer.processor")

INDEX_FAILED = "index_failed"  # an unexpected error turning one record into its write


def decode(data: bytes) -> dict[str, Any]:
    """A stream record from the adapter's JSON; BadRecord when it is not one."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRecord("invalid_json", f"stream record is not JSON: {exc}") from exc
    if not isinstance(record, dict) or not isinstance(record.get("dynamodb"), dict):
        raise BadRecord("invalid_record", "stream record has no dynamodb section")
    return record


class IndexRecord:
    """The transform: one stream record -> its OpenSearch action. Notes the creation time of the last
    record read (`last_created_ms`), from which the observer reports how far the shard is behind."""

    failure_reason = INDEX_FAILED

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.last_created_ms: float | None = None
        self.read: Counter[str] = Counter()  # records read by event, counted in the metric per batch

    def __call__(self, record: SourceRecord, context: BatchContext) -> Action | Skip:
        stream_record = decode(record.data or b"")
        ttl = is_ttl_remove(stream_record)
        self.read["TTL_REMOVE" if ttl else str(stream_record.get("eventName"))] += 1
        created = stream_record["dynamodb"].get("ApproximateCreationDateTime")
        if isinstance(created, int | float):
            self.last_created_ms = float(created)
        action = record_to_action(stream_record, self.alias, context.shard_id)
        if action is None:
            return Skip("ttl" if ttl else "tombstone")
        action.sequence_number = action.sequence_number or record.sequence_number
        action.raw = record.data or b""
        return action


class BulkSink:
    """The durable write: one bulk write of the batch's actions, the last action of an id winning."""

    def __init__(self, writer: BulkWriter) -> None:
        self.writer = writer

    def write(self, planned: Sequence[Planned[Action]]) -> SinkResult[Action]:
        last: dict[str, Planned[Action]] = {}
        for entry in planned:
            last.pop(entry.write.id, None)
            last[entry.write.id] = entry
        outcome = self.writer.write([entry.write for entry in last.values()])
        record_outcome(outcome)
        entry_of = {id(entry.write): entry for entry in last.values()}
        return SinkResult(
            refused=[
                (entry_of[id(failure.action)], Refusal(failure.reason, failure.error, failure.action.id))
                for failure in outcome.failed
            ],
            counts={"indexed": outcome.indexed, "deleted": outcome.deleted, "conflicts": outcome.conflicts},
        )


class IndexerObserver:
    """The indexer's metrics and batch log around the shared batch shape."""

    def __init__(self, transform: IndexRecord, clock: Callable[[], float] = time.time) -> None:
        self.transform = transform
        self.clock = clock

    def received(self, shard_id: str, records: int, millis_behind: int | None) -> None:
        if not records:
            self._lag(shard_id, 0.0)

    def batch_done(self, report: BatchReport) -> None:
        for event, count in self.transform.read.items():
            m.RECORDS_READ.labels(event).inc(count)
        self.transform.read.clear()
        for letter in report.letters:
            m.DOCS_FAILED.labels(letter.reason).inc()
        m.TTL_SKIPPED.inc(report.skipped.get("ttl", 0))
        m.TOMBSTONES_SKIPPED.inc(report.skipped.get("tombstone", 0))
        created_ms, self.transform.last_created_ms = self.transform.last_created_ms, None
        if created_ms is not None:
            self._lag(report.shard_id, max(0.0, self.clock() - created_ms / 1000))
        log.debug(
            "batch indexed",
            extra={"shard_id": report.shard_id, "records": report.records, **report.counts,
                   "dead_lettered": len(report.letters), "skipped": sum(report.skipped.values()),
                   "seconds": round(report.seconds, 4)},
        )

    def shard_held(self, shard_id: str, held: bool, *, ended: bool = False) -> None:
        m.SHARDS.set(1 if held else 0)
        if ended:
            self._lag(shard_id, 0.0)  # nothing is behind an ended shard

    def checkpointed(self, error: str | None) -> None:
        if error is None:
            m.CHECKPOINTS.inc()
        else:
            m.CHECKPOINT_ERRORS.labels(error).inc()

    def _lag(self, shard_id: str, seconds: float) -> None:
        m.SHARD_LAG.labels(shard_id).set(seconds)
        m.SHARD_LAG_MAX.set(seconds)


def build_processor(
    settings: IndexerSettings,
    *,
    writer: BulkWriter | None = None,
    dead_letters: DeadLetterWriter | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.time,
    exit_on_failure: bool = True,
) -> KclBatchProcessor[Action]:
    """One shard's processor; OpenSearch and the dead-letter queue default to the stack's."""
    s = settings
    if writer is None:
        search = opensearch_client(s.stack, timeout_s=s.request_timeout_s, pool_size=s.bulk_concurrency * 4)
        writer = BulkWriter(
            search, max_docs=s.bulk_max_docs, max_bytes=s.bulk_max_bytes, concurrency=s.bulk_concurrency,
            retry_base_s=s.retry_base_s, retry_cap_s=s.retry_cap_s, timeout_s=s.request_timeout_s,
        )
    if dead_letters is None:
        dead_letters = dead_letter_writer(s.stack, retry_base_s=s.retry_base_s, retry_cap_s=s.retry_cap_s)
    transform = IndexRecord(s.stack.opensearch_index_alias)
    return KclBatchProcessor(
        service="indexer",
        source=f"dynamodb-stream:{s.stack.table_name}",
        transform=transform,
        sink=BulkSink(writer),
        dead_letters=dead_letters,
        observer=IndexerObserver(transform, clock),
        checkpoint_retry=CHECKPOINT_RETRY.replace(base_s=s.retry_base_s, cap_s=s.retry_cap_s),
        sleep=sleep,
        checkpoint_interval_s=s.checkpoint_interval_ms / 1000,
        exit_on_failure=exit_on_failure,
    )


def main(settings: IndexerSettings | None = None) -> int:
    """Entry point of `pulse-indexer processor` (run by the daemon, one process per shard)."""

    def build() -> KclBatchProcessor[Action]:
        s = settings or IndexerSettings()
        configure_logging("indexer", s.log_level, secrets=secret_values(s))
        return build_processor(s)

    return run_processor(build)
