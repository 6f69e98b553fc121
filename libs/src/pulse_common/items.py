"""The posts table's item format, as every service and tool reads it (docs/TEAM_NOTES.md).

A deleted post is kept as a tombstone item `{id, version, deleted: true, expires_at}` (written by
the enricher's store): it is the record of an applied delete, not a post. Items are low-level
DynamoDB attribute values (`{"BOOL": true}`), as the client, the stream and the scan return them.
"""

from __future__ import annotations

from typing import Any

TOMBSTONE_ATTR = "deleted"

# Scan/Query arguments that keep live posts only (tombstones filtered out).
LIVE_ITEMS: dict[str, Any] = {
    "FilterExpression": "attribute_not_exists(#d)",
    "ExpressionAttributeNames": {"#d": TOMBSTONE_ATTR},
}


def is_tombstone(item: dict[str, Any] | None) -> bool:
    """True for a tombstone item: the enricher's record of an applied delete."""
    return bool(item) and (item.get(TOMBSTONE_ATTR) or {}).get("BOOL") is True
