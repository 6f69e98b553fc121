"""DynamoDB stream records -> OpenSearch bulk actions.

The item codec (`pulse_common.contracts.items.from_item`) reads each image; the search document and
its monthly index come from `pulse_common.contracts.search`.

Deletes: the enricher replaces a deleted post's item with a tombstone `{id, version: <delete
version>, deleted: true, expires_at}` (it keeps older upserts arriving later from resurrecting the
post). An INSERT/MODIFY whose NewImage is a tombstone is therefore a delete: of the OldImage's
document (its monthly index from the OldImage's `created_at`), with the tombstone's version and
`version_type=external_gte`. When there is no OldImage (deleted before it was ever stored) or the
OldImage is a tombstone too, nothing is in OpenSearch: the record is skipped. A plain REMOVE (an
item deleted outright) is still a delete of its OldImage; a REMOVE by the TTL sweeper, of a post or
of an expired tombstone, changes nothing.

Documents are not re-validated against the schema here: the enricher validated them, and a
document OpenSearch cannot take goes to the dead-letter queue with OpenSearch's reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from pulse_common.contracts.dead_letter import DeadLetter
from pulse_common.contracts.items import (
    BadRecord,
    StoredPost,
    Tombstone,
    attr_value,
    from_item,
    is_tombstone,
    stored_coordinates,
)
from pulse_common.contracts.search import document, index_of

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


@dataclass
class Action:
    """One write to OpenSearch, with what is needed to dead-letter it or measure freshness."""

    op: str  # "index" | "delete"
    id: str
    index: str
    version: int
    body: bytes | None = None  # serialized document for "index"
    version_type: str = "external"
    shard_id: str = ""
    sequence_number: str = ""
    created_at: str | None = None
    ingested_at: str | None = None
    raw: bytes = b""  # what to put in the dead letter (the stream record / item as JSON)
    meta: dict[str, Any] = field(default_factory=dict)

    def action_line(self) -> bytes:
        header = {
            "_index": self.index,
            "_id": self.id,
            "version": self.version,
            "version_type": self.version_type,
        }
        return orjson.dumps({self.op: header})

    def ndjson(self) -> bytes:
        if self.op == "index":
            return self.action_line() + b"\n" + (self.body or b"{}") + b"\n"
        return self.action_line() + b"\n"


def upsert_action(item: dict[str, Any], alias: str, *, version_type: str = "external") -> Action:
    """An `index` action from a post's item image (BadRecord for a tombstone or a broken item)."""
    stored = from_item(item)
    if isinstance(stored, Tombstone):
        raise BadRecord("tombstone", f"item {stored.id} is a tombstone, not a post", post_id=stored.id)
    return index_action(stored, alias, version_type=version_type)


def index_action(stored: StoredPost, alias: str, *, version_type: str = "external") -> Action:
    return Action(
        op="index",
        id=stored.id,
        index=index_of(alias, stored.created_at, stored.id),
        version=stored.version,
        body=document(stored),
        version_type=version_type,
        created_at=stored.created_at,
        ingested_at=stored.ingested_at,
    )


def delete_action(old_item: dict[str, Any], keys: dict[str, Any], alias: str) -> Action | None:
    """A versioned `delete` from a REMOVE record's OldImage; None when that was a tombstone.

    `version_type=external_gte` with the removed item's own version: it deletes that version (or an
    older one) and loses to any newer write of the same id, so a replayed REMOVE never deletes a
    re-created post, and a later write with any newer version (even one just above the deleted one,
    which the table accepts once the item is gone) is indexed again.
    """
    post_id = attr_value(old_item.get("id")) if old_item else None
    post_id = post_id or attr_value(keys.get("id"))
    if not isinstance(post_id, str) or not post_id:
        raise BadRecord("missing_id", "REMOVE record has no id")
    if not old_item:
        raise BadRecord(
            "missing_old_image", f"REMOVE of {post_id} has no OldImage (stream view type?)", post_id=post_id
        )
    if is_tombstone(old_item):
        return None  # the post was deleted from OpenSearch when the tombstone was written
    version, created_at = stored_coordinates(old_item)
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadRecord("missing_version", f"REMOVE of {post_id}: OldImage has no version", post_id=post_id)
    if created_at is None:
        raise BadRecord(
            "missing_created_at", f"REMOVE of {post_id}: OldImage has no created_at", post_id=post_id
        )
    return _versioned_delete(post_id, version, created_at, alias, "REMOVE")


