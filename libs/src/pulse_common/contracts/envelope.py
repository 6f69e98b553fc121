"""The record envelope: what one Kinesis record carries, and its wire codec.

The producer writes one record per event: the UTF-8 JSON of a `RecordEnvelope` (an upsert of a
`Post`, a delete of an id, or a hide / unhide of an id for a compliance reason) with the post id
as partition key (`partition_key`). The enricher reads
it back with `decode`, which never raises: a record that is not a valid envelope is `Poison`, with a
reason from `POISON_REASONS` (a bounded metric label and the dead letter's reason).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson
from pydantic import Field, ValidationError, field_validator

from pulse_common.schema import MAX_ID_CHARS, MAX_VERSION, Post, SchemaModel, as_utc

# A Kinesis record is at most 1 MiB (data and partition key together); nothing that size is a post.
MAX_RECORD_BYTES = 1024 * 1024
MAX_PARTITION_KEY_CHARS = 256

# Why a record is poison (bounded: they are a metric label).
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
INVALID_ENVELOPE = "invalid_envelope"
TEXT_TOO_LONG = "text_too_long"
RECORD_TOO_LARGE = "record_too_large"
POISON_REASONS = (INVALID_UTF8, INVALID_JSON, INVALID_ENVELOPE, TEXT_TOO_LONG, RECORD_TOO_LARGE)


class RecordEnvelope(SchemaModel):
    """What one Kinesis record carries: an upsert of a post, or a delete of an id."""

    # upsert / delete / hide / unhide: of the post `id`; user_hide / user_unhide / scrub_geo: of
    # every post of the user `id` ("x:123"), stored and later (pulse_common.contracts.items)
    op: Literal["upsert", "delete", "hide", "unhide", "user_hide", "user_unhide", "scrub_geo"]
    id: str = Field(min_length=3, max_length=MAX_ID_CHARS)
    version: int = Field(ge=0, le=MAX_VERSION)
    ingested_at: datetime
    post: Post | None = None
    # deletes: "user_delete", "compliance", "edited", ...; hide/unhide: a contracts.visibility reason
    reason: str | None = None
    up_to_id: str | None = None  # scrub_geo: the user's posts up to this native id lose their location

    @field_validator("ingested_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    def model_post_init(self, _context: object) -> None:
        if self.op == "upsert" and self.post is None:
            raise ValueError("an upsert envelope needs a post")
        if self.post is not None and self.post.id != self.id:
            raise ValueError("envelope id and post id differ")
        if self.op in ("hide", "unhide", "user_hide", "user_unhide") and not self.reason:
            raise ValueError(f"a {self.op} envelope needs a reason")


def upsert(post: Post, ingested_at: datetime | None = None) -> RecordEnvelope:
    return RecordEnvelope(
        op="upsert", id=post.id, version=post.version, ingested_at=ingested_at or datetime.now(UTC), post=post
    )


def delete(post_id: str, version: int, *, reason: str = "user_delete",
           ingested_at: datetime | None = None) -> RecordEnvelope:
    return RecordEnvelope(
        op="delete", id=post_id, version=version, ingested_at=ingested_at or datetime.now(UTC), reason=reason
    )


def hide(post_id: str, version: int, *, reason: str, on: bool = True,
         ingested_at: datetime | None = None) -> RecordEnvelope:
    """A post-level compliance event: hide the post for `reason` (`on`), or show it again."""
    return RecordEnvelope(
        op="hide" if on else "unhide", id=post_id, version=version,
        ingested_at=ingested_at or datetime.now(UTC), reason=reason,
    )


def user_event(author_id: str, version: int, *, reason: str | None, on: bool = True,
               up_to_id: str | None = None, ingested_at: datetime | None = None) -> RecordEnvelope:
    """A user-level compliance event: hide / show every post of `author_id` for `reason`, or
    (reason None) scrub the location of its posts up to `up_to_id`."""
    op = "scrub_geo" if reason is None else ("user_hide" if on else "user_unhide")
    return RecordEnvelope(op=op, id=author_id, version=version, ingested_at=ingested_at or datetime.now(UTC),
                          reason=reason, up_to_id=up_to_id)


def encode(envelope: RecordEnvelope) -> bytes:
    """The Kinesis record data: the envelope's JSON, UTF-8."""
    # the serializer's own bytes: model_dump_json's JSON, without its decode to str and back
    return envelope.__pydantic_serializer__.to_json(envelope)


def partition_key(post_id: str) -> str:
    """The record's partition key: the post id (hashed only beyond Kinesis' 256 characters, so one id
    always maps to one shard and its versions stay in order)."""
    if len(post_id) <= MAX_PARTITION_KEY_CHARS:
        return post_id
    return "h:" + hashlib.sha256(post_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Poison:
    """Why a record is not an envelope: `reason` from POISON_REASONS, `error` the detail."""

    reason: str
    error: str


def decode(data: bytes) -> RecordEnvelope | Poison:
    """The envelope carried by `data`, or Poison naming why not. Never raises."""
    if len(data) > MAX_RECORD_BYTES:
        return Poison(RECORD_TOO_LARGE, f"record is {len(data)} bytes (max {MAX_RECORD_BYTES})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Poison(INVALID_UTF8, str(exc)[:500])
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return Poison(INVALID_JSON, str(exc)[:500])
    if not isinstance(raw, dict):
        return Poison(INVALID_JSON, f"expected a JSON object, got {type(raw).__name__}")
    try:
        return RecordEnvelope.model_validate(raw)
    except ValidationError as exc:
        return Poison(_validation_reason(exc), _short_errors(exc))
    except Exception as exc:  # noqa: BLE001 - model_post_init raises ValueError; nothing may escape
        return Poison(INVALID_ENVELOPE, (str(exc) or type(exc).__name__)[:500])


def _validation_reason(exc: ValidationError) -> str:
    for err in exc.errors():
        if err.get("type") == "string_too_long" and tuple(err.get("loc", ()))[-1:] == ("text",):
            return TEXT_TOO_LONG
    return INVALID_ENVELOPE


def _short_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)[:1000]
