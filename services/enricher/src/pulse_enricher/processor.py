"""The per-shard record processor (amazon-kclpy v3) that the MultiLangDaemon launches.

Contract with the KCL, per shard:
- `process_records`: decode, validate and enrich each record; a record that cannot be is
  dead-lettered (SQS) with its reason, shard id, sequence number and raw bytes, and the batch goes
  on. Posts are then written to DynamoDB (versioned, see store.py) and the dead letters sent, both
  retried until durable; only then is the batch's last sequence number checkpointed. An
  infrastructure outage therefore stalls progress without ever checkpointing past an unwritten post.
- `shard_ended`: checkpoint at SHARD_END so the child shards can start.
- `shutdown_requested`: checkpoint the last durable sequence number.
- `lease_lost`: nothing more (another worker owns the shard; checkpointing would fail anyway).
Checkpoint errors by kind: throttling and dependency errors back off and retry; ShutdownException
stops this processor; InvalidStateException is logged and stops it.

stdout belongs to the KCL protocol: `main` keeps a private handle to it and points fd 1 and
sys.stdout at stderr, so no stray print can corrupt the protocol. Logs are JSON lines on stderr.
"""

from __future__ import annotations

import atexit
import importlib
import inspect
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from amazon_kclpy import kcl
from amazon_kclpy.v3 import processor as kcl_processor

from pulse_common.aws import client
from pulse_common.contracts.dead_letter import DEAD_LETTER_RETRY, DeadLetter, DeadLetterWriter
from pulse_common.contracts.envelope import POISON_REASONS, Poison, decode
from pulse_common.contracts.items import item_too_large, to_item
from pulse_common.kcl import checkpoint as kcl_checkpoint
from pulse_common.kcl import protocol_streams
from pulse_common.logging import configure_logging
from pulse_common.retry import RetryPolicy
from pulse_common.settings import secret_values
from pulse_enricher import metrics
from pulse_enricher.settings import EnricherSettings
from pulse_enricher.store import STORE_RETRY, Delete, Op, PostStore, Upsert, now_utc

log = logging.getLogger("pulse.enricher.processor")

# Why the enricher dead-letters a record (bounded: a metric label): the envelope's poison reasons,
# and what can go wrong after decoding.
INVALID_BASE64 = "invalid_base64"
ENRICH_FAILED = "enrich_failed"
ITEM_TOO_LARGE = "item_too_large"
REASONS = (*POISON_REASONS, INVALID_BASE64, ENRICH_FAILED, ITEM_TOO_LARGE)

CHECKPOINT_ATTEMPTS = 6
# Exit status of a processor that hit a failure retrying cannot fix. The MultiLangDaemon treats a
# dead child as fatal and exits (System.exit(1)); `pulse-enricher run` then exits non-zero and the
# supervisor restarts it: the shard resumes from its last checkpoint. Crash-only, never skip.
EXIT_UNRECOVERABLE = 70


def load_enricher(settings: EnricherSettings) -> Any:
    """The NLP core named by settings.enricher_factory, built from the tracking config."""
    from pulse_common.tracking import load_tracking_config

    module_name, _, attr = settings.enricher_factory.partition(":")
    factory = getattr(importlib.import_module(module_name), attr or "Enricher")
    return factory(load_tracking_config(settings.stack.tracking_config))


@dataclass
class BatchOutcome:
    ops: list[Op] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    op_sequence: dict[str, str] = field(default_factory=dict)  # post id -> sequence number of its op
    raw_by_sequence: dict[str, bytes] = field(default_factory=dict)


