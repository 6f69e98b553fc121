"""The indexer's Prometheus metrics (names `pulse_indexer_*`; labels are bounded).

The KCL daemon runs one Python processor per shard; each records into prometheus-client's
multiprocess files (PROMETHEUS_MULTIPROC_DIR, set by `pulse-indexer run`), and `run` serves the
merged view. Gauges say how they merge (`multiprocess_mode`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pulse_common.metrics import (
    BATCH_SIZE_BUCKETS,
    CALL_LATENCY_BUCKETS,
    FRESHNESS_BUCKETS,
    BatchedObservations,
)

RECORDS_READ = Counter(
    "pulse_indexer_records_read_total",
    "DynamoDB stream records read, by event name (INSERT, MODIFY, REMOVE, TTL_REMOVE)",
    ["event"],
)
DOCS_INDEXED = Counter("pulse_indexer_docs_indexed_total", "Documents created or updated in OpenSearch")
DOCS_DELETED = Counter("pulse_indexer_docs_deleted_total", "Documents deleted (or already absent)")
DOCS_CONFLICTS = Counter(
    "pulse_indexer_docs_conflicts_total",
    "Writes OpenSearch rejected with 409 because it already holds that or a newer version (success)",
)
DOCS_FAILED = Counter(
    "pulse_indexer_docs_failed_total", "Documents sent to the dead-letter queue, by reason", ["reason"]
)
TTL_SKIPPED = Counter(
    "pulse_indexer_ttl_removes_skipped_total", "TTL-expiry REMOVE records skipped (doc stays searchable)"
)
TOMBSTONES_SKIPPED = Counter(
    "pulse_indexer_tombstones_skipped_total",
    "Tombstone records with no indexed post behind them (no OldImage, or the OldImage a tombstone too)",
)
BULK_SECONDS = Histogram(
    "pulse_indexer_bulk_seconds", "Latency of one _bulk request", buckets=CALL_LATENCY_BUCKETS
)
BULK_DOCS = Histogram("pulse_indexer_bulk_docs", "Actions per _bulk request", buckets=BATCH_SIZE_BUCKETS)
BULK_BYTES = Histogram(
    "pulse_indexer_bulk_bytes",
    "Body size of one _bulk request",
    buckets=(1e3, 1e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7, 2.5e7),
)
BULK_RETRIES = Counter(
    "pulse_indexer_bulk_retries_total",
    "Retries of a _bulk request or of its failed items, by cause (transport, 429, 5xx)",
    ["cause"],
)
FRESHNESS_CREATED = Histogram(
    "pulse_indexer_freshness_created_seconds",
    "now - created_at when a document's bulk write succeeded (searchable after the next refresh)",
    buckets=FRESHNESS_BUCKETS,
)
FRESHNESS_INGESTED = Histogram(
    "pulse_indexer_freshness_ingested_seconds",
    "now - ingested_at when a document's bulk write succeeded (searchable after the next refresh)",
    buckets=FRESHNESS_BUCKETS,
)
# observed per document, written once per bulk write (BulkWriter.write flushes them)
FRESHNESS_CREATED_BATCH = BatchedObservations(FRESHNESS_CREATED)
FRESHNESS_INGESTED_BATCH = BatchedObservations(FRESHNESS_INGESTED)
SHARDS = Gauge("pulse_indexer_shards_owned", "Shard processors alive", multiprocess_mode="livesum")
SHARD_LAG = Gauge(
    "pulse_indexer_shard_lag_seconds",
    "now - ApproximateCreationDateTime of the last record processed (0 when caught up), per shard held",
    ["shard"],
    multiprocess_mode="livemax",
)
SHARD_LAG_MAX = Gauge(
    "pulse_indexer_lag_seconds",
    "Largest shard lag over the shards this worker holds (the autoscaling signal)",
    multiprocess_mode="livemax",
)
CHECKPOINTS = Counter("pulse_indexer_checkpoints_total", "Shard checkpoints written")
CHECKPOINT_ERRORS = Counter(
    "pulse_indexer_checkpoint_errors_total", "Checkpoint errors by KCL error name", ["error"]
)
DEAD_LETTERS = Counter(
    "pulse_indexer_dead_letters_total", "Messages written to the dead-letter queue", ["reason"]
)


def multiprocess_registry() -> CollectorRegistry:
    """A fresh registry merging every processor's files (one per scrape)."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
