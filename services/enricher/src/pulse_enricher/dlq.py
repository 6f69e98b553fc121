"""The dead-letter queue (SQS): poison records with why, where from, and their raw bytes.

Message body (docs/TEAM_NOTES.md): {"reason", "service", "source", "shard_id", "sequence_number",
"raw_b64", "error", "at"}; plus "raw_bytes" and "raw_truncated". SQS messages are at most 256 KiB,
so raw data beyond RAW_LIMIT bytes is truncated (a 2 MB post cannot be redriven, only inspected;
`raw_sha256` identifies it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pulse_common.retry import RetryPolicy

log = logging.getLogger("pulse.enricher.dlq")

RAW_LIMIT = 160 * 1024  # raw bytes kept; base64 makes it ~214 KiB, under SQS's 256 KiB
MAX_BATCH_MESSAGES = 10
MAX_BATCH_BYTES = 250 * 1024


@dataclass(frozen=True)
class DeadLetter:
    reason: str
    error: str
    shard_id: str
    sequence_number: str
    raw: bytes
    source: str
    service: str = "enricher"

    def body(self, at: datetime | None = None) -> str:
        kept = self.raw[:RAW_LIMIT]
        return json.dumps(
            {
                "reason": self.reason,
                "service": self.service,
                "source": self.source,
                "shard_id": self.shard_id,
                "sequence_number": self.sequence_number,
                "raw_b64": base64.b64encode(kept).decode("ascii"),
                "raw_bytes": len(self.raw),
                "raw_truncated": len(kept) < len(self.raw),
                "raw_sha256": hashlib.sha256(self.raw).hexdigest(),
                "error": self.error[:2000],
                "at": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
            },
            ensure_ascii=True,
        )


class DeadLetterQueue:
    """Sends dead letters in batches; retries failed entries until SQS has them all."""

    def __init__(
        self,
        sqs: Any,
        queue_name: str,
        *,
        retry_base_s: float = 0.05,
        retry_cap_s: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        on_retry: Callable[[], None] = lambda: None,
    ) -> None:
        self.sqs = sqs
        self.queue_name = queue_name
        self._url: str | None = None
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self.sleep = sleep
        self.on_retry = on_retry

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._retrying(lambda: self.sqs.get_queue_url(QueueName=self.queue_name))["QueueUrl"]
        return self._url

    def send(self, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        entries = [
            {
                "Id": str(i),
                "MessageBody": letter.body(),
                "MessageAttributes": {
                    "reason": {"DataType": "String", "StringValue": letter.reason},
                    "shard_id": {"DataType": "String", "StringValue": letter.shard_id},
                },
            }
            for i, letter in enumerate(letters)
        ]
        for batch in _batches(entries):
            pending = batch
            delays = RetryPolicy(self.retry_base_s, self.retry_cap_s).delays()
            while pending:
                response = self._retrying(
                    lambda p=pending: self.sqs.send_message_batch(QueueUrl=self.url, Entries=p)
                )
                failed = {f["Id"] for f in response.get("Failed", [])}
                pending = [e for e in pending if e["Id"] in failed]
                if pending:
                    self.on_retry()
                    log.warning("dead-letter send partly failed; retrying", extra={"failed": len(pending)})
                    self.sleep(next(delays))

    def _retrying(self, fn: Callable[[], Any]) -> Any:
        delays = RetryPolicy(self.retry_base_s, self.retry_cap_s).delays()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:
                if type(exc).__name__ in {"ParamValidationError"}:
                    raise
                self.on_retry()
                delay = next(delays)
                log.log(
                    logging.WARNING if attempt < 5 else logging.ERROR,
                    "dead-letter queue call failed; retrying",
                    extra={"error": f"{type(exc).__name__}: {exc}"[:300], "attempt": attempt},
                )
                self.sleep(delay)


def _batches(entries: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry["MessageBody"]) + 200
        if current and (len(current) == MAX_BATCH_MESSAGES or size + entry_size > MAX_BATCH_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        batches.append(current)
    return batches
