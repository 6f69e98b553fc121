"""The search document: what a stored post becomes in OpenSearch, and where it lives.

Document: the EnrichedPost JSON as stored in the item's `doc`, plus the derived fields the mapping
(`mappings/posts.template.json`) indexes:

- `aspects[].name`: the canonical aspect name (copy of `aspects[].aspect`), nested;
- `aspect_names`: the distinct aspect names, flat, for filters and partial search without `nested`;
- `location`: geo_point {lat, lon} from `geo`;
- `engagement_total`: likes + reposts + replies + quotes.

Its `_id` is the post id and its external version the item's `version` (`version_type=external`).

Index naming, given the configured alias `A` (`PULSE_OPENSEARCH_INDEX_ALIAS`, default `pulse-posts`):

- a post lives in the monthly index ``A-YYYY.MM`` of its ``created_at`` (UTC; not of the time it was
  indexed), so a replay, a re-index or a delete always hits the same index as the first write:
  ``index_for("pulse-posts", "2026-11-26T10:00:00Z") == "pulse-posts-2026.11"``;
- every monthly index carries the read alias ``A`` (attached by the index template, whose pattern is
  ``A-*``), so readers query ``A`` and never list indices; a time-bounded reader may instead query
  ``indices_between(A, start, end)`` (with ``ignore_unavailable=true``) to skip months outside a range;
- the index template is named ``A-template``.

Until the first document is indexed (or `pulse-indexer migrate --bootstrap` ran) no index and hence
no alias exists: search ``A`` with ``ignore_unavailable=true`` / ``allow_no_indices=true`` to get
empty results instead of a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from pulse_common.contracts.items import BadRecord, StoredPost
from pulse_common.schema import EnrichedPost

TEMPLATE_SUFFIX = "-template"


# ------------------------------------------------------------------------------------ the document


def derive(doc: dict[str, Any]) -> dict[str, Any]:
    """Add the derived fields the mapping indexes (in place; returns doc)."""
    aspects = doc.get("aspects")
    if isinstance(aspects, list):
        names: list[str] = []
        for aspect in aspects:
            if isinstance(aspect, dict):
                name = aspect.get("name") or aspect.get("aspect")
                if name is not None:
                    aspect["name"] = name
                    if isinstance(name, str) and name.lower() not in names:
                        names.append(name.lower())
        doc["aspect_names"] = names
    geo = doc.get("geo")
    if isinstance(geo, dict) and geo.get("lat") is not None and geo.get("lon") is not None:
        doc["location"] = {"lat": geo["lat"], "lon": geo["lon"]}
    engagement = doc.get("engagement")
    if isinstance(engagement, dict):
        total = 0
        for key in ("likes", "reposts", "replies", "quotes"):
            value = engagement.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += int(value)
        doc["engagement_total"] = total
    return doc


def document(stored: StoredPost) -> bytes:
    """The search document of a stored post, serialized (its doc is derived in place)."""
    return orjson.dumps(derive(stored.doc))


def post_document(post: EnrichedPost) -> dict[str, Any]:
    """The search document of an EnrichedPost (what `document` gives for its stored item)."""
    return derive(post.model_dump(mode="json"))


# ------------------------------------------------------------------------------------ index naming


def _parse(created_at: datetime | str) -> datetime:
    if isinstance(created_at, str):
        text = created_at.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        value = datetime.fromisoformat(text)
    else:
        value = created_at
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def month_suffix(created_at: datetime | str) -> str:
    """ "YYYY.MM" of the UTC month of created_at (ISO-8601 string or datetime; naive = UTC)."""
    value = _parse(created_at)
    return f"{value.year:04d}.{value.month:02d}"


def index_for(alias: str, created_at: datetime | str) -> str:
    """The monthly index a post with this created_at lives in: ``<alias>-YYYY.MM``."""
    return f"{alias}-{month_suffix(created_at)}"


def index_of(alias: str, created_at: str, post_id: str, what: str = "item") -> str:
    """`index_for`, or BadRecord("invalid_created_at") when created_at is not a date."""
    try:
        return index_for(alias, created_at)
    except (ValueError, TypeError) as exc:
        raise BadRecord(
            "invalid_created_at", f"{what} of {post_id}: created_at {created_at!r}: {exc}", post_id=post_id
        ) from exc


def index_pattern(alias: str) -> str:
    """The wildcard every monthly index of this alias matches (the template's index_patterns)."""
    return f"{alias}-*"


def template_name(alias: str) -> str:
    return f"{alias}{TEMPLATE_SUFFIX}"


def indices_between(alias: str, start: datetime | str, end: datetime | str) -> list[str]:
    """Every monthly index name covering [start, end] (inclusive), oldest first."""
    first, last = _parse(start), _parse(end)
    if last < first:
        first, last = last, first
    year, month = first.year, first.month
    names = []
    while (year, month) <= (last.year, last.month):
        names.append(f"{alias}-{year:04d}.{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return names
