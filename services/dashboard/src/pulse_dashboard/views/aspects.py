"""/api/aspects: per aspect, mentions and posts, positive/neutral/negative, net (95 % CI), average
score, example quotes and a trend of opinionated posts."""

from __future__ import annotations

from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import Filters
from pulse_dashboard.views.common import (
    Search,
    bucket_keys,
    histogram,
    quote,
    sentiment_counts,
    top_quotes,
    ts,
    with_net,
)

OPINIONATED = ("positive", "negative")


def request(f: Filters, *, quotes: int, size: int, trend_hist: dict[str, Any] | None) -> dict[str, Any]:
    quote_aggs = (
        {
            f"q_{pol}": {
                "filter": {"term": {F.ASPECT_POLARITY: pol}},
                "aggs": {"posts": {"reverse_nested": {}, "aggs": {"top": top_quotes(quotes)}}},
            }
            for pol in OPINIONATED
        }
        if quotes > 0
        else {}
    )
    names_aggs: dict[str, Any] = {
        "polarity": {"terms": {"field": F.ASPECT_POLARITY, "size": 3}},
        "score": {"avg": {"field": F.ASPECT_SCORE}},
        "posts": {"reverse_nested": {}},
        **quote_aggs,
    }
    if trend_hist is not None:
        # nested first, then back to the posts per polarity: posts per day (not mentions), and
        # several times cheaper than a date_histogram with a nested aggregation in every bucket
        names_aggs["trend"] = {
            "filter": {"terms": {F.ASPECT_POLARITY: list(OPINIONATED)}},
            "aggs": {
                "pol": {
                    "terms": {"field": F.ASPECT_POLARITY, "size": 2},
                    "aggs": {"posts": {"reverse_nested": {}, "aggs": {"t": {"date_histogram": trend_hist}}}},
                }
            },
        }
    aggs = {
        "a": {
            "nested": {"path": F.ASPECTS},
            "aggs": {"names": {"terms": {"field": F.ASPECT_NAME, "size": size}, "aggs": names_aggs}},
        }
    }
    return {"size": 0, "query": f.query(), "aggs": aggs}


def shape(
    res: dict[str, Any],
    f: Filters,
    tracking: TrackingConfig,
    *,
    quotes: int,
    trend: tuple[str, int] | None,
) -> dict[str, Any]:
    """`trend`: (interval name, seconds) of the trend histogram, None without a trend."""
    taxonomy = {a.id: a for a in tracking.aspects}
    buckets = res["aggregations"]["a"]["names"]["buckets"]
    rows = []
    for b in buckets:
        counts = sentiment_counts(b["polarity"]["buckets"])
        aspect = taxonomy.get(b["key"])
        rows.append({
            "aspect": b["key"],
            "name": aspect.name if aspect else b["key"],
            "category": aspect.category if aspect else None,
            "in_taxonomy": aspect is not None,
            "mentions": b["doc_count"],
            "posts": b["posts"]["doc_count"],
            "avg_score": round(b["score"]["value"] or 0.0, 4),
            **with_net(counts, b["doc_count"]),
            "quotes": {pol: [quote(h) for h in b[f"q_{pol}"]["posts"]["top"]["hits"]["hits"]]
                       for pol in OPINIONATED} if quotes > 0 else {},
        })
    out: dict[str, Any] = {"filters": f.as_params(), "aspects": rows}
    if trend is not None:
        name, seconds = trend
        times = bucket_keys(f, seconds)
        series: dict[str, list[list[int]]] = {}
        for b in buckets:
            per_pol = {p["key"]: p["posts"]["t"]["buckets"] for p in b["trend"]["pol"]["buckets"]}
            counts = {pol: {x["key"]: x["doc_count"] for x in per_pol.get(pol, [])} for pol in OPINIONATED}
            series[b["key"]] = [
                [counts["positive"].get(t, 0), counts["negative"].get(t, 0), 0] for t in times
            ]
        out["trend"] = {"interval": name, "times": [ts(t) for t in times], "series": series}
    return out


def run(
    search: Search,
    f: Filters,
    tracking: TrackingConfig,
    *,
    quotes: int = 2,
    trend: bool = True,
    size: int = 30,
) -> dict[str, Any]:
    hist, interval = None, None
    if trend:
        hist, name, seconds = histogram(f, None, max_auto=40, sparse=True)  # a sparkline needs few points
        interval = (name, seconds)
    res = search(request(f, quotes=quotes, size=size, trend_hist=hist))
    return shape(res, f, tracking, quotes=quotes, trend=interval)
