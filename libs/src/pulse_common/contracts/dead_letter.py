"""The dead letter: a record that cannot go on, with who refused it, why, where it came from, and its
raw bytes (or, where those cannot be re-sent, a reference to the post); and its one writer.

Every service writes the same frozen `DeadLetter` through the same `DeadLetterWriter` (SQS, batches
SQS accepts, one byte budget, one policy: block with backoff while SQS refuses, never drop a letter).
The message body (docs/TEAM_NOTES.md) is JSON: {"service", "reason", "error", "source", "shard_id",
"sequence_number", "post_id", "raw_b64", "raw_bytes", "raw_truncated", "raw_sha256", "at"}.

`service` says which store a redrive goes back to (pulse-dlq): a producer letter is an event that never
reached Kinesis (raw = the envelope when there was one), an enricher letter a Kinesis record (raw = its
data), an indexer letter a DynamoDB stream record or item (raw = its JSON, post_id = the item's key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pulse_common.retry import RetryPolicy

log = logging.getLogger("pulse.dead_letter")

Service = Literal["producer", "enricher", "indexer"]
SERVICES: tuple[str, ...] = get_args(Service)

# The one byte budget. An SQS message (and a batch of them) is at most 256 KiB; raw bytes take 4/3 of
# their size in base64, and the rest of the body (error, source, coordinates, escapes) stays far below
# the remaining 42 KiB. Raw data beyond the budget is cut (`raw_truncated`; `raw_sha256` identifies it):
# such a letter can be inspected, not re-sent as it is.
MAX_MESSAGE_BYTES = 256 * 1024
RAW_BUDGET = 160 * 1024
ERROR_CHARS = 2000
MAX_BATCH_MESSAGES = 10
ENTRY_OVERHEAD_BYTES = 200  # per entry of a batch: its id and attributes


@dataclass(frozen=True)
class DeadLetter:
    service: Service
    reason: str  # bounded: a metric label
    error: str
    source: str  # "kinesis:<stream>", "dynamodb-stream:<table>", "reindex:<table>", "replay:<file>:<line>"
    raw: bytes = b""
    shard_id: str | None = None
    sequence_number: str | None = None
    post_id: str | None = None  # the post it is about, when known (an indexer letter is redriven by it)
    raw_size: int | None = None  # read back: the raw bytes' size before the budget cut them
    at: str | None = None  # read back: when it was written

    @property
    def truncated(self) -> bool:
        return self.raw_size is not None and self.raw_size > len(self.raw)

    def body(self, at: datetime | None = None) -> str:
        kept = self.raw[:RAW_BUDGET]
        return json.dumps(
            {
                "service": self.service,
                "reason": self.reason,
                "error": self.error[:ERROR_CHARS],
                "source": self.source,
                "shard_id": self.shard_id,
                "sequence_number": self.sequence_number,
                "post_id": self.post_id,
                "raw_b64": base64.b64encode(kept).decode("ascii"),
                "raw_bytes": len(self.raw),
                "raw_truncated": len(kept) < len(self.raw),
                "raw_sha256": hashlib.sha256(self.raw).hexdigest(),
                "at": (at or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
            },
            ensure_ascii=True,
        )

    @classmethod
    def from_body(cls, text: str) -> DeadLetter:
        """A letter read back from its message body; ValueError when the body is not a dead letter."""
        body = json.loads(text)
        if not isinstance(body, dict) or body.get("service") not in SERVICES:
            raise ValueError("not a dead letter: no known service")
        raw = base64.b64decode(body.get("raw_b64") or "", validate=True)
        size = body.get("raw_bytes")
        return cls(
            service=body["service"],
            reason=str(body.get("reason") or "unknown"),
            error=str(body.get("error") or ""),
            source=str(body.get("source") or ""),
            raw=raw,
            shard_id=body.get("shard_id"),
            sequence_number=body.get("sequence_number"),
            post_id=body.get("post_id"),
            raw_size=size if isinstance(size, int) else (len(raw) + 1 if body.get("raw_truncated") else None),
            at=body.get("at"),
        )


def _retryable(exc: BaseException) -> bool:
    """Anything SQS answers may pass (throttling, an outage, a queue or a permission being fixed);
    a request botocore refuses to send is a bug."""
    return type(exc).__name__ != "ParamValidationError"


# Dead letters are never dropped: sending blocks (the batch, the shard, the source) until SQS has them.
DEAD_LETTER_RETRY = RetryPolicy(base_s=0.05, cap_s=5.0, max_attempts=None, retryable=_retryable)


def _nothing(*_args: object) -> None:
    return None


@dataclass
class DeadLetterWriter:
    """Writes dead letters to the SQS queue `queue_name`: in batches SQS accepts, failed entries resent
    with backoff until every letter is stored. `on_sent(letter)` runs once per stored letter (the
    service's `pulse_<service>_dead_letters_total{reason}`), `on_retry()` once per retry."""

    sqs: Any
    queue_name: str
    retry: RetryPolicy = DEAD_LETTER_RETRY
    sleep: Callable[[float], object] = time.sleep
    on_sent: Callable[[DeadLetter], None] = _nothing
    on_retry: Callable[[], None] = _nothing
    _url: str | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._call(lambda: self.sqs.get_queue_url(QueueName=self.queue_name))["QueueUrl"]
        return self._url

    def send(self, letters: Sequence[DeadLetter]) -> None:
        """Store every letter; returns only when SQS has them all."""
        for batch in batches([(letter, letter.body()) for letter in letters]):
            pending = {str(i): entry for i, entry in enumerate(batch)}
            delays = self.retry.delays()
            while pending:
                response = self._call(
                    lambda p=pending: self.sqs.send_message_batch(
                        QueueUrl=self.url,
                        Entries=[_entry(key, letter, body) for key, (letter, body) in p.items()],
                    )
                )
                for ok in response.get("Successful", []):
                    letter, _body = pending.pop(ok["Id"])
                    self._sent(letter)
                if pending:
                    self.on_retry()
                    failed = response.get("Failed", [])[:3]
                    log.warning("dead letters partly refused; resending", extra={"failed": failed})
                    self.sleep(next(delays))

    def _sent(self, letter: DeadLetter) -> None:
        self.on_sent(letter)
        log.warning(
            "record dead-lettered",
            extra={"service": letter.service, "reason": letter.reason, "source": letter.source,
                   "shard_id": letter.shard_id, "sequence_number": letter.sequence_number,
                   "post_id": letter.post_id, "error": letter.error[:300]},
        )

    def _call(self, fn: Callable[[], Any]) -> Any:
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            self.on_retry()
            log.log(
                logging.WARNING if attempt < 5 else logging.ERROR,
                "dead-letter queue call failed; retrying",
                extra={"queue": self.queue_name, "error": f"{type(exc).__name__}: {exc}"[:300],
                       "attempt": attempt, "delay_s": round(delay, 3)},
            )

        return self.retry.call(fn, sleep=self.sleep, on_retry=on_retry)


def _entry(key: str, letter: DeadLetter, body: str) -> dict[str, Any]:
    return {
        "Id": key,
        "MessageBody": body,
        "MessageAttributes": {
            "service": {"DataType": "String", "StringValue": letter.service},
            "reason": {"DataType": "String", "StringValue": letter.reason},
        },
    }


def batches(entries: list[tuple[DeadLetter, str]]) -> list[list[tuple[DeadLetter, str]]]:
    """(letter, body) pairs in batches SQS accepts: at most 10 messages and 256 KiB each."""
    found: list[list[tuple[DeadLetter, str]]] = []
    current: list[tuple[DeadLetter, str]] = []
    size = 0
    for entry in entries:
        entry_size = len(entry[1]) + ENTRY_OVERHEAD_BYTES
        if current and (len(current) == MAX_BATCH_MESSAGES or size + entry_size > MAX_MESSAGE_BYTES):
            found.append(current)
            current, size = [], 0
        current.append(entry)
        size += entry_size
    if current:
        found.append(current)
    return found
