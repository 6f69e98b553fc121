"""/api/meta: tracked brands and aspects, networks, languages, the data's time bounds."""

from __future__ import annotations

from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import INTERVALS
from pulse_dashboard.views.common import Search


def request() -> dict[str, Any]:
    return {
        "size": 0,
        "track_total_hits": True,
        "aggs": {
            "first": {"min": {"field": F.CREATED_AT}},
            "last": {"max": {"field": F.CREATED_AT}},
            "networks": {"terms": {"field": F.NETWORK, "size": 10}},
            "langs": {"terms": {"field": F.LANG, "size": 30}},
        },
    }


def shape(res: dict[str, Any], tracking: TrackingConfig) -> dict[str, Any]:
    aggs = res["aggregations"]
    t = tracking
    return {
        "products": [{"id": b.id, "name": b.name, "kind": "product"} for b in t.products],
        "competitors": [{"id": b.id, "name": b.name, "kind": "competitor"} for b in t.competitors],
        "aspects": [{"id": a.id, "name": a.name, "category": a.category} for a in t.aspects],
        "networks": [b["key"] for b in aggs["networks"]["buckets"]],
        "langs": [b["key"] for b in aggs["langs"]["buckets"]],
        "first_post_at": aggs["first"].get("value_as_string"),
        "last_post_at": aggs["last"].get("value_as_string"),
        "total_posts": res["hits"]["total"]["value"],
        "intervals": ["auto", *INTERVALS],
    }


def run(search: Search, tracking: TrackingConfig) -> dict[str, Any]:
    return shape(search(request()), tracking)
