"""The enricher's Prometheus metrics.

The daemon runs one Python processor per shard; each records into prometheus-client's multiprocess
files (PROMETHEUS_MULTIPROC_DIR, set by `pulse-enricher run`), and `run` serves the merged view.
Labels are bounded: outcome, reason, kind, error (fixed sets) and shard (shards of one stream).
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pulse_common.contracts.dead_letter import DeadLetter
from pulse_common.kcl_batch import BatchReport
from pulse_common.metrics import BATCH_SIZE_BUCKETS, CALL_LATENCY_BUCKETS, BatchedObservations

log = logging.getLogger("pulse.enricher.processor")

ENRICH_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

RECORDS = Counter(
    "pulse_enricher_records_total",
    "Kinesis records handled, by outcome: written, deleted, stale (a newer version is stored), "
    "already_stored (same version: a redelivery), delete_noop, dead_lettered",
    ["outcome"],
)
FAILED = Counter(
    "pulse_enricher_records_failed_total", "Records that could not be processed, by reason", ["reason"]
)
DEAD_LETTERS = Counter(
    "pulse_enricher_dead_letters_total", "Records sent to the dead-letter queue, by reason", ["reason"]
)
REDELIVERED = Counter(
    "pulse_enricher_redelivered_total",
    "Records whose exact version was already stored (delivered again after a restart or failover)",
)
BATCH_SIZE = Histogram(
    "pulse_enricher_batch_records", "Records per process_records call", buckets=BATCH_SIZE_BUCKETS
)
ENRICH_SECONDS = Histogram(
    "pulse_enricher_enrich_seconds", "Time to enrich one post (NLP core)", buckets=ENRICH_BUCKETS
)


ENRICH_TIMES = BatchedObservations(ENRICH_SECONDS)  # observed per post, written per batch
WRITE_SECONDS = Histogram(
    "pulse_enricher_dynamodb_write_seconds",
    "Time of one DynamoDB call made to store posts, by operation",
    ["operation"],
    buckets=CALL_LATENCY_BUCKETS,
)
WRITE_RETRIES = Counter(
    "pulse_enricher_dynamodb_retries_total",
    "DynamoDB retries: unprocessed items re-sent, throttled or failed calls",
    ["kind"],
)
DLQ_RETRIES = Counter("pulse_enricher_dlq_retries_total", "Failed sends to the dead-letter queue, retried")
CHECKPOINTS = Counter("pulse_enricher_checkpoints_total", "Successful checkpoints")
CHECKPOINT_ERRORS = Counter(
    "pulse_enricher_checkpoint_errors_total", "Checkpoint errors by KCL error name", ["error"]
)
MILLIS_BEHIND = Gauge(
    "pulse_enricher_millis_behind_latest",
    "How far this shard's processor is behind the tip of the stream (from GetRecords)",
    ["shard"],
    multiprocess_mode="livemax",
)
SHARDS = Gauge(
    "pulse_enricher_shards_owned", "Shard processors alive", multiprocess_mode="livesum"
)


def count_dead_letter(letter: DeadLetter) -> None:
    """A letter the dead-letter queue stored (the writer's on_sent)."""
    FAILED.labels(letter.reason).inc()
    DEAD_LETTERS.labels(letter.reason).inc()


class EnricherObserver:
    """The enricher's metrics and batch log around the shared batch shape (pulse_common.kcl_batch)."""

    def received(self, shard_id: str, records: int, millis_behind: int | None) -> None:
        if millis_behind is not None:
            MILLIS_BEHIND.labels(shard_id).set(millis_behind)
        if records:
            BATCH_SIZE.observe(records)

    def batch_done(self, report: BatchReport) -> None:
        ENRICH_TIMES.flush()
        counts = {**report.counts, "dead_lettered": len(report.letters)}
        for name, value in counts.items():
            if value:
                RECORDS.labels(name).inc(value)
        if counts.get("already_stored"):
            REDELIVERED.inc(counts["already_stored"])
        log.info(
            "batch stored",
            extra={"shard_id": report.shard_id, "records": report.records,
                   "first_sequence": report.first_sequence, "last_sequence": report.last_sequence,
                   "seconds": round(report.seconds, 4), **counts},
        )

    def shard_held(self, shard_id: str, held: bool, *, ended: bool = False) -> None:
        SHARDS.set(1 if held else 0)

    def checkpointed(self, error: str | None) -> None:
        if error is None:
            CHECKPOINTS.inc()
        else:
            CHECKPOINT_ERRORS.labels(error).inc()


def multiprocess_registry() -> CollectorRegistry:
    """A fresh registry merging every processor's files (one per scrape)."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
