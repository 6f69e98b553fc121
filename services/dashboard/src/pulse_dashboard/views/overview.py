"""/api/overview: posts, authors, flagged posts, the sentiment split and net sentiment, per brand."""

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
    no_counts,
    sentiment_counts,
    with_net,
)


def request(f: Filters, brands: list[str]) -> dict[str, Any]:
    return {
        "size": 0,
        "track_total_hits": True,
        "query": f.query(),
        "aggs": {
            "sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}},
            "authors": {"cardinality": {"field": F.AUTHOR_ID}},
            "brands": brand_sentiment_terms(brands),
            "flagged": {"filter": {"exists": {"field": F.FLAGS}}},
        },
    }


def shape(res: dict[str, Any], f: Filters, brands: list[str], tracking: TrackingConfig) -> dict[str, Any]:
    aggs = res["aggregations"]
    total = res["hits"]["total"]["value"]
    names = brand_names(tracking)
    by_brand = {
        b["key"]: with_net(sentiment_counts(b["sentiment"]["buckets"]), b["doc_count"])
        for b in aggs["brands"]["buckets"]
    }
    return {
        "filters": f.as_params(),
        "posts": total,
        "authors": aggs["authors"]["value"],
        "flagged_posts": aggs["flagged"]["doc_count"],
        "sentiment": with_net(sentiment_counts(aggs["sentiment"]["buckets"]), total),
        "brands": [
            {
                "id": b,
                "name": names.get(b, b),
                "kind": tracking.brand_kind(b),
                **by_brand.get(b, with_net(no_counts(), 0)),
            }
            for b in brands
        ],
    }


def run(search: Search, f: Filters, tracking: TrackingConfig) -> dict[str, Any]:
    brands = brand_scope(f, tracking)
    return shape(search(request(f, brands)), f, brands, tracking)
