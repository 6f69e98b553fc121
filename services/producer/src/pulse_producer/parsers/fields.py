"""Reading one field of a payload: the checks and conversions every shape shares.

`ParseError` is what a document (or one tweet of a page) that cannot be read raises: a short
machine-readable `reason` and a detail. The readers here are lenient where the payload may be
sloppy (a count that is not a number is 0, a geo point that is not one is no point) and strict
where a wrong value would mislead (ids, timestamps, versions, text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from pulse_common.dates import DateOutOfRange, bounded_utc
from pulse_common.schema import MAX_TEXT_CHARS, MAX_VERSION, GeoPoint, Post


class ParseError(ValueError):
    """The input is not a document we understand; `reason` is a short machine-readable label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

def bounded_time(moment: datetime) -> datetime:
    """In UTC and within pulse_common.dates' range, or ParseError("bad_timestamp")."""
    try:
        return bounded_utc(moment)
    except DateOutOfRange as exc:
        raise ParseError("bad_timestamp", str(exc)) from exc


def iso_time(value: Any) -> datetime:
    """An ISO 8601 time (a trailing `Z` is UTC), bounded."""
    if not isinstance(value, str) or not value:
        raise ParseError("bad_timestamp", repr(value)[:80])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError as exc:
        raise ParseError("bad_timestamp", value[:80]) from exc
    return bounded_time(moment)


def v1_time(value: Any) -> datetime:
    """A v1.1 time (`Wed Oct 10 20:19:24 +0000 2018`), or an ISO one, bounded."""
    if not isinstance(value, str):
        raise ParseError("bad_timestamp", repr(value)[:80])
    try:
        moment = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return iso_time(value)
    return bounded_time(moment)


def optional_time(value: Any, parse: Callable[[Any], datetime] = iso_time) -> datetime | None:
    """`parse(value)`, or None when the value is absent or not a usable time: for fields that only
    add detail (an account's creation time, when a page was collected), never a reason to refuse."""
    if not value:
        return None
    try:
        return parse(value)
    except ParseError:
        return None


def as_count(value: Any) -> int:
    """A count: a non-negative int, 0 when the value is not a number."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


def checked_version(value: int) -> int:
    """A delete's version from the document: bounded as the schema bounds every version."""
    if not 0 <= value <= MAX_VERSION:
        raise ParseError("bad_version", str(value)[:40])
    return value


def as_id(value: Any) -> str:
    """A native id as text (1..200 characters), or ParseError("bad_id")."""
    if isinstance(value, bool) or value is None:
        raise ParseError("bad_id", repr(value)[:80])
    text = str(value)
    if not text or len(text) > 200:
        raise ParseError("bad_id", text[:80])
    return text


def as_text(value: Any) -> str:
    """A post's text, cut to the schema's limit, or ParseError("bad_text")."""
    if not isinstance(value, str):
        raise ParseError("bad_text", type(value).__name__)
    return value[:MAX_TEXT_CHARS]


def unique_strings(values: Iterable[Any]) -> list[str]:
    """The non-empty strings among `values`, first occurrence kept, in order."""
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return list(seen)


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def geojson_point(coords: Any) -> GeoPoint | None:
    """GeoJSON Point: coordinates [lon, lat]."""
    point = as_dict(coords)
    pair = as_list(point.get("coordinates"))
    if point.get("type") == "Point" and len(pair) == 2:
        try:
            return GeoPoint(lon=float(pair[0]), lat=float(pair[1]))
        except (TypeError, ValueError, ValidationError):
            return None
    return None


def bbox_center(bbox: Any) -> GeoPoint | None:
    """The centre of a [west, south, east, north] bounding box."""
    box = as_list(bbox)
    if len(box) == 4:
        try:
            return GeoPoint(lon=(float(box[0]) + float(box[2])) / 2, lat=(float(box[1]) + float(box[3])) / 2)
        except (TypeError, ValueError, ValidationError):
            return None
    return None


def build_post(**fields: Any) -> Post:
    """The Post, or ParseError("invalid_post") naming the first field the schema refuses."""
    try:
        return Post(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ParseError("invalid_post", f"{loc}: {first['msg']}") from exc