class ShardProcessor(kcl_processor.RecordProcessorBase):
    """One shard's processor. Dependencies are injectable for tests; built lazily otherwise."""

    def __init__(
        self,
        settings: EnricherSettings,
        *,
        enricher: Any = None,
        store: PostStore | None = None,
        dlq: DeadLetterWriter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        exit_on_failure: bool = True,
    ) -> None:
        self.settings = settings
        self.exit_on_failure = exit_on_failure
        self.enricher = enricher
        self.store = store
        self.dlq = dlq
        self.sleep = sleep
        self.shard_id = "unknown"
        self.source = f"kinesis:{settings.stack.stream_name}"
        self.retention = timedelta(days=settings.retention_days)
        self.last_durable: tuple[str, int | None] | None = None  # (sequence, sub-sequence)
        self.last_checkpointed: str | None = None
        self.stopped = False
        self.duplicates = None
        self._enrich_kwargs: set[str] = set()

    # -- lifecycle ----------------------------------------------------------------------------
    def initialize(self, initialize_input) -> None:
        self.shard_id = initialize_input.shard_id
        self.last_checkpointed = initialize_input.sequence_number
        self._build_dependencies()
        metrics.SHARDS.set(1)
        log.info(
            "processor initialized",
            extra={"shard_id": self.shard_id, "sequence_number": initialize_input.sequence_number,
                   "enrichment_version": getattr(self.enricher, "version", None)},
        )

    def _build_dependencies(self) -> None:
        stack = self.settings.stack
        if self.enricher is None:
            self.enricher = load_enricher(self.settings)
        if self.store is None:
            self.store = PostStore(
                client("dynamodb", stack, max_pool_connections=max(10, self.settings.write_concurrency),
                       parameter_validation=False),
                stack.table_name,
                mode=self.settings.write_mode,
                concurrency=self.settings.write_concurrency,
                retry=STORE_RETRY.replace(base_s=self.settings.retry_base_s, cap_s=self.settings.retry_cap_s),
                tombstone_ttl=timedelta(hours=self.settings.tombstone_ttl_hours),
            )
        if self.dlq is None:
            self.dlq = DeadLetterWriter(
                client("sqs", stack),
                stack.dlq_name,
                retry=DEAD_LETTER_RETRY.replace(
                    base_s=self.settings.retry_base_s, cap_s=self.settings.retry_cap_s
                ),
                on_retry=metrics.DLQ_RETRIES.inc,
                on_sent=metrics.count_dead_letter,
            )
        try:
            params = inspect.signature(self.enricher.enrich).parameters
            self._enrich_kwargs = {name for name in ("enriched_at", "duplicates") if name in params}
        except (TypeError, ValueError):
            self._enrich_kwargs = set()
        if self.settings.detect_duplicates and "duplicates" in self._enrich_kwargs:
            try:
                from pulse_enricher.nlp import DuplicateTracker

                self.duplicates = DuplicateTracker()
            except ImportError:
                self.duplicates = None

    def process_records(self, process_records_input) -> None:
        behind = process_records_input.millis_behind_latest
        if behind is not None:
            metrics.MILLIS_BEHIND.labels(self.shard_id).set(behind)
        records = process_records_input.records
        if not records:
            return
        if self.stopped:
            log.warning("processor stopped; batch ignored (it will be redelivered)",
                        extra={"shard_id": self.shard_id, "records": len(records)})
            return
        metrics.BATCH_SIZE.observe(len(records))
        try:
            self._process(records)
        except Exception as exc:
            # Nothing escapes store/dlq except what retrying cannot fix (a bug, bad credentials...).
            # Never checkpoint past it: stop here, and exit so the daemon restarts from the last
            # checkpoint (see EXIT_UNRECOVERABLE).
            self.stopped = True
            log.critical("batch failed; processor exits without checkpointing", exc_info=True,
                         extra={"shard_id": self.shard_id,
                                "first_sequence": records[0].sequence_number,
                                "last_sequence": records[-1].sequence_number})
            if self.exit_on_failure:
                raise SystemExit(EXIT_UNRECOVERABLE) from exc
            return
        last = records[-1]
        self.last_durable = (last.sequence_number, last.sub_sequence_number)
        self._checkpoint(process_records_input.checkpointer, *self.last_durable)

    def lease_lost(self, lease_lost_input) -> None:
        self.stopped = True
        metrics.SHARDS.set(0)
        log.info("lease lost", extra={"shard_id": self.shard_id})

    def shard_ended(self, shard_ended_input) -> None:
        log.info("shard ended; checkpointing at SHARD_END", extra={"shard_id": self.shard_id})
        self._checkpoint(shard_ended_input.checkpointer, None, None)
        self.stopped = True
        metrics.SHARDS.set(0)

    def shutdown_requested(self, shutdown_requested_input) -> None:
        log.info("shutdown requested", extra={"shard_id": self.shard_id,
                                              "sequence_number": self.last_durable and self.last_durable[0]})
        if self.last_durable is not None and not self.stopped:
            self._checkpoint(shutdown_requested_input.checkpointer, *self.last_durable, force=True)
        self.stopped = True

    # -- the batch ----------------------------------------------------------------------------
    def _process(self, records: list) -> None:
        started = time.perf_counter()
        outcome = self.prepare(records)
        result = self.store.apply(outcome.ops)
        for post_id, reason in result.rejected.items():
            seq = outcome.op_sequence[post_id]
            outcome.letters.append(self._letter(ITEM_TOO_LARGE, f"rejected by DynamoDB: {reason}", seq,
                                                outcome.raw_by_sequence.get(seq, b"")))
        self.dlq.send(outcome.letters)
        counts = {
            "written": len(result.written),
            "stale": len(result.stale),
            "already_stored": len(result.already_stored),
            "deleted": len(result.deleted),
            "delete_noop": len(result.delete_noop),
            "dead_lettered": len(outcome.letters),
        }
        for name, value in counts.items():
            if value:
                metrics.RECORDS.labels(name).inc(value)
        if result.already_stored:
            metrics.REDELIVERED.inc(len(result.already_stored))
        log.info(
            "batch stored",
            extra={"shard_id": self.shard_id, "records": len(records),
                   "first_sequence": records[0].sequence_number,
                   "last_sequence": records[-1].sequence_number,
                   "seconds": round(time.perf_counter() - started, 4), **counts},
        )

    def prepare(self, records: list) -> BatchOutcome:
        """Decode and enrich every record: ops to store, and dead letters for the rest."""
        outcome = BatchOutcome()
        enriched_at = now_utc()
        for record in records:
            seq = record.sequence_number
            try:
                data = record.binary_data
            except Exception as exc:  # noqa: BLE001 - undecodable base64 from the daemon
                outcome.letters.append(self._letter(INVALID_BASE64, str(exc), seq, b""))
                continue
            decoded = decode(data)
            if isinstance(decoded, Poison):
                outcome.letters.append(self._letter(decoded.reason, decoded.error, seq, data))
                continue
            if decoded.op == "delete":
                op: Op = Delete(decoded.id, decoded.version)
            else:
                try:
                    item = self._enrich(decoded, enriched_at)
                except Exception as exc:  # noqa: BLE001 - one bad post never stops the batch
                    outcome.letters.append(
                        self._letter(ENRICH_FAILED, f"{type(exc).__name__}: {exc}", seq, data))
                    continue
                if item_too_large(item):
                    outcome.letters.append(self._letter(
                        ITEM_TOO_LARGE, "enriched item exceeds DynamoDB's 400 KB item limit", seq, data))
                    continue
                op = Upsert(decoded.id, decoded.version, item)
            outcome.ops.append(op)
            outcome.op_sequence[op.id] = seq
            outcome.raw_by_sequence[seq] = data
        return outcome

    def _enrich(self, envelope, enriched_at) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if "enriched_at" in self._enrich_kwargs:
            kwargs["enriched_at"] = enriched_at
        if "duplicates" in self._enrich_kwargs and self.duplicates is not None:
            kwargs["duplicates"] = self.duplicates
        started = time.perf_counter()
        enriched = self.enricher.enrich(envelope.post, ingested_at=envelope.ingested_at, **kwargs)
        metrics.ENRICH_SECONDS.observe(time.perf_counter() - started)
        if getattr(enriched, "enriched_at", None) is None:
            enriched.enriched_at = enriched_at
        if getattr(enriched, "ingested_at", None) is None:
            enriched.ingested_at = envelope.ingested_at
        return to_item(enriched, envelope, enriched_at=enriched_at, retention=self.retention)

    def _letter(self, reason: str, error: str, seq: str, raw: bytes) -> DeadLetter:
        return DeadLetter(service="enricher", reason=reason, error=error, shard_id=self.shard_id,
                          sequence_number=seq, raw=raw, source=self.source)

    # -- checkpoints --------------------------------------------------------------------------
    def _checkpoint(
        self, checkpointer, sequence: str | None, sub: int | None, *, force: bool = False
    ) -> bool:
        """Checkpoint at `sequence` (None: SHARD_END / everything delivered). True if stored."""
        result = kcl_checkpoint(
            checkpointer, sequence, sub, attempts=CHECKPOINT_ATTEMPTS,
            delays=RetryPolicy(self.settings.retry_base_s * 4, self.settings.retry_cap_s).delays(),
            sleep=self.sleep, on_error=lambda error: metrics.CHECKPOINT_ERRORS.labels(error).inc(),
            context={"shard_id": self.shard_id},
        )
        if result == "stop":
            self.stopped = True
        if result != "ok":
            return False
        metrics.CHECKPOINTS.inc()
        self.last_checkpointed = sequence or "SHARD_END"
        log.debug("checkpointed",
                  extra={"shard_id": self.shard_id, "sequence_number": sequence, "forced": force})
        return True


def main(settings: EnricherSettings | None = None) -> int:
    """Entry point of `pulse-enricher processor` (run by the daemon, one process per shard)."""
    # Ctrl-C reaches `run`, which stops the daemon gracefully; a processor must not die mid-batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    protocol_out = protocol_streams()  # fd 1 and sys.stdout go to stderr; the KCL keeps its own
    settings = settings or EnricherSettings()
    configure_logging("enricher", settings.log_level, secrets=secret_values(settings))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        atexit.register(multiprocess.mark_process_dead, os.getpid())
    processor = ShardProcessor(settings)
    kcl.KCLProcess(processor, input_file=sys.stdin, output_file=protocol_out, error_file=sys.stderr).run()
    return 0
