"""/api/timeline: volume × sentiment per interval, overall and per brand, with spike markers."""

from __future__ import annotations

from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard import stats
from pulse_dashboard.filters import Filters
from pulse_dashboard.views.common import (
    Search,
    brand_names,
    brand_scope,
    brand_sentiment_terms,
    histogram,
    no_counts,
    sentiment_counts,
    ts,
    with_net,
)


def request(f: Filters, brands: list[str], hist: dict[str, Any]) -> dict[str, Any]:
    return {
        "size": 0,
        "query": f.query(),
        "aggs": {
            "t": {
                "date_histogram": hist,
                "aggs": {
                    "sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}},
                    "brands": brand_sentiment_terms(brands),
                },
            }
        },
    }


def shape(
    res: dict[str, Any], brands: list[str], tracking: TrackingConfig, *, interval: str, seconds: int
) -> dict[str, Any]:
    buckets = res["aggregations"]["t"]["buckets"]
    times = [ts(b["key"]) for b in buckets]
    overall = [with_net(sentiment_counts(b["sentiment"]["buckets"]), b["doc_count"]) for b in buckets]
    per_brand: dict[str, list[dict[str, Any]]] = {}
    for b in brands:
        series = []
        for bucket in buckets:
            hit = next((x for x in bucket["brands"]["buckets"] if x["key"] == b), None)
            counts = sentiment_counts(hit["sentiment"]["buckets"]) if hit else no_counts()
            series.append({**counts, "total": hit["doc_count"] if hit else 0})
        per_brand[b] = series
    names = brand_names(tracking)
    spike_list = []
    for b, series in per_brand.items():
        for s in stats.spikes([p["total"] for p in series]):
            spike_list.append(
                {
                    "brand": b,
                    "name": names.get(b, b),
                    "t": times[s.index],
                    "count": int(s.value),
                    "baseline": s.baseline,
                    "z": s.z,
                }
            )
    return {
        "interval": interval,
        "interval_seconds": seconds,
        "times": times,
        "overall": overall,
        "brands": [
            {"id": b, "name": names.get(b, b), "kind": tracking.brand_kind(b), "series": per_brand[b]}
            for b in brands
        ],
        "spikes": sorted(spike_list, key=lambda s: s["t"]),
    }


def run(search: Search, f: Filters, tracking: TrackingConfig, interval: str | None = None) -> dict[str, Any]:
    brands = brand_scope(f, tracking)
    hist, name, seconds = histogram(f, interval)
    return shape(search(request(f, brands, hist)), brands, tracking, interval=name, seconds=seconds)
