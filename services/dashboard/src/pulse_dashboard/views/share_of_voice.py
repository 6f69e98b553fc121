"""/api/share-of-voice: per brand, its share of brand mentions and net sentiment (CI); per aspect ×
brand, the mentions attributed to each brand (`aspects.product`)."""

from __future__ import annotations

from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import Filters
from pulse_dashboard.views.common import (
    Search,
    brand_names,
    brand_scope,
    brand_sentiment_terms,
    by_aspect,
    mentions_where,
    no_counts,
    sentiment_counts,
    with_net,
)


def request(f: Filters, brands: list[str]) -> dict[str, Any]:
    per_brand = {
        "terms": {"field": F.ASPECT_PRODUCT, "size": len(brands)},
        "aggs": {"polarity": {"terms": {"field": F.ASPECT_POLARITY, "size": 3}}},
    }
    return {
        "size": 0,
        "query": f.query(),
        "aggs": {
            "brands": brand_sentiment_terms(brands),
            "a": mentions_where(
                "attributed", {"terms": {F.ASPECT_PRODUCT: brands}}, by_aspect(30, {"brands": per_brand})
            ),
        },
    }


def shape(res: dict[str, Any], f: Filters, brands: list[str], tracking: TrackingConfig) -> dict[str, Any]:
    aggs = res["aggregations"]
    names = brand_names(tracking)
    found = {b["key"]: b for b in aggs["brands"]["buckets"]}
    mentions_total = sum(b["doc_count"] for b in found.values())
    overall = []
    for b in brands:
        bucket = found.get(b)
        counts = sentiment_counts(bucket["sentiment"]["buckets"]) if bucket else no_counts()
        n = bucket["doc_count"] if bucket else 0
        overall.append({
            "id": b,
            "name": names.get(b, b),
            "kind": tracking.brand_kind(b),
            "share": round(n / mentions_total, 4) if mentions_total else 0.0,
            **with_net(counts, n),
        })
    taxonomy = {a.id: a.name for a in tracking.aspects}
    per_aspect = []
    for a in aggs["a"]["attributed"]["names"]["buckets"]:
        cells = {x["key"]: x for x in a["brands"]["buckets"]}
        row: dict[str, Any] = {
            "aspect": a["key"],
            "name": taxonomy.get(a["key"], a["key"]),
            "mentions": a["doc_count"],
            "brands": [],
        }
        for b in brands:
            cell = cells.get(b)
            counts = sentiment_counts(cell["polarity"]["buckets"]) if cell else no_counts()
            n = cell["doc_count"] if cell else 0
            row["brands"].append({
                "id": b,
                "share": round(n / a["doc_count"], 4) if a["doc_count"] else 0.0,
                **with_net(counts, n),
            })
        per_aspect.append(row)
    return {"filters": f.as_params(), "mentions": mentions_total, "brands": overall, "aspects": per_aspect}


def run(search: Search, f: Filters, tracking: TrackingConfig) -> dict[str, Any]:
    brands = brand_scope(f, tracking)
    return shape(search(request(f, brands)), f, brands, tracking)
