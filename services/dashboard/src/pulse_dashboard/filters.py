"""Request parameters -> a validated `Filters` -> an OpenSearch bool filter.

Nothing a user types reaches OpenSearch as query DSL: every value is checked against a
pattern or a whitelist here, and free text only ever goes through `simple_query_string` with a
fixed field list (see views.posts.query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse_common.dates import DateOutOfRange, bounded_utc
from pulse_dashboard import fields as F  # noqa: N812 - F.<FIELD> reads like the mapping

NETWORKS = ("x", "bluesky", "synthetic")
POLARITIES = ("negative", "neutral", "positive")
_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-zA-Z]{2,4})?$")
_REL = re.compile(r"^(\d{1,5})(m|h|d|w)$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Interval name -> (OpenSearch fixed_interval, seconds).
INTERVALS = {
    "5m": ("5m", 300),
    "15m": ("15m", 900),
    "1h": ("1h", 3600),
    "3h": ("3h", 10800),
    "6h": ("6h", 21600),
    "12h": ("12h", 43200),
    "1d": ("1d", 86400),
    "1w": ("7d", 604800),
}
MAX_BUCKETS = 400
MAX_VALUES = 20  # distinct values of one repeatable parameter (product, lang, ...)
MIN_PREFIX_CHARS = 3
MAX_QUERY_OPERATORS = 10
_ESCAPED = re.compile(r"\\.", re.S)
# simple_query_string's operators: + | ( ) anywhere, - at the start of a term, * at its end.
_OPERATOR = re.compile(r"[+|()]|(?:^|(?<=[\s(|+]))-|\*+(?=$|[\s)|+\"])")
_TERM_SEPARATORS = re.compile(r"[\s()|+\"]+")


class ParamError(ValueError):
    """A bad request parameter; the API answers 400 with this message."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def _split(values: list[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for value in values:
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _distinct(param: str, values: list[str] | str | None, limit: int = MAX_VALUES) -> list[str]:
    """A repeatable parameter's values, lower-cased and de-duplicated (`?lang=en&lang=en,EN` is one
    value), at most `limit` distinct ones: each value is a clause of every query."""
    out = list(dict.fromkeys(v.lower() for v in _split(values)))
    if len(out) > limit:
        raise ParamError(param, f"at most {limit} distinct values")
    return out


def parse_ids(param: str, values: list[str] | str | None, *, limit: int = MAX_VALUES) -> list[str]:
    ids = _distinct(param, values, limit)
    for value in ids:
        if not _ID.match(value):
            raise ParamError(param, f"{value!r} is not a valid id (lower-case letters, digits, '_', '-')")
    return ids


def parse_choice(param: str, values: list[str] | str | None, choices: tuple[str, ...]) -> list[str]:
    out = _distinct(param, values)
    for value in out:
        if value not in choices:
            raise ParamError(param, f"{value!r} is not one of {', '.join(choices)}")
    return out


def check_search_text(q: str, *, max_chars: int) -> str:
    """Free text for `simple_query_string`, refused when it would cost too much to run: a prefix
    (`bat*`) needs MIN_PREFIX_CHARS characters before the `*` (a shorter one expands to a large
    part of the index's terms), and at most MAX_QUERY_OPERATORS operators (`+ | - " * ( )`)."""
    if len(q) > max_chars:
        raise ParamError("q", f"at most {max_chars} characters")
    text = _ESCAPED.sub("a", q)  # an escaped character is a literal, never an operator
    operators = len(_OPERATOR.findall(text)) + (text.count('"') + 1) // 2
    if operators > MAX_QUERY_OPERATORS:
        raise ParamError("q", f"at most {MAX_QUERY_OPERATORS} operators (+ | - \" * ( ))")
    for word in _TERM_SEPARATORS.split(text):
        if word.endswith("*") and len(word.lstrip("-").rstrip("*")) < MIN_PREFIX_CHARS:
            raise ParamError("q", f"a prefix needs at least {MIN_PREFIX_CHARS} characters before *")
    return q


