"""The posts table's item codec: what the enricher writes and every reader (the indexer, pulse-dlq,
the reliability checks) reads back.

An item is a map of low-level DynamoDB attribute values (`{"S": ...}`, `{"N": ...}`, `{"BOOL": ...}`),
as the client, the stream and the scan return them:

- a post: `id` (S, the key), `version` (N, only grows), `created_at`, `ingested_at`, `enriched_at`
  (S, ISO-8601 UTC), `expires_at` (N, TTL epoch seconds), `doc` (S: the EnrichedPost JSON);
- a tombstone, the record of an applied delete: `{id, version: <delete version>, deleted: true (BOOL),
  expires_at}`. It keeps the delete's version, so an older upsert arriving later is refused instead
  of bringing the post back; every reader skips it (`is_tombstone`, `LIVE_ITEMS`).

`to_item` / `tombstone_item` write, `from_item` reads (a `StoredPost` or a `Tombstone`, or
`BadRecord` naming why the item breaks the contract). The write rules (`NEWER_VERSION`,
`DELETE_WINS`) are the condition expressions that keep versions growing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from pulse_common.contracts.envelope import RecordEnvelope
from pulse_common.schema import EnrichedPost

Item = dict[str, Any]  # attribute name -> low-level attribute value

TOMBSTONE_ATTR = "deleted"
MAX_ITEM_BYTES = 400 * 1024  # DynamoDB's item limit
ITEM_MARGIN_BYTES = 4 * 1024  # what item_size does not count exactly (attribute overheads)

# Scan/Query arguments that keep live posts only (tombstones filtered out).
LIVE_ITEMS: dict[str, Any] = {
    "FilterExpression": "attribute_not_exists(#d)",
    "ExpressionAttributeNames": {"#d": TOMBSTONE_ATTR},
}

# The write rules, as condition expressions (names: #v = version, #d = deleted; value :v = the
# write's version). A post replaces an older item of any kind (a tombstone too: the post is
# re-created); a tombstone replaces an older item, or a live item of the same version (a delete wins
# a tie), never a newer item nor a tombstone of the same version (a redelivered delete).
NEWER_VERSION = "attribute_not_exists(id) OR #v < :v"
DELETE_WINS = "attribute_not_exists(id) OR #v < :v OR (#v = :v AND attribute_not_exists(#d))"
CONDITION_NAMES = {"#v": "version", "#d": TOMBSTONE_ATTR}


class BadRecord(ValueError):
    """A record or item that breaks the contract; `reason` is its dead letter's (bounded) reason."""

    def __init__(self, reason: str, message: str, *, post_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.post_id = post_id


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------- write


def to_item(
    enriched: EnrichedPost, envelope: RecordEnvelope, *, enriched_at: datetime, retention: timedelta
) -> Item:
    """The item of an enriched post (the envelope gives the id, the version and ingested_at)."""
    return {
        "id": {"S": envelope.id},
        "version": {"N": str(envelope.version)},
        "created_at": {"S": iso(enriched.created_at)},
        "ingested_at": {"S": iso(envelope.ingested_at)},
        "enriched_at": {"S": iso(enriched_at)},
        "expires_at": {"N": str(int((enriched_at + retention).timestamp()))},
        "doc": {"S": enriched.model_dump_json(warnings=False)},
    }


def tombstone_item(post_id: str, version: int, *, now: datetime, ttl: timedelta) -> Item:
    """The tombstone of a delete: kept until `ttl` has passed (longer than any late older record)."""
    return {
        "id": {"S": post_id},
        "version": {"N": str(version)},
        TOMBSTONE_ATTR: {"BOOL": True},
        "expires_at": {"N": str(int((now + ttl).timestamp()))},
    }


def item_size(item: Item) -> int:
    """The item's size as DynamoDB counts it (names and values), for the flat items Pulse writes."""
    return sum(len(k) + len(next(iter(v.values())).encode("utf-8")) for k, v in item.items())


def item_too_large(item: Item) -> bool:
    return item_size(item) > MAX_ITEM_BYTES - ITEM_MARGIN_BYTES


# -------------------------------------------------------------------------------------------- read


@dataclass(frozen=True)
class StoredPost:
    """A live post as stored: `doc` is the EnrichedPost JSON, parsed."""

    id: str
    version: int
    created_at: str
    ingested_at: str | None
    doc: dict[str, Any]


@dataclass(frozen=True)
class Tombstone:
    id: str
    version: int


def is_tombstone(item: Item | None) -> bool:
    """True for a tombstone item: the record of an applied delete."""
    return bool(item) and (item.get(TOMBSTONE_ATTR) or {}).get("BOOL") is True


def attr_value(attr: dict[str, Any] | None) -> Any:
    """The plain value of one attribute (S, N, BOOL, NULL are all Pulse stores)."""
    if not attr:
        return None
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        text = attr["N"]
        return int(text) if text.lstrip("-").isdigit() else float(text)
    if "BOOL" in attr:
        return attr["BOOL"]
    if "NULL" in attr:
        return None
    raise BadRecord("unsupported_attribute", f"unsupported attribute type {sorted(attr)}")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def from_item(item: Item) -> StoredPost | Tombstone:
    """Read an item (or a stream image). The doc's own version and created_at stand in for missing
    attributes; anything else missing or malformed raises BadRecord."""
    post_id = attr_value(item.get("id"))
    if not isinstance(post_id, str) or not post_id:
        raise BadRecord("missing_id", "item has no string id")
    version = attr_value(item.get("version"))
    if is_tombstone(item):
        if not _is_version(version):
            raise BadRecord(
                "missing_version", f"tombstone of {post_id} has no integer version", post_id=post_id
            )
        return Tombstone(post_id, version)
    raw_doc = attr_value(item.get("doc"))
    if not isinstance(raw_doc, str):
        raise BadRecord("missing_doc", f"item {post_id} has no doc attribute", post_id=post_id)
    try:
        doc = orjson.loads(raw_doc)
    except orjson.JSONDecodeError as exc:
        raise BadRecord("invalid_json", f"item {post_id}: doc is not JSON: {exc}", post_id=post_id) from exc
    if not isinstance(doc, dict):
        raise BadRecord("invalid_json", f"item {post_id}: doc is not a JSON object", post_id=post_id)
    if not isinstance(version, int):
        version = doc.get("version")
    if not _is_version(version):
        raise BadRecord("missing_version", f"item {post_id} has no integer version", post_id=post_id)
    created_at = _text(attr_value(item.get("created_at"))) or _text(doc.get("created_at"))
    if created_at is None:
        raise BadRecord("missing_created_at", f"item {post_id} has no created_at", post_id=post_id)
    ingested_at = _text(attr_value(item.get("ingested_at"))) or _text(doc.get("ingested_at"))
    return StoredPost(post_id, version, created_at, ingested_at, doc)


def stored_coordinates(item: Item) -> tuple[Any, str | None]:
    """(version, created_at) of what an item put into the search index, read leniently (the doc as
    fallback, None where neither has it): enough to delete that document."""
    version = attr_value(item.get("version"))
    created_at = _text(attr_value(item.get("created_at")))
    if not isinstance(version, int) or created_at is None:
        raw_doc = attr_value(item.get("doc"))
        try:
            doc = orjson.loads(raw_doc) if isinstance(raw_doc, str) else {}
        except orjson.JSONDecodeError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        version = version if isinstance(version, int) else doc.get("version")
        created_at = created_at or _text(doc.get("created_at"))
    return version, created_at
