"""Decoding one Kinesis record into a RecordEnvelope, or a precise reason why it is poison."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from pydantic import ValidationError

from pulse_common.schema import MAX_TEXT_CHARS, RecordEnvelope

# Reasons a record goes to the dead-letter queue (bounded: they are a metric label).
INVALID_UTF8 = "invalid_utf8"
INVALID_JSON = "invalid_json"
INVALID_ENVELOPE = "invalid_envelope"
TEXT_TOO_LONG = "text_too_long"
RECORD_TOO_LARGE = "record_too_large"
ENRICH_FAILED = "enrich_failed"
ITEM_TOO_LARGE = "item_too_large"
REASONS = (
    INVALID_UTF8,
    INVALID_JSON,
    INVALID_ENVELOPE,
    TEXT_TOO_LONG,
    RECORD_TOO_LARGE,
    ENRICH_FAILED,
    ITEM_TOO_LARGE,
)

# A Kinesis record is at most 1 MiB; anything this size cannot be a post we keep.
MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Poison:
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


__all__ = ["MAX_TEXT_CHARS", "REASONS", "Poison", "decode"]
