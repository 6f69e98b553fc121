"""Batched Kinesis sink: put_records of up to 500 records / 5 MiB, resending only failed entries.

- A record is the envelope's JSON; its partition key is the post id (hashed only if longer than
  Kinesis' 256-character limit, so one id still always maps to one shard).
- Records over 1 MiB (data + key) go to the dead-letter queue with reason `record_too_large`.
- Throttled (`ProvisionedThroughputExceededException`) and `InternalFailure` entries are resent
  with capped exponential backoff and full jitter until they are accepted: the sink blocks, the
  bounded queue in front of it fills, and the source slows down. Nothing is dropped.
- Entries failing with any other code are retried `max_entry_attempts` times, then dead-lettered.
- Dead letters are never dropped either: the writer blocks with backoff until SQS has each one.
- A non-retryable call error (missing stream, access denied) raises `SinkError`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from pulse_common.contracts.dead_letter import DeadLetter, DeadLetterWriter
from pulse_common.contracts.envelope import MAX_RECORD_BYTES, partition_key
from pulse_common.retry import RetryPolicy, aws_error_code

from . import metrics
from .events import Item, record_bytes

log = logging.getLogger("pulse.producer.sink")

MAX_BATCH_RECORDS = 500
MAX_BATCH_BYTES = 5 * 1024 * 1024
RETRY_FOREVER_CODES = frozenset({"ProvisionedThroughputExceededException", "InternalFailure"})
USAGE_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
    }
)


class SinkError(RuntimeError):
    """Kinesis refused in a way retrying cannot fix (missing stream, bad credentials...)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage  # the user must fix something (exit 2)


@dataclass(slots=True)
class _Entry:
    data: bytes
    key: str
    item: Item
    attempts: int = 0

    @property
    def size(self) -> int:
        return len(self.data) + len(self.key.encode("utf-8"))


class KinesisSink:
    def __init__(
        self,
        kinesis: Any,
        stream_name: str,
        *,
        dead_letter: DeadLetterWriter,
        max_records: int = MAX_BATCH_RECORDS,
        max_bytes: int = MAX_BATCH_BYTES,
        retry_base_s: float = 0.02,
        retry_cap_s: float = 1.0,
        max_entry_attempts: int = 10,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.kinesis = kinesis
        self.stream_name = stream_name
        self.dead_letter = dead_letter
        self.max_records = min(max_records, MAX_BATCH_RECORDS)
        self.max_bytes = min(max_bytes, MAX_BATCH_BYTES)
        # Kinesis is retried until it takes every record: the source waits, nothing is dropped.
        self.retry = RetryPolicy(retry_base_s, retry_cap_s, max_attempts=None)
        self.max_entry_attempts = max_entry_attempts
        self.sleep = sleep
        self.rng = rng or random.Random()
        self._buffer: list[_Entry] = []
        self._buffer_bytes = 0
        self.put = 0
        self.failed = 0
        self.dead_lettered = 0
        self.calls = 0

    # ------------------------------------------------------------ buffering

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def add(self, item: Item) -> None:
        """Buffer one event; flush first if it would not fit in the current batch."""
        try:
            data = record_bytes(item.event)
        except ValidationError as exc:
            # An event the schema refuses (e.g. an over-long id from a source) is poison: dead-letter
            # it with what we have and go on; it must never stop the stream.
            raw = repr(item.event).encode("utf-8", "replace")[:MAX_RECORD_BYTES // 2]
            entry = _Entry(data=raw, key=partition_key(str(item.event.id)), item=item)
            self._dead_letter(entry, "invalid_event", str(exc)[:2000])
            return
        entry = _Entry(data=data, key=partition_key(item.event.id), item=item)
        if entry.size > MAX_RECORD_BYTES:
            self._dead_letter(entry, "record_too_large", f"{entry.size} bytes > {MAX_RECORD_BYTES}")
            return
        if self._buffer and (
            len(self._buffer) >= self.max_records or self._buffer_bytes + entry.size > self.max_bytes
        ):
            try:
                self.flush()
            except BaseException:
                self.failed += 1  # this entry never made it into a batch
                raise
        self._buffer.append(entry)
        self._buffer_bytes += entry.size
        if len(self._buffer) >= self.max_records:
            self.flush()

    def flush(self) -> None:
        """Send everything buffered; return only when every entry is put or dead-lettered."""
        if not self._buffer:
            return
        batch, self._buffer, self._buffer_bytes = self._buffer, [], 0
        started = time.perf_counter()
        try:
            self._send(batch)
        except BaseException:
            # Whatever was neither put nor dead-lettered counts as failed.
            self.failed += sum(1 for e in batch if e.attempts >= 0)
            raise
        metrics.FLUSH_LATENCY.observe(time.perf_counter() - started)
        for entry in batch:
            if entry.item.on_sent is not None:
                entry.item.on_sent()

    # ------------------------------------------------------------ sending

    def _send(self, batch: list[_Entry]) -> None:
        pending = batch
        delays = self.retry.delays(rng=self.rng)
        while pending:
            self.calls += 1
            metrics.BATCH_SIZE.observe(len(pending))
            started = time.perf_counter()
            try:
                response = self.kinesis.put_records(
                    StreamName=self.stream_name,
                    Records=[{"Data": e.data, "PartitionKey": e.key} for e in pending],
                )
            except (ClientError, BotoCoreError) as exc:
                code = aws_error_code(exc)
                metrics.PUT_FAILURES.labels(error_code=code).inc()
                if not self.retry.retryable(exc):
                    raise SinkError(
                        _fatal_message(self.stream_name, code, exc), usage=code in USAGE_CODES
                    ) from exc
                delay = next(delays)
                log.warning(
                    "put_records failed; retrying", extra={"error_code": code, "delay_s": round(delay, 3)}
                )
                self.sleep(delay)
                continue
            finally:
                metrics.PUT_LATENCY.observe(time.perf_counter() - started)
            retry: list[_Entry] = []
            for entry, result in zip(pending, response["Records"], strict=True):
                code = result.get("ErrorCode")
                if not code:
                    entry.attempts = -1  # put
                    self.put += 1
                    continue
                metrics.PUT_FAILURES.labels(error_code=code).inc()
                entry.attempts += 1
                if code in RETRY_FOREVER_CODES or entry.attempts < self.max_entry_attempts:
                    retry.append(entry)
                else:
                    self._dead_letter(entry, "put_rejected", f"{code}: {result.get('ErrorMessage', '')}")
                    entry.attempts = -1
            accepted = len(pending) - len(retry)
            if accepted:
                metrics.RECORDS_PUT.inc(accepted)
            pending = retry
            if pending:
                self.sleep(next(delays))

    def _dead_letter(self, entry: _Entry, reason: str, error: str) -> None:
        """Blocks until the dead-letter queue has it (DeadLetterWriter): a refused post is never lost."""
        post_id = entry.item.event.id
        letter = DeadLetter(service="producer", reason=reason, error=error, source=entry.item.source,
                            raw=entry.data, post_id=post_id if isinstance(post_id, str) else None)
        self.dead_letter.send([letter])
        self.dead_lettered += 1


def _fatal_message(stream: str, code: str, exc: BaseException) -> str:
    if code == "ResourceNotFoundException":
        return f"Kinesis stream {stream!r} does not exist (create it, or set PULSE_STREAM_NAME)"
    if code in {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"}:
        return f"Kinesis refused our credentials for stream {stream!r}: {code}"
    return f"put_records to {stream!r} failed with {code}: {exc}"
