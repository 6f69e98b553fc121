"""The producer's Prometheus metrics (module-level: one set per process)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from pulse_common.contracts.dead_letter import DeadLetter
from pulse_common.metrics import BATCH_SIZE_BUCKETS, CALL_LATENCY_BUCKETS

POSTS_RECEIVED = Counter(
    "pulse_producer_posts_received_total", "Events read from a source and queued for Kinesis", ["source"]
)
INPUT_SKIPPED = Counter(
    "pulse_producer_input_skipped_total",
    "Input lines or events skipped (malformed, unknown shape, not tracked)",
    ["source", "reason"],
)
RECORDS_PUT = Counter("pulse_producer_records_put_total", "Records accepted by Kinesis")
PUT_FAILURES = Counter(
    "pulse_producer_put_failures_total", "Failed put_records entries or calls, by error code", ["error_code"]
)
DEAD_LETTERS = Counter(
    "pulse_producer_dead_letters_total", "Records sent to the dead-letter queue", ["reason"]
)
BATCH_SIZE = Histogram(
    "pulse_producer_batch_size_records", "Records per put_records call", buckets=BATCH_SIZE_BUCKETS
)
PUT_LATENCY = Histogram(
    "pulse_producer_put_latency_seconds", "Latency of one put_records call", buckets=CALL_LATENCY_BUCKETS
)
FLUSH_LATENCY = Histogram(
    "pulse_producer_flush_latency_seconds",
    "Time to get a whole batch accepted, retries included",
    buckets=CALL_LATENCY_BUCKETS,
)
QUEUE_DEPTH = Gauge("pulse_producer_queue_depth", "Events waiting between the reader and the sink")
RECONNECTS = Counter(
    "pulse_producer_reconnects_total", "Stream reconnects by source and cause", ["source", "cause"]
)
RULES_IN_FORCE = Gauge("pulse_producer_rules_in_force", "X filtered-stream rules in force after sync")


def count_dead_letter(letter: DeadLetter) -> None:
    """A letter the dead-letter queue stored (the writer's on_sent)."""
    DEAD_LETTERS.labels(reason=letter.reason).inc()
