"""The dead-letter store: an SQS queue; one JSON message per rejected record (team-wide format)."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from typing import Any

from pulse_common.retry import RetryPolicy

from . import metrics

log = logging.getLogger("pulse.producer.dead_letter")

# SQS messages are at most 256 KiB; keep the raw payload well under that.
MAX_RAW_BYTES = 150 * 1024


class DeadLetter:
    def __init__(self, sqs: Any, queue_name: str, *, service: str = "producer") -> None:
        self.sqs = sqs
        self.queue_name = queue_name
        self.service = service
        self._url: str | None = None
        self.sent = 0

    @property
    def queue_url(self) -> str:
        if self._url is None:
            found = RetryPolicy().call(lambda: self.sqs.get_queue_url(QueueName=self.queue_name))
            self._url = found["QueueUrl"]
        return self._url

    def send(self, *, reason: str, source: str, raw: bytes, error: str = "") -> bool:
        """Send one dead letter; False (logged) if even that fails."""
        body: dict[str, Any] = {
            "reason": reason,
            "service": self.service,
            "source": source,
            "shard_id": None,
            "sequence_number": None,
            "raw_b64": base64.b64encode(raw[:MAX_RAW_BYTES]).decode("ascii"),
            "error": error,
            "at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        if len(raw) > MAX_RAW_BYTES:
            body["raw_truncated"] = True
            body["raw_bytes"] = len(raw)
        try:
            message = json.dumps(body)
            RetryPolicy().call(lambda: self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=message))
        except Exception:
            log.exception("dead letter could not be sent", extra={"reason": reason, "source": source})
            return False
        self.sent += 1
        metrics.DEAD_LETTERS.labels(reason=reason).inc()
        log.warning("dead-lettered", extra={"reason": reason, "source": source, "error": error[:300]})
        return True
