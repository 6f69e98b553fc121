"""/api/alerts: per product × aspect × polarity, a z-score spike detector over the histogram (see
stats), each alert explained by its top terms and sample posts.

The series count posts (a post with two negative battery mentions for one product counts once).
Nested first, then back to the posts: several times cheaper than a date_histogram with a nested
aggregation inside every time bucket. Two requests: the series, then every alert's explanation.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard import stats
from pulse_dashboard.filters import Filters
from pulse_dashboard.views.common import (
    Search,
    aspect_conditions,
    bucket_keys,
    by_aspect,
    histogram,
    mentions_where,
    quote,
    top_quotes,
    ts,
)

# Tens of thousands of histogram buckets: leave out what is not read (their formatted dates are half
# the response). filter_path also drops empty arrays, hence the .get()s below.
SERIES_FILTER_PATH = "aggregations.**.key,aggregations.**.doc_count"


def series_request(f: Filters, hist: dict[str, Any], brands: int) -> dict[str, Any]:
    per_series = {"posts": {"reverse_nested": {}, "aggs": {"t": {"date_histogram": hist}}}}
    polarity = {"polarity": {"terms": {"field": F.ASPECT_POLARITY, "size": 2}, "aggs": per_series}}
    per_brand = {"field": F.ASPECT_PRODUCT, "size": brands + 5, "missing": "_none"}
    brand = {"brand": {"terms": per_brand, "aggs": by_aspect(30, polarity)}}
    opinionated = {"terms": {F.ASPECT_POLARITY: ["positive", "negative"]}}
    return {"size": 0, "query": f.query(), "aggs": {"a": mentions_where("opinionated", opinionated, brand)}}


def found_alerts(
    res: dict[str, Any], times: list[int], *, threshold: float, min_count: int
) -> list[dict[str, Any]]:
    """One alert per series: the latest run of consecutive spike buckets, at its peak; newest first."""
    index_of = {t: i for i, t in enumerate(times)}
    series: dict[tuple[str, str, str], list[int]] = {}
    brands = res.get("aggregations", {}).get("a", {}).get("opinionated", {}).get("brand", {})
    for brand in brands.get("buckets", []):
        for asp in brand["names"].get("buckets", []):
            for pol in asp["polarity"].get("buckets", []):
                values = [0] * len(times)
                for x in pol["posts"]["t"].get("buckets", []):
                    if x["key"] in index_of:
                        values[index_of[x["key"]]] = x["doc_count"]
                series[(brand["key"], asp["key"], pol["key"])] = values
    found = []
    for (brand, aspect, polarity), values in series.items():
        if polarity == "neutral":
            continue
        run: list[stats.Spike] = []
        for s in stats.spikes(values, threshold=threshold, min_count=min_count):
            run = [*run, s] if run and s.index == run[-1].index + 1 else [s]
        if run:
            s = max(run, key=lambda x: x.z)
            found.append({
                "product": None if brand == "_none" else brand,
                "aspect": aspect,
                "polarity": polarity,
                "t": ts(times[s.index]),
                "t_ms": times[s.index],
                "count": int(s.value),
                "baseline": s.baseline,
                "z": s.z,
                "series": values,
            })
    found.sort(key=lambda a: (-a["t_ms"], -a["z"]))
    return found


def explain_request(f: Filters, alerts: list[dict[str, Any]], seconds: int) -> dict[str, Any]:
    """Each alert's top terms and sample posts, all in one request (a filter bucket per alert).

    Top terms: the opinion words that decided the polarity (`aspects.opinions`), the surface forms
    people used (`aspects.term`) and hashtags unusually frequent in those posts."""
    aggs: dict[str, Any] = {}
    for i, a in enumerate(alerts):
        start = datetime.fromtimestamp(a["t_ms"] / 1000, tz=UTC)
        window = f.with_range(max(start, f.since), min(start + timedelta(seconds=seconds), f.until))
        cond = aspect_conditions(a["aspect"], a["polarity"], a["product"], exact=True)
        aggs[f"a{i}"] = {
            "filter": window.query({"nested": {"path": F.ASPECTS, "query": {"bool": {"filter": cond}}}}),
            "aggs": {
                "samples": top_quotes(3),
                "asp": {
                    "nested": {"path": F.ASPECTS},
                    "aggs": {
                        "match": {
                            "filter": {"bool": {"filter": cond}},
                            "aggs": {
                                "opinions": {"terms": {"field": F.ASPECT_OPINIONS, "size": 5}},
                                "terms": {"terms": {"field": F.ASPECT_TERM, "size": 3}},
                            },
                        }
                    },
                },
                "tags": {"significant_terms": {"field": F.HASHTAGS, "size": 3, "min_doc_count": 2}},
            },
        }
    # The top-level query is the union of the windows: each filter bucket then only tests the posts
    # of some alert's window, not every indexed post.
    windows = {"bool": {"should": [a["filter"] for a in aggs.values()], "minimum_should_match": 1}}
    return {"size": 0, "query": windows, "aggs": aggs}


def add_explanations(res: dict[str, Any], alerts: list[dict[str, Any]]) -> None:
    aggs = res["aggregations"]
    for i, alert in enumerate(alerts):
        r = aggs[f"a{i}"]
        match = r["asp"]["match"]
        words = [b["key"] for b in match["opinions"]["buckets"]]
        words += [b["key"] for b in match["terms"]["buckets"]]
        words += ["#" + b["key"] for b in r["tags"]["buckets"]]
        alert["top_terms"] = list(dict.fromkeys(w for w in words if w != alert["aspect"]))[:6]
        alert["samples"] = [quote(h) for h in r["samples"]["hits"]["hits"]]


def run(
    search: Search,
    f: Filters,
    tracking: TrackingConfig,
    *,
    interval: str | None = None,
    limit: int = 8,
    threshold: float = stats.Z_THRESHOLD,
    min_count: int = stats.MIN_COUNT,
) -> dict[str, Any]:
    hist, name, seconds = histogram(f, interval, sparse=True)
    res = search(series_request(f, hist, len(tracking.brands)), filter_path=SERIES_FILTER_PATH)
    times = bucket_keys(f, seconds)
    alerts = found_alerts(res, times, threshold=threshold, min_count=min_count)[:limit]
    if alerts:
        add_explanations(search(explain_request(f, alerts, seconds)), alerts)
    for a in alerts:
        a.pop("t_ms")
    return {
        "filters": f.as_params(),
        "interval": name,
        "times": [ts(t) for t in times],
        "threshold": threshold,
        "min_count": min_count,
        "alerts": alerts,
    }
