"""The posts table's item codec: what the enricher writes and every reader (the indexer, pulse-dlq,
the reliability checks) reads back.

An item is a map of low-level DynamoDB attribute values (`{"S": ...}`, `{"N": ...}`, `{"BOOL": ...}`),
as the client, the stream and the scan return them:

- a post: `id` (S, the key), `version` (N, only grows), `created_at`, `ingested_at`, `enriched_at`
  (S, ISO-8601 UTC), `expires_at` (N, TTL epoch seconds), `doc`: the EnrichedPost JSON, written as B
  (`encode_doc`: one codec byte, then the JSON deflated against a fixed dictionary of the schema's
  names, so a post's item stays under the 1 KB DynamoDB bills a write unit for), read as B or as S
  (the plain JSON items written before);
- a tombstone, the record of an applied delete: `{id, version: <delete version>, deleted: true (BOOL),
  expires_at}`. It keeps the delete's version, so an older upsert arriving later is refused instead
  of bringing the post back; every reader skips it (`is_tombstone`, `LIVE_ITEMS`).

`to_item` / `tombstone_item` write, `from_item` reads (a `StoredPost` or a `Tombstone`, or
`BadRecord` naming why the item breaks the contract). The write rules (`NEWER_VERSION`,
`DELETE_WINS`) are the condition expressions that keep versions growing.
"""

from __future__ import annotations

import base64
import binascii
import zlib
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

# The doc's codec byte, and its fixed deflate dictionary: the schema's names and common values, most
# frequent last (deflate finds nearer matches cheaper). Never edit it: items written with it must stay
# readable; a new dictionary is a new codec byte.
DOC_DEFLATE_V1 = 1
_DOC_DICTIONARY_V1 = (
    b'{"id":"x:","network":"x","native_id":"","created_at":"2026-11-","text":"","lang":"en","author":'
    b'{"id":"x:","username":"","name":"","followers":0,"following":0,"posts_count":0,"listed":0,'
    b'"verified":false,"created_at":null},"post_type":"original","referenced_id":null,"conversation_id":'
    b'"x:","engagement":{"likes":0,"reposts":0,"replies":0,"quotes":0},"hashtags":[],"mentions":[],'
    b'"urls":[],"geo":null,"source_format":"x_v2","version":17,"text_normalized":"","emojis":[],"brands":'
    b'[{"id":"","kind":"product","term":"","start":0,"end":0,"sentiment":{"label":"neutral","score":0.,'
    b'"confidence":0.}},{"kind":"competitor"}],"products":[],"sentiment":{"label":"positive","score":0.,'
    b'"confidence":0.},"aspects":[{"aspect":"","term":"","start":0,"end":0,"category":"hardware",'
    b'"in_taxonomy":true,"polarity":"negative","score":0.,"opinions":[],"product":null}],"influence":'
    b'{"score":0.,"followers":0,"following":0,"verified":false,"account_age_days":0,"engagement":0},'
    b'"flags":[],"scored":true,"enrichment_version":"pulse-nlp/2026.11.1+","ingested_at":"2026-12-",'
    b'"enriched_at":"2026-12-"}'
)
MAX_DOC_BYTES = 4 * 1024 * 1024  # what a stored doc may inflate to (an item is at most 400 KB)

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
        "doc": {"B": encode_doc(enriched.model_dump_json(warnings=False).encode("utf-8"))},
    }


def encode_doc(doc_json: bytes) -> bytes:
    """The stored form of a doc: the codec byte, then the JSON deflated (raw deflate, the v1 dictionary)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, _DOC_DICTIONARY_V1)
    return bytes((DOC_DEFLATE_V1,)) + packer.compress(doc_json) + packer.flush()


def decode_doc(stored: bytes) -> bytes:
    """The doc JSON of a stored B doc; BadRecord when it is not one `encode_doc` wrote."""
    if not stored or stored[0] != DOC_DEFLATE_V1:
        raise BadRecord("invalid_doc", f"unknown doc codec {stored[:1]!r}")
    unpacker = zlib.decompressobj(-15, zdict=_DOC_DICTIONARY_V1)
    try:
        doc_json = unpacker.decompress(stored[1:], MAX_DOC_BYTES)
    except zlib.error as exc:
        raise BadRecord("invalid_doc", f"doc does not inflate: {exc}") from exc
    if unpacker.unconsumed_tail or not unpacker.eof:
        raise BadRecord("invalid_doc", "doc is truncated or inflates beyond the limit")
    return doc_json


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
    return sum(len(k) + len(_raw(next(iter(v.values())))) for k, v in item.items())


def _raw(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


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
    """The plain value of one attribute (S, N, B, BOOL, NULL are all Pulse stores). B is bytes: the
    clients decode it, a stream record (the KCL adapter's JSON) carries it as base64 text."""
    if not attr:
        return None
    if "S" in attr:
        return attr["S"]
    if "B" in attr:
        value = attr["B"]
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, TypeError) as exc:
            raise BadRecord("unsupported_attribute", f"binary attribute is not base64: {exc}") from exc
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
    if isinstance(raw_doc, bytes):
        try:
            raw_doc = decode_doc(raw_doc)
        except BadRecord as exc:
            raise BadRecord(exc.reason, f"item {post_id}: {exc}", post_id=post_id) from exc
    if not isinstance(raw_doc, str | bytes):
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
        try:
            raw_doc = attr_value(item.get("doc"))
            raw_doc = decode_doc(raw_doc) if isinstance(raw_doc, bytes) else raw_doc
            doc = orjson.loads(raw_doc) if isinstance(raw_doc, str | bytes) else {}
        except (orjson.JSONDecodeError, BadRecord):
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        version = version if isinstance(version, int) else doc.get("version")
        created_at = created_at or _text(doc.get("created_at"))
    return version, created_at
