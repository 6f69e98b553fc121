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


@dataclass(slots=True)
class Hide:
    """A post-level compliance event: hide (`on`) or show again (`on=False`) the post `id` for
    `reason` (pulse_common.contracts.visibility), versioned by when it happened."""

    id: str
    version: int
    reason: str
    on: bool = True


@dataclass(slots=True)
class UserCompliance:
    """A user-level compliance event (X user_* / scrub_geo, Bluesky account status): `user_id` is
    "<network>:<native user id>", `action` the event's name, `reason` the hidden reason it sets
    (or clears when `on` is False)."""

    user_id: str
    version: int
    action: str
    reason: str | None
    on: bool = True
    up_to_id: str | None = None  # scrub_geo: the newest post id whose location goes

    @property
    def id(self) -> str:
        return self.user_id  # the partition key: one user's events stay in order


@dataclass(slots=True)
class Refused:
    """One part of a document that could not be read (a tweet of a page); its neighbours were.
    Sources count it under `reason` and forward nothing."""

    reason: str
    detail: str = ""
    id: str | None = None


Event = Upsert | Delete | Hide | UserCompliance
Parsed = Event | Refused


@dataclass(slots=True)
class Item:
    """One event on its way to Kinesis, with where it came from and an optional acknowledgement."""

    event: Event
    source: str  # e.g. "replay:data/sample/posts.jsonl.gz:12"
    on_sent: Callable[[], None] | None = field(default=None)


def envelope(event: Event, ingested_at: datetime | None = None) -> RecordEnvelope:
    if isinstance(event, Upsert):
        return envelopes.upsert(event.post, ingested_at)
    if isinstance(event, Hide):
        return envelopes.hide(event.id, event.version, reason=event.reason, on=event.on,
                              ingested_at=ingested_at)
    if isinstance(event, UserCompliance):
        return envelopes.user_event(event.user_id, event.version, reason=event.reason, on=event.on,
                                    up_to_id=event.up_to_id, ingested_at=ingested_at)
    return envelopes.delete(event.id, event.version, reason=event.reason, ingested_at=ingested_at)


def record_bytes(event: Event, ingested_at: datetime | None = None) -> bytes:
    """The Kinesis record data (`pulse_common.contracts.envelope.encode`)."""
    return envelopes.encode(envelope(event, ingested_at))
