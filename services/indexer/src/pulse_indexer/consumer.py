"""One shard's reader: GetRecords -> bulk actions -> OpenSearch -> dead letters -> checkpoint.

The next GetRecords is issued while the current batch is being indexed (one batch ahead), so
reading and indexing overlap. A batch is checkpointed only after every action in it was applied,
conflicted (409) or dead-lettered; on restart the shard resumes AFTER_SEQUENCE_NUMBER of that
checkpoint (records may be applied twice, which versioned writes make harmless).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from pulse_common.retry import backoff_delays, is_retryable_aws_error
from pulse_indexer import metrics as m
from pulse_indexer.bulk import Aborted, BulkWriter, record_outcome
from pulse_indexer.clients import DeadLetterQueue
from pulse_indexer.documents import (
    Action,
    BadRecord,
    dead_letter,
    is_ttl_remove,
    record_json,
    record_to_action,
)
from pulse_indexer.leases import SHARD_END, Lease, LeaseLost, LeaseTable

log = logging.getLogger("pulse.indexer.consumer")


def _code(exc: BaseException) -> str:
    return (
        getattr(exc, "response", {}).get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    )


class ShardConsumer(threading.Thread):
    def __init__(
        self,
        lease: Lease,
        *,
        streams: Any,
        leases: LeaseTable,
        writer: BulkWriter,
        dlq: DeadLetterQueue,
        alias: str,
        source: str,
        get_records_limit: int = 1000,
        idle_poll_min_s: float = 0.1,
        idle_poll_max_s: float = 0.5,
    ) -> None:
        super().__init__(name=f"shard-{lease.shard_id[-12:]}", daemon=True)
        self.lease = lease
        self.streams = streams
        self.leases = leases
        self.writer = writer
        self.dlq = dlq
        self.alias = alias
        self.source = source
        self.limit = get_records_limit
        self.idle_min = idle_poll_min_s
        self.idle_max = idle_poll_max_s
        self.stop_event = threading.Event()
        self.last_sequence: str | None = (
            lease.checkpoint if lease.checkpoint not in ("TRIM_HORIZON", "LATEST", SHARD_END) else None
        )
        self.shard_ended = False
        self.lost = False
        self.lag_s = 0.0
        self.error: BaseException | None = None
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")

    # --- control ---
    def stop(self) -> None:
        self.stop_event.set()

    def keep_going(self) -> bool:
        return not self.stop_event.is_set()

    def _sleep(self, seconds: float) -> None:
        self.stop_event.wait(seconds)

    # --- AWS calls with retry on throttling / 5xx / connection trouble ---
    def _retrying(self, fn):
        delays = backoff_delays(0.1, 5.0)
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_retryable_aws_error(exc) or self.stop_event.is_set():
                    raise
                delay = next(delays)
                log.warning("stream call failed; retrying", extra={"error": str(exc)[:300], "delay_s": delay})
                self._sleep(delay)

    def _iterator(self) -> str | None:
        shard = self.lease.shard_id
        if self.last_sequence is not None:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.last_sequence}
        elif self.lease.checkpoint == "LATEST":
            kwargs = {"ShardIteratorType": "LATEST"}
        else:
            kwargs = {"ShardIteratorType": "TRIM_HORIZON"}
        try:
            response = self._retrying(
                lambda: self.streams.get_shard_iterator(
                    StreamArn=self.lease.stream_arn, ShardId=shard, **kwargs
                )
            )
        except ClientError as exc:
            if _code(exc) == "TrimmedDataAccessException":
                m.TRIMMED.inc()
                log.error(
                    "checkpoint is older than the stream's retention; resuming from TRIM_HORIZON",
                    extra={"shard": shard, "checkpoint": self.last_sequence},
                )
                self.last_sequence = None
                response = self._retrying(
                    lambda: self.streams.get_shard_iterator(
                        StreamArn=self.lease.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
                    )
                )
            elif _code(exc) == "ResourceNotFoundException":
                log.warning("shard no longer exists; treating it as ended", extra={"shard": shard})
                return None
            else:
                raise
        return response.get("ShardIterator")

    def _get_records(self, iterator: str) -> dict[str, Any]:
        """GetRecords; on an expired iterator re-acquire from the checkpoint, on trimmed data restart."""
        while True:
            try:
                current = iterator
                return self._retrying(
                    lambda: self.streams.get_records(ShardIterator=current, Limit=self.limit)  # noqa: B023
                )
            except ClientError as exc:
                code = _code(exc)
                if code == "ExpiredIteratorException":
                    m.ITERATOR_EXPIRED.inc()
                elif code == "TrimmedDataAccessException":
                    m.TRIMMED.inc()
                    log.error(
                        "records trimmed before they were read; resuming from TRIM_HORIZON",
                        extra={"shard": self.lease.shard_id},
                    )
                    self.last_sequence = None
                else:
                    raise
                fresh = self._iterator()
                if fresh is None:
                    return {"Records": [], "NextShardIterator": None}
                iterator = fresh

    # --- main loop ---
    def run(self) -> None:
        try:
            self._run()
        except LeaseLost:
            self.lost = True
            m.LEASES_LOST.inc()
            log.warning("lease lost while reading; stopping", extra={"shard": self.lease.shard_id})
        except Aborted:
            pass
        except Exception as exc:
            self.error = exc
            log.exception("shard consumer failed", extra={"shard": self.lease.shard_id})
        finally:
            self._prefetch.shutdown(wait=False, cancel_futures=True)
            try:
                m.SHARD_LAG.remove(self.lease.shard_id)
            except KeyError:
                pass

    def _run(self) -> None:
        iterator = self._iterator()
        idle = self.idle_min
        pending: Future | None = None
        while iterator is not None and not self.stop_event.is_set():
            response = pending.result() if pending is not None else self._get_records(iterator)
            pending = None
            records = response.get("Records", [])
            iterator = response.get("NextShardIterator")
            if records and iterator is not None:
                pending = self._prefetch.submit(self._get_records, iterator)
            if records:
                self.process(records)
                idle = self.idle_min
            else:
                self.lag_s = 0.0
                m.SHARD_LAG.labels(self.lease.shard_id).set(0)
                if iterator is not None:
                    self._sleep(idle)
                    idle = min(self.idle_max, max(idle * 2, 0.01))
        if iterator is None and not self.stop_event.is_set():
            self.leases.checkpoint(self.lease.lease_key, SHARD_END)
            self.lease.checkpoint = SHARD_END
            self.shard_ended = True
            log.info("shard ended", extra={"shard": self.lease.shard_id})

    def process(self, records: list[dict[str, Any]]) -> None:
        by_id: dict[str, Action] = {}
        dead: list[dict[str, Any]] = []
        shard = self.lease.shard_id
        for record in records:
            ttl = is_ttl_remove(record)
            m.RECORDS_READ.labels("TTL_REMOVE" if ttl else str(record.get("eventName"))).inc()
            try:
                action = record_to_action(record, self.alias, shard)
            except BadRecord as exc:
                seq = (record.get("dynamodb") or {}).get("SequenceNumber", "")
                dead.append(
                    dead_letter(
                        reason=exc.reason,
                        error=str(exc),
                        source=self.source,
                        shard_id=shard,
                        sequence_number=seq,
                        raw=record_json(record),
                    )
                )
                m.DOCS_FAILED.labels(exc.reason).inc()
                continue
            if action is None:
                (m.TTL_SKIPPED if ttl else m.TOMBSTONES_SKIPPED).inc()
                continue
            action.meta["record"] = record
            by_id.pop(action.id, None)
            by_id[action.id] = action  # the last write of an id in the batch wins
        outcome = self.writer.write(list(by_id.values()), keep_going=self.keep_going)
        record_outcome(outcome)
        for failure in outcome.failed:
            action = failure.action
            dead.append(
                dead_letter(
                    reason=failure.reason,
                    error=failure.error,
                    source=self.source,
                    shard_id=shard,
                    sequence_number=action.sequence_number,
                    raw=record_json(action.meta.get("record", {})),
                )
            )
            m.DOCS_FAILED.labels(failure.reason).inc()
        if dead:
            self.dlq.send(dead)
        last = records[-1].get("dynamodb", {})
        sequence = last.get("SequenceNumber")
        if sequence:
            self.leases.checkpoint(self.lease.lease_key, sequence)
            self.last_sequence = sequence
            m.CHECKPOINTS.inc()
        created = last.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            lag = (datetime.now(UTC) - created.astimezone(UTC)).total_seconds()
        elif isinstance(created, int | float):
            lag = time.time() - float(created)
        else:
            lag = 0.0
        self.lag_s = max(0.0, lag)
        m.SHARD_LAG.labels(shard).set(self.lag_s)
