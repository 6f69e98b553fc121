"""The enricher's per-shard processor: the shared KCL batch shape (`pulse_common.kcl_batch`) with

- transform (`EnrichRecord`): decode the record's envelope (`pulse_common.contracts.envelope`),
  enrich the post with the NLP core, build its item (`pulse_common.contracts.items.to_item`); a
  delete becomes a tombstone write. Poison, a failed enrichment and an item over DynamoDB's size
  limit are refused with their reason (dead-lettered with the shard, sequence number and raw bytes);
- durable write (`StoreSink`): `PostStore.apply`, versioned, retried until durable; an item DynamoDB
  refuses (ValidationException) is dead-lettered as `item_too_large`;
- then the dead letters, then the checkpoint of the batch's last sequence number.

The NLP core is injected (`PostEnricher`, a typed Protocol that `pulse_enricher.nlp.Enricher`
satisfies): `main(build_enricher=...)` and `build_processor(enricher=...)` take it as an argument.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from pulse_common.aws import client
from pulse_common.contracts.dead_letter import DEAD_LETTER_RETRY, DeadLetterWriter
from pulse_common.contracts.envelope import POISON_REASONS, Poison, decode
from pulse_common.contracts.items import item_too_large, to_item
from pulse_common.kcl_batch import (
    CHECKPOINT_RETRY,
    INVALID_BASE64,
    BatchContext,
    KclBatchProcessor,
    Planned,
    Refusal,
    SinkResult,
    SourceRecord,
    run_processor,
)
from pulse_common.logging import configure_logging
from pulse_common.schema import EnrichedPost, Post
from pulse_common.settings import secret_values
from pulse_common.tracking import TrackingConfig, load_tracking_config
from pulse_enricher import metrics
from pulse_enricher.settings import EnricherSettings
from pulse_enricher.store import STORE_REQUESTS, STORE_RETRY, PostStore
from pulse_enricher.store_ops import Delete, Hide, Op, Upsert, UserEvent, latest_per_id

if TYPE_CHECKING:
    from pulse_enricher.nlp import DuplicateTracker

log = logging.getLogger("pulse.enricher.processor")

# Why the enricher dead-letters a record (bounded: a metric label): the envelope's poison reasons,
# and what can go wrong after decoding.
ENRICH_FAILED = "enrich_failed"
ITEM_TOO_LARGE = "item_too_large"
REASONS = (*POISON_REASONS, INVALID_BASE64, ENRICH_FAILED, ITEM_TOO_LARGE)


class PostEnricher(Protocol):
    """The NLP core as the processor calls it (`pulse_enricher.nlp.Enricher.enrich`'s signature): a
    pure function from a Post to an EnrichedPost, the duplicate tracker its only state."""

    version: str

    def enrich(self, post: Post, ingested_at: datetime | None = None, *, enriched_at: datetime | None = None,
               duplicates: DuplicateTracker | None = None) -> EnrichedPost: ...


class EnrichRecord:
    """The transform: one Kinesis record -> the post's versioned write (or why not)."""

    failure_reason = ENRICH_FAILED

    def __init__(
        self, enricher: PostEnricher, *, retention: timedelta, duplicates: DuplicateTracker | None = None
    ) -> None:
        self.enricher = enricher
        self.retention = retention
        self.duplicates = duplicates

    def __call__(self, record: SourceRecord, context: BatchContext) -> Op | Refusal:
        envelope = decode(record.data or b"")
        if isinstance(envelope, Poison):
            return Refusal(envelope.reason, envelope.error)
        if envelope.op in ("user_hide", "user_unhide", "scrub_geo"):
            return UserEvent(envelope.id, envelope.version, envelope.reason, on=envelope.op != "user_unhide",
                             up_to_id=envelope.up_to_id)
        if envelope.op in ("hide", "unhide"):
            return Hide(envelope.id, envelope.version, envelope.reason or "", on=envelope.op == "hide")
        if envelope.op == "delete" or envelope.post is None:
            return Delete(envelope.id, envelope.version)
        enriched_at = context.started_at
        started = time.perf_counter()
        enriched = self.enricher.enrich(
            envelope.post, envelope.ingested_at, enriched_at=enriched_at, duplicates=self.duplicates
        )
        metrics.ENRICH_TIMES.observe(time.perf_counter() - started)
        if enriched.enriched_at is None:
            enriched.enriched_at = enriched_at
        if enriched.ingested_at is None:
            enriched.ingested_at = envelope.ingested_at
        item = to_item(enriched, envelope, enriched_at=enriched_at, retention=self.retention)
        if item_too_large(item):
            return Refusal(ITEM_TOO_LARGE, "enriched item exceeds DynamoDB's 400 KB item limit", envelope.id)
        return Upsert(envelope.id, envelope.version, item)


class StoreSink:
    """The durable write: the batch's ops applied to the posts table (PostStore blocks until durable)."""

    def __init__(self, store: PostStore) -> None:
        self.store = store

    def write(self, planned: Sequence[Planned[Op]]) -> SinkResult[Op]:
        result = self.store.apply([entry.write for entry in planned])
        found: SinkResult[Op] = SinkResult(counts={
            "written": len(result.written),
            "stale": len(result.stale),
            "already_stored": len(result.already_stored),
            "deleted": len(result.deleted),
            "delete_noop": len(result.delete_noop),
            "hidden": len(result.hidden),
            "hide_noop": len(result.hide_noop),
            "user_events": len(result.user_events),
            "user_noop": len(result.user_noop),
        })
        if result.rejected:
            # The store applied the latest op of each id: that op's record is the one to dead-letter.
            entry_of = {id(entry.write): entry for entry in planned}
            applied = {op.id: entry_of[id(op)] for op in latest_per_id(entry.write for entry in planned)}
            applied.update({entry.write.id: entry for entry in planned
                            if isinstance(entry.write, Hide | UserEvent) and entry.write.id not in applied})
            found.refused = [
                (applied[post_id], Refusal(ITEM_TOO_LARGE, f"rejected by DynamoDB: {reason}", post_id))
                for post_id, reason in result.rejected.items()
            ]
        return found


def build_processor(
    settings: EnricherSettings,
    *,
    enricher: PostEnricher,
    duplicates: DuplicateTracker | None = None,
    store: PostStore | None = None,
    dead_letters: DeadLetterWriter | None = None,
    sleep: Callable[[float], object] = time.sleep,
    exit_on_failure: bool = True,
) -> KclBatchProcessor[Op]:
    """One shard's processor; the stores default to the stack's (tests pass their own)."""
    stack = settings.stack
    retry = {"base_s": settings.retry_base_s, "cap_s": settings.retry_cap_s}
    if store is None:
        store = PostStore(
            client("dynamodb", stack, max_pool_connections=max(10, settings.write_concurrency),
                   parameter_validation=False, as_built=STORE_REQUESTS, as_parsed=STORE_REQUESTS),
            stack.table_name,
            mode=settings.write_mode,
            concurrency=settings.write_concurrency,
            retry=STORE_RETRY.replace(**retry),
            tombstone_ttl=timedelta(hours=settings.tombstone_ttl_hours),
            sleep=sleep,
        )
    if dead_letters is None:
        dead_letters = DeadLetterWriter(
            client("sqs", stack), stack.dlq_name, retry=DEAD_LETTER_RETRY.replace(**retry), sleep=sleep,
            on_retry=metrics.DLQ_RETRIES.inc, on_sent=metrics.count_dead_letter,
        )
    return KclBatchProcessor(
        service="enricher",
        source=f"kinesis:{stack.stream_name}",
        transform=EnrichRecord(
            enricher, retention=timedelta(days=settings.retention_days), duplicates=duplicates
        ),
        sink=StoreSink(store),
        dead_letters=dead_letters,
        observer=metrics.EnricherObserver(),
        checkpoint_retry=CHECKPOINT_RETRY.replace(base_s=settings.retry_base_s * 4, cap_s=retry["cap_s"]),
        details={"enrichment_version": enricher.version},
        sleep=sleep,
        checkpoint_interval_s=settings.checkpoint_interval_ms / 1000,
        exit_on_failure=exit_on_failure,
    )


def nlp_enricher(tracking: TrackingConfig) -> PostEnricher:
    from pulse_enricher.nlp import Enricher

    return Enricher(tracking)


def main(
    settings: EnricherSettings | None = None,
    *,
    build_enricher: Callable[[TrackingConfig], PostEnricher] = nlp_enricher,
) -> int:
    """Entry point of `pulse-enricher processor` (run by the daemon, one process per shard)."""

    def build() -> KclBatchProcessor[Op]:
        s = settings or EnricherSettings()
        configure_logging("enricher", s.log_level, secrets=secret_values(s))
        enricher = build_enricher(load_tracking_config(s.stack.tracking_config))
        duplicates = None
        if s.detect_duplicates:
            from pulse_enricher.nlp import DuplicateTracker

            duplicates = DuplicateTracker()
        return build_processor(s, enricher=enricher, duplicates=duplicates)

    return run_processor(build)