def _versioned_delete(post_id: str, version: int, created_at: str, alias: str, what: str) -> Action:
    """Delete `post_id` at `version` or older (external_gte): a newer write of the id always wins."""
    return Action(
        op="delete",
        id=post_id,
        index=index_of(alias, created_at, post_id, what),
        version=version,
        version_type="external_gte",
        created_at=created_at,
    )


def tombstone_action(new_item: dict[str, Any], old_item: dict[str, Any] | None, alias: str) -> Action | None:
    """The `delete` a tombstone (INSERT/MODIFY NewImage) means; None when nothing is indexed.

    The tombstone's own version with `version_type=external_gte`: it deletes the OldImage's document
    (always older) and loses to any newer version of the id, so a replay never deletes a re-created
    post. No OldImage, or an OldImage that is a tombstone: the post is not in OpenSearch.
    """
    post_id = attr_value(new_item.get("id"))
    if not isinstance(post_id, str) or not post_id:
        raise BadRecord("missing_id", "tombstone has no string id")
    version = attr_value(new_item.get("version"))
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise BadRecord("missing_version", f"tombstone of {post_id} has no integer version", post_id=post_id)
    if not old_item or is_tombstone(old_item):
        return None
    _old_version, created_at = stored_coordinates(old_item)
    if created_at is None:
        raise BadRecord(
            "missing_created_at", f"tombstone of {post_id}: OldImage has no created_at", post_id=post_id
        )
    return _versioned_delete(post_id, version, created_at, alias, "tombstone")


def is_ttl_remove(record: dict[str, Any]) -> bool:
    """A REMOVE done by DynamoDB's TTL sweeper (the doc stays searchable until index retention)."""
    identity = record.get("userIdentity") or {}
    return (
        record.get("eventName") == "REMOVE"
        and identity.get("type") == "Service"
        and identity.get("principalId") == TTL_PRINCIPAL
    )


def record_json(record: dict[str, Any]) -> bytes:
    """The stream record as JSON (datetimes as ISO) for a dead letter."""
    return orjson.dumps(record, default=str)


def record_to_action(record: dict[str, Any], alias: str, shard_id: str = "") -> Action | None:
    """The action for one stream record; None for records that change nothing in OpenSearch (TTL
    expiry: `is_ttl_remove`; tombstones with no indexed post behind them: any other None).

    Raises BadRecord for records that cannot be indexed (they go to the dead-letter queue).
    """
    if is_ttl_remove(record):
        return None
    ddb = record.get("dynamodb") or {}
    seq = ddb.get("SequenceNumber", "")
    event = record.get("eventName")
    if event in ("INSERT", "MODIFY"):
        image = ddb.get("NewImage")
        if not image:
            raise BadRecord("missing_new_image", f"{event} record {seq} has no NewImage")
        if is_tombstone(image):
            action = tombstone_action(image, ddb.get("OldImage"), alias)
        else:
            action = upsert_action(image, alias)
    elif event == "REMOVE":
        action = delete_action(ddb.get("OldImage") or {}, ddb.get("Keys") or {}, alias)
    else:
        raise BadRecord("unknown_event", f"record {seq}: unknown eventName {event!r}")
    if action is None:
        return None
    action.shard_id = shard_id
    action.sequence_number = seq
    return action


def dead_letter(
    *,
    reason: str,
    error: str,
    source: str,
    shard_id: str | None = None,
    sequence_number: str | None = None,
    raw: bytes = b"",
    post_id: str | None = None,
) -> DeadLetter:
    """The indexer's dead letter: the stream record (or item) as JSON, and the post it is about."""
    return DeadLetter(
        service="indexer",
        reason=reason,
        error=error,
        source=source,
        raw=raw,
        shard_id=shard_id,
        sequence_number=sequence_number,
        post_id=post_id,
    )


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
