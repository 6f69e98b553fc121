"""The CSV exports, as pure functions of the rows: every cell quoted, and no cell a spreadsheet could
run as a formula, however it splits the line."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

POST_COLUMNS = [
    "id", "created_at", "network", "lang", "author", "followers", "sentiment", "sentiment_score", "products",
    "aspects", "hashtags", "likes", "reposts", "replies", "influence", "flags", "text",
]
ASPECT_COLUMNS = [
    "aspect", "name", "category", "in_taxonomy", "mentions", "posts", "positive", "neutral", "negative",
    "net", "net_ci_low", "net_ci_high", "avg_score",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A spreadsheet whose list separator is `;` (or a paste split at tabs or lines) reads what follows
# such a character inside a cell as the start of a new cell: it must not start a formula either.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([,;\t\r\n])(?=\s*[=+\-@])")


def csv_safe(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run as a formula, however it splits the line."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", str(value))
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _writer(buf: io.StringIO) -> Any:
    """Every cell quoted, so a reader splitting on `,` keeps each cell whole (see csv_safe)."""
    return csv.writer(buf, quoting=csv.QUOTE_ALL)


def post_cells(row: dict[str, Any]) -> list[Any]:
    eng = row["engagement"]
    return [
        row["id"],
        row["created_at"],
        row["network"],
        row["lang"],
        row["author"],
        row["followers"],
        row["sentiment"],
        row["sentiment_score"],
        " ".join(row["products"]),
        " ".join(f"{a['aspect']}:{a['polarity']}" for a in row["aspects"]),
        " ".join(row["hashtags"]),
        eng.get("likes", 0),
        eng.get("reposts", 0),
        eng.get("replies", 0),
        row["influence"],
        " ".join(row["flags"]),
        row["text"],
    ]


def posts_csv(rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The posts export, a line at a time (the rows are read page by page)."""
    buf = io.StringIO()
    writer = _writer(buf)
    writer.writerow(POST_COLUMNS)
    for row in rows:
        writer.writerow([csv_safe(v) for v in post_cells(row)])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.getvalue():
        yield buf.getvalue()


def aspects_csv(aspects: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = _writer(buf)
    writer.writerow(ASPECT_COLUMNS)
    for r in aspects:
        cells = (r["aspect"], r["name"], r["category"], r["in_taxonomy"], r["mentions"], r["posts"],
                 r["positive"], r["neutral"], r["negative"], r["net"], r["ci_low"], r["ci_high"],
                 r["avg_score"])
        writer.writerow([csv_safe(v) for v in cells])
    return buf.getvalue()
