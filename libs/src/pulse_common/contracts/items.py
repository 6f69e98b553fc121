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
  of bringing the post back; every reader skips it (`is_tombstone`, `LIVE_ITEMS`);
- on a post, one attribute per compliance reason that hid it (`hide_<reason>`, e.g. `hide_dropped`:
  M `{on: BOOL, v: N}`, the last hide / unhide event for that reason and its version). A hide or
  unhide applies only when newer than the last one for its reason (`hide_update`), bumps the
  item's version by one (so the search index takes the change) and survives a newer copy of the
  post (the store carries the attributes over); `StoredPost.hidden` lists the reasons that are on;
  `author_id` (S), the key of the `AUTHOR_INDEX` global secondary index (KEYS_ONLY): a user-level
  event finds every stored post of its user there;
- a user's compliance state, keyed `user:<author id>` (`user_key`): the same `hide_<reason>` maps
  (and `scrub_geo` {up_to: N, v: N}) as the last user-level events left them, so a post of that user
  arriving later is hidden as its stored posts are. It is tombstone-shaped (`deleted: true`), so
  every reader that skips tombstones skips it; it has no TTL (an account's state outlives posts).

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
from functools import lru_cache
from typing import Any

import orjson

from pulse_common.contracts import visibility
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

# Compliance: one attribute per hidden reason an event can set (bounded by contracts.visibility).
HIDE_PREFIX = "hide_"
HIDE_REASONS = (visibility.WITHHELD, visibility.DROPPED, visibility.PROTECTED, visibility.SUSPENDED,
                visibility.ACCOUNT_DELETED, visibility.UNAVAILABLE)
HIDE_ATTRS = tuple(HIDE_PREFIX + reason for reason in HIDE_REASONS)
SCRUB_GEO_ATTR = "scrub_geo"
AUTHOR_ATTR = "author_id"
AUTHOR_INDEX = "author_id-index"  # GSI of the posts table: author_id -> post ids (KEYS_ONLY)
USER_PREFIX = "user:"


def user_key(author_id: str) -> str:
    """The id of a user's compliance-state item ("user:x:123"; no post id starts with "user:")."""
    return USER_PREFIX + author_id


def user_state_update(author_id: str, version: int, reason: str | None, on: bool,
                      up_to: str | None = None) -> dict[str, Any]:
    """The UpdateItem arguments that record a user-level event on the user's state item: a hide /
    unhide for `reason`, or (reason None) a scrub_geo up to the post id `up_to`. Applies only when
    newer than the last event of its kind, so a replay changes nothing."""
    if reason is None:
        name, state = SCRUB_GEO_ATTR, {"up_to": {"N": str(int(up_to or 0))}, "v": {"N": str(version)}}
    elif reason in HIDE_REASONS:
        name, state = HIDE_PREFIX + reason, {"on": {"BOOL": on}, "v": {"N": str(version)}}
    else:
        raise BadRecord("unknown_hide_reason", f"hide reason {reason!r} of {author_id}", post_id=author_id)
    return {
        "Key": {"id": {"S": user_key(author_id)}},
        "UpdateExpression": "SET #h = :state, #d = :true, #v = :v",
        "ConditionExpression": "attribute_not_exists(#h) OR #h.#hv < :v",
        "ExpressionAttributeNames": {"#h": name, "#d": TOMBSTONE_ATTR, "#v": "version", "#hv": "v"},
        "ExpressionAttributeValues": {":state": {"M": state}, ":v": {"N": str(version)},
                                      ":true": {"BOOL": True}},
    }


# The item whose `version` counts the user-level events ever recorded: a processor that caches
# users' state items re-reads them once it sees the count move. Shaped like a user's state item
# (`deleted`, so every reader skips it); no author id is empty, so no user owns this key.
USER_STATES_GENERATION_KEY = USER_PREFIX


def user_states_generation_bump() -> dict[str, Any]:
    """The UpdateItem arguments that count one more user-level event (after its state is written)."""
    return {
        "Key": {"id": {"S": USER_STATES_GENERATION_KEY}},
        "UpdateExpression": "SET #d = :true ADD #v :one",
        "ExpressionAttributeNames": {"#d": TOMBSTONE_ATTR, "#v": "version"},
        "ExpressionAttributeValues": {":true": {"BOOL": True}, ":one": {"N": "1"}},
    }


def scrub_geo_limit(user_item: Item | None) -> int | None:
    """The post id up to which a user's locations are scrubbed (their state item), else None."""
    state = ((user_item or {}).get(SCRUB_GEO_ATTR) or {}).get("M")
    if not state:
        return None
    try:
        return int(state["up_to"]["N"])
    except (KeyError, ValueError):
        return None


def user_hides_for(post_attrs: Item, user_item: Item | None) -> Item:
    """The `hide_<reason>` attributes a post of this user must carry: the post's own, replaced by
    the user's state where that is newer."""
    out = dict(post_attrs)
    for name in HIDE_ATTRS:
        state = ((user_item or {}).get(name) or {}).get("M")
        if not state:
            continue
        mine = (out.get(name) or {}).get("M")
        if mine is None or int(mine["v"]["N"]) < int(state["v"]["N"]):
            out[name] = {"M": state}
    return out


def hide_update(post_id: str, version: int, reason: str, on: bool) -> dict[str, Any]:
    """The UpdateItem arguments of a hide (`on`) or unhide of a stored post for `reason`: applied
    only to a live post, and only when newer than the last event for that reason (so a replay or
    an older undo changes nothing); bumps the item's version by one for the search index."""
    if reason not in HIDE_REASONS:
        raise BadRecord("unknown_hide_reason", f"hide reason {reason!r} of {post_id}", post_id=post_id)
    return {
        "Key": {"id": {"S": post_id}},
        "UpdateExpression": "SET #h = :state, #v = #v + :one",
        "ConditionExpression": "attribute_exists(#doc) AND (attribute_not_exists(#h) OR #h.#hv < :v)",
        "ExpressionAttributeNames": {"#h": HIDE_PREFIX + reason, "#v": "version", "#doc": "doc", "#hv": "v"},
        "ExpressionAttributeValues": {
            ":state": {"M": {"on": {"BOOL": on}, "v": {"N": str(version)}}},
            ":v": {"N": str(version)},
            ":one": {"N": "1"},
        },
    }


def hidden_reasons(item: Item) -> list[str]:
    """The compliance reasons currently hiding a stored post (its `hide_<reason>` attributes on)."""
    out = []
    for name in HIDE_ATTRS:
        state = (item.get(name) or {}).get("M")
        if state and (state.get("on") or {}).get("BOOL") is True:
            out.append(name[len(HIDE_PREFIX):])
    return out


def compliance_attributes(item: Item) -> Item:
    """The compliance attributes of a stored item (`hide_<reason>`, and a user's `scrub_geo`): what
    a newer copy of the post must keep, or what a user's later posts must get."""
    return {name: item[name] for name in (*HIDE_ATTRS, SCRUB_GEO_ATTR) if name in item}


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
    enriched_text, expires_text = _enriched_attributes(enriched_at, retention)
    return {
        "id": {"S": envelope.id},
        "version": {"N": str(envelope.version)},
        "created_at": {"S": iso(enriched.created_at)},
        "ingested_at": {"S": iso(envelope.ingested_at)},
        "enriched_at": {"S": enriched_text},
        "expires_at": {"N": expires_text},
        # the serializer's own bytes: model_dump_json's JSON, without its decode to str and back
        "doc": {"B": encode_doc(enriched.__pydantic_serializer__.to_json(enriched, warnings=False))},
        AUTHOR_ATTR: {"S": enriched.author.id},
    }


@lru_cache(maxsize=16)
def _enriched_attributes(enriched_at: datetime, retention: timedelta) -> tuple[str, str]:
    """enriched_at and expires_at as stored: one clock reading serves a whole batch of posts."""
    return iso(enriched_at), str(int((enriched_at + retention).timestamp()))


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
    """The item's size as DynamoDB counts it (names and values), for the items Pulse writes (flat
    scalars, binary docs, and the small `hide_<reason>` maps)."""
    size = 0
    for name, attr in item.items():
        size += len(name) + _value_size(attr)
    return size


def _value_size(attr: dict[str, Any]) -> int:
    for kind, value in attr.items():  # one entry: the attribute's type and value
        if kind == "M":
            return 3 + sum(len(k) + 1 + _value_size(v) for k, v in value.items())
        if kind == "BOOL":
            return 1
        if isinstance(value, str):
            return len(value) if value.isascii() else len(value.encode("utf-8"))
        return len(value)  # B: bytes
    return 0


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
    hidden: tuple[str, ...] = ()  # compliance reasons hiding it (the item's hide_<reason> attributes)


@dataclass(frozen=True)
class Tombstone:
    id: str
    version: int


def is_tombstone(item: Item | None) -> bool:
    """True for a tombstone item: the record of an applied delete."""
    return bool(item) and (item.get(TOMBSTONE_ATTR) or {}).get("BOOL") is True


def doc_attribute(doc: dict[str, Any]) -> dict[str, bytes]:
    """The `doc` attribute that stores `doc` (a B doc, as `to_item` writes it)."""
    return {"B": encode_doc(orjson.dumps(doc))}


def doc_of(item: Item) -> dict[str, Any]:
    """The doc of a stored item, B (`encode_doc`) or the plain JSON S of older items; BadRecord when
    it has none or it is not a JSON object."""
    raw_doc = attr_value(item.get("doc"))
    raw_doc = decode_doc(raw_doc) if isinstance(raw_doc, bytes) else raw_doc
    if not isinstance(raw_doc, str | bytes):
        raise BadRecord("missing_doc", "item has no doc attribute")
    try:
        doc = orjson.loads(raw_doc)
    except orjson.JSONDecodeError as exc:
        raise BadRecord("invalid_json", f"doc is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadRecord("invalid_json", "doc is not a JSON object")
    return doc


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
    return StoredPost(post_id, version, created_at, ingested_at, doc, tuple(hidden_reasons(item)))


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