def parse_time(param: str, value: str | None, *, now: datetime, anchor: datetime | None = None) -> datetime:
    """ISO 8601 date/datetime, 'now', or a relative duration like 15m, 24h, 7d, 4w (before anchor)."""
    if value is None or value == "" or value == "now":
        return now
    rel = _REL.match(value)
    if rel:
        try:
            parsed = (anchor or now) - timedelta(**{_UNITS[rel[2]]: int(rel[1])})
        except OverflowError:
            parsed = datetime.min  # before year 1: refused below like any date out of range
    else:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ParamError(
                param, "use ISO 8601 (2026-01-31 or 2026-01-31T12:00:00Z) or 15m/24h/7d/4w"
            ) from None
    try:
        return bounded_utc(parsed, now=now)
    except DateOutOfRange as exc:
        raise ParamError(param, str(exc)) from None


@dataclass(frozen=True)
class Filters:
    since: datetime
    until: datetime
    products: list[str] = field(default_factory=list)  # ours
    competitors: list[str] = field(default_factory=list)  # theirs
    networks: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    include_unscored: bool = False

    @property
    def brands(self) -> list[str]:
        return list(dict.fromkeys([*self.products, *self.competitors]))

    def clauses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [
            {"range": {F.CREATED_AT: {"gte": iso(self.since), "lt": iso(self.until)}}}
        ]
        if self.brands:
            out.append({"terms": {F.PRODUCTS: self.brands}})
        if self.networks:
            out.append({"terms": {F.NETWORK: self.networks}})
        if self.langs:
            out.append({"terms": {F.LANG: self.langs}})
        if not self.include_unscored:
            out.append({"term": {F.SCORED: True}})
        return out

    def query(self, *extra: dict[str, Any]) -> dict[str, Any]:
        return {"bool": {"filter": [*self.clauses(), *extra]}}

    def with_range(self, since: datetime, until: datetime) -> Filters:
        return replace(self, since=since, until=until)

    def as_params(self) -> dict[str, Any]:
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "product": self.products,
            "competitor": self.competitors,
            "network": self.networks,
            "lang": self.langs,
            "include_unscored": self.include_unscored,
        }


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def parse_filters(
    *,
    since: str | None = None,
    until: str | None = None,
    product: list[str] | str | None = None,
    competitor: list[str] | str | None = None,
    network: list[str] | str | None = None,
    lang: list[str] | str | None = None,
    include_unscored: bool = False,
    max_range_days: int = 400,
    now: datetime | None = None,
    default_since: str = "30d",
) -> Filters:
    # "now" to the minute: every card of one page load sees the same window, and repeated views
    # hit OpenSearch's shard request cache (the live feed has its own cursor, not this window).
    now = now or datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = parse_time("until", until, now=now)
    start = parse_time("since", since or default_since, now=now, anchor=end)
    if start >= end:
        raise ParamError("since", "must be before until")
    if end - start > timedelta(days=max_range_days):
        raise ParamError("since", f"the time range is at most {max_range_days} days")
    langs = _distinct("lang", lang)
    for value in langs:
        if not _LANG.match(value):
            raise ParamError("lang", f"{value!r} is not a language code like en or pt-br")
    return Filters(
        since=start,
        until=end,
        products=parse_ids("product", product),
        competitors=parse_ids("competitor", competitor),
        networks=parse_choice("network", network, NETWORKS),
        langs=langs,
        include_unscored=include_unscored,
    )


def pick_interval(filters: Filters, requested: str | None = None, *, max_auto: int = 120) -> tuple[str, int]:
    """(name, seconds) of the histogram interval: the requested one, or the finest with <= max_auto bars."""
    span = (filters.until - filters.since).total_seconds()
    if requested and requested != "auto":
        if requested not in INTERVALS:
            raise ParamError("interval", f"one of auto, {', '.join(INTERVALS)}")
        seconds = INTERVALS[requested][1]
        if span / seconds > MAX_BUCKETS:
            raise ParamError("interval", f"{requested} over this range gives more than {MAX_BUCKETS} buckets")
        return requested, seconds
    for name, (_, seconds) in INTERVALS.items():
        if span / seconds <= max_auto:
            return name, seconds
    return "1w", INTERVALS["1w"][1]


def parse_page(page: int, size: int, *, max_size: int, max_window: int = 10_000) -> tuple[int, int]:
    if page < 1:
        raise ParamError("page", "starts at 1")
    if not 1 <= size <= max_size:
        raise ParamError("size", f"between 1 and {max_size}")
    if page * size > max_window:
        raise ParamError("page", f"results beyond the first {max_window} are not paged; narrow the filters")
    return page, size
