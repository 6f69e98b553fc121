"""What sources hand to the sink: an upsert of a normalized Post, or a delete of an id."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from pulse_common.contracts import envelope as envelopes
from pulse_common.contracts.envelope import RecordEnvelope
from pulse_common.schema import Post


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ms_of(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(slots=True)
class Upsert:
    post: Post

    @property
    def id(self) -> str:
        return self.post.id


@dataclass(slots=True)
class Delete:
    id: str
    version: int
    reason: str = "user_delete"


Event = Upsert | Delete


@dataclass(slots=True)
class Item:
    """One event on its way to Kinesis, with where it came from and an optional acknowledgement."""

    event: Event
    source: str  # e.g. "replay:data/sample/posts.jsonl.gz:12"
    on_sent: Callable[[], None] | None = field(default=None)


def envelope(event: Event, ingested_at: datetime | None = None) -> RecordEnvelope:
    if isinstance(event, Upsert):
        return envelopes.upsert(event.post, ingested_at)
    return envelopes.delete(event.id, event.version, reason=event.reason, ingested_at=ingested_at)


def record_bytes(event: Event, ingested_at: datetime | None = None) -> bytes:
    """The Kinesis record data (`pulse_common.contracts.envelope.encode`)."""
    return envelopes.encode(envelope(event, ingested_at))
