"""Index and alias names: the one deterministic function the indexer and the dashboard share.

Given the configured alias `A` (`PULSE_OPENSEARCH_INDEX_ALIAS`, default `pulse-posts`):

- a post is written to the monthly index ``A-YYYY.MM`` where YYYY.MM is the UTC year and month of
  the post's ``created_at`` (not of the time it was indexed), so a replay, a re-index or a delete
  always hits the same index as the first write: ``index_for("pulse-posts", "2026-11-26T10:00:00Z")
  == "pulse-posts-2026.11"``;
- every monthly index carries the read alias ``A`` (attached by the index template, whose pattern is
  ``A-*``), so readers query ``A`` and never list indices; a time-bounded reader may instead query
  ``indices_between(A, start, end)`` (with ``ignore_unavailable=true``) to skip months outside a range;
- the index template is named ``A-template`` (see ``mappings/posts.template.json``).

Until the first document is indexed (or `pulse-indexer migrate --bootstrap` ran) no index and
hence no alias exists: search ``A`` with ``ignore_unavailable=true`` / ``allow_no_indices=true`` to
get empty results instead of a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

TEMPLATE_SUFFIX = "-template"


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
