"""What the views share: the search call they are given, counting rules and the shapes they return.

Counting rules (the API tests recompute each of them from the raw documents):
* a post is in a view when it matches the filters (time range on `created_at`, brands = the union
  of `product` and `competitor` over `products`, network, lang) and, unless include_unscored, has
  `scored: true` (a retweet repeats the original's opinion, it is not a new one);
* per-brand figures count a post once for every tracked brand it mentions;
* aspect figures count aspect *mentions* (nested documents), share of voice per aspect counts the
  mentions attributed to a brand (`aspects.product`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812 - F.<FIELD> reads like the mapping
from pulse_dashboard import stats
from pulse_dashboard.filters import INTERVALS, Filters, iso, pick_interval

# One search request: (body, extra query parameters) -> the response. The views build bodies and
# shape responses (pure functions); the search itself is handed to them (see insights.Insights).
Search = Callable[..., dict[str, Any]]

POLARITIES = ("positive", "neutral", "negative")  # the order of every count in every response
EDGE_NGRAM_MAX_CHARS = 20  # max_gram of pulse_edge_ngram in mappings/posts.template.json
QUOTE_SOURCE = ["id", "text", "author.username", "created_at", "sentiment.label", "network"]


def brand_names(tracking: TrackingConfig) -> dict[str, str]:
    return {b.id: b.name for b in tracking.brands}


def brand_scope(f: Filters, tracking: TrackingConfig) -> list[str]:
    return f.brands or [b.id for b in tracking.brands]


def sentiment_counts(buckets: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(POLARITIES, 0)
    for b in buckets:
        if b["key"] in counts:
            counts[b["key"]] = b["doc_count"]
    return counts


def no_counts() -> dict[str, int]:
    return dict.fromkeys(POLARITIES, 0)


def with_net(counts: dict[str, int], total: int | None = None) -> dict[str, Any]:
    total = sum(counts.values()) if total is None else total
    return {**counts, "total": total, **stats.net_sentiment(counts["positive"], counts["negative"], total)}


def ts(key_ms: int) -> str:
    return iso(datetime.fromtimestamp(key_ms / 1000, tz=UTC))


def quote(hit: dict[str, Any]) -> dict[str, Any]:
    src = hit.get("_source", {})
    return {
        "id": src.get("id", hit.get("_id")),
        "text": src.get("text", ""),
        "author": (src.get("author") or {}).get("username"),
        "created_at": src.get("created_at"),
        "network": src.get("network"),
        "sentiment": (src.get("sentiment") or {}).get("label"),
    }


def top_quotes(size: int) -> dict[str, Any]:
    """The most influential, then the newest posts of a bucket."""
    return {
        "top_hits": {
            "size": size,
            "_source": QUOTE_SOURCE,
            "sort": [{F.INFLUENCE_SCORE: {"order": "desc"}}, {F.CREATED_AT: {"order": "desc"}}],
        }
    }


def brand_sentiment_terms(brands: list[str]) -> dict[str, Any]:
    """Per tracked brand mentioned (of `brands`), its posts by sentiment."""
    return {
        "terms": {"field": F.PRODUCTS, "size": len(brands), "include": brands},
        "aggs": {"sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}}},
    }


def mentions_where(bucket: str, where: dict[str, Any], aggs: dict[str, Any]) -> dict[str, Any]:
    """The aspect mentions (nested documents) matching `where`, in the filter bucket `bucket`."""
    return {"nested": {"path": F.ASPECTS}, "aggs": {bucket: {"filter": where, "aggs": aggs}}}


def by_aspect(size: int, aggs: dict[str, Any]) -> dict[str, Any]:
    """Mentions by aspect name ("names" buckets), the `size` most mentioned."""
    return {"names": {"terms": {"field": F.ASPECT_NAME, "size": size}, "aggs": aggs}}


def histogram(
    f: Filters, interval: str | None, *, max_auto: int = 120, sparse: bool = False
) -> tuple[dict[str, Any], str, int]:
    """A date_histogram over the filter range. `sparse`: only non-empty buckets (the caller lays
    them on `bucket_keys`), for histograms nested under many terms buckets, where the empty ones
    would be most of the response."""
    name, seconds = pick_interval(f, interval, max_auto=max_auto)
    hist: dict[str, Any] = {"field": F.CREATED_AT, "fixed_interval": INTERVALS[name][0]}
    if sparse:
        hist["min_doc_count"] = 1
    else:
        hist["min_doc_count"] = 0
        hist["extended_bounds"] = {"min": iso(f.since), "max": iso(f.until - timedelta(milliseconds=1))}
    return hist, name, seconds


def bucket_keys(f: Filters, seconds: int) -> list[int]:
    """The epoch-ms keys of a fixed_interval date_histogram over [since, until) (buckets start at epoch)."""
    step = seconds * 1000
    first = int(f.since.timestamp() * 1000) // step * step
    last = (int(f.until.timestamp() * 1000) - 1) // step * step
    return list(range(first, last + 1, step))


def partial_match(keyword_field: str, ngram_field: str, value: str) -> dict[str, Any]:
    """Values of `keyword_field` that start with `value` (case- and accent-insensitive), as one term
    lookup in its edge-n-gram subfield: never a `prefix` query, which walks every term of the field.
    The n-grams stop at EDGE_NGRAM_MAX_CHARS, so a longer value matches the whole keyword exactly."""
    if len(value) <= EDGE_NGRAM_MAX_CHARS:
        return {"match": {ngram_field: {"query": value}}}
    return {"term": {keyword_field: value}}


def aspect_conditions(aspect: str | None, polarity: str | None, product: str | None, *, exact: bool) -> list:
    must: list[dict[str, Any]] = []
    if aspect:
        if exact:
            must.append({"term": {F.ASPECT_NAME: aspect}})
        else:
            must.append(partial_match(F.ASPECT_NAME, F.ASPECT_NAME_PREFIX, aspect))
    if polarity:
        must.append({"term": {F.ASPECT_POLARITY: polarity}})
    if product:
        must.append({"term": {F.ASPECT_PRODUCT: product}})
    elif product is None and exact:
        must.append({"bool": {"must_not": {"exists": {"field": F.ASPECT_PRODUCT}}}})
    return must


def aspect_query(
    aspect: str | None, polarity: str | None, product: str | None, *, exact: bool
) -> dict[str, Any]:
    return {
        "nested": {
            "path": F.ASPECTS,
            "query": {"bool": {"filter": aspect_conditions(aspect, polarity, product, exact=exact)}},
        }
    }
