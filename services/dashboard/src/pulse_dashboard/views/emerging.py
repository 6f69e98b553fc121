"""/api/emerging: terms unusually frequent in the latest part of the range and in negative posts,
and the open-vocabulary aspects the enricher found outside the taxonomy.

`recent` = the last quarter of the range (at least one hour), `negative` = the negative posts of the
range, each against every indexed post (the index's own term statistics: a background filter would
cost one count per candidate term).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import Filters, iso
from pulse_dashboard.views.common import Search, by_aspect, mentions_where

SAMPLE_DOCS = 500  # significant_text re-analyzes _source: read at most this many foreground posts per shard
# Never "emerging": function words the standard analyzer keeps (retweets are excluded by `scored`,
# so duplicate text is a wave of complaints, not boilerplate: filter_duplicate_text stays off).
STOPWORDS = sorted(
    set(
        """a about after again all also am an and any are as at be been before being but by can
could did do does doing for from had has have having he her here him his how i if in into is it its just me
more most my no nor not now of off on once only or other our out over own same she should since so some such
than that the their them then there these they this those through to too under until up very was we were what
when where which while who whom why will with would you your rt amp https http co www com""".split()
    )
)


def is_topic_term(term: str) -> bool:
    """Worth showing as a topic: has a letter, is not a URL/domain fragment, not a lone character."""
    return len(term) > 1 and any(c.isalpha() for c in term) and not any(c in term for c in "./:")


def known_terms(tracking: TrackingConfig) -> set[str]:
    known: set[str] = set()
    for a in tracking.aspects:
        for term in a.terms:
            known.update(term.lower().split())
    for b in tracking.brands:
        for term in b.terms:
            known.update(term.lower().split())
        known.update(b.hashtags)
    return known


def recent_start(f: Filters) -> datetime:
    return max(f.until - max((f.until - f.since) / 4, timedelta(hours=1)), f.since)


def request(f: Filters, *, size: int, sample_docs: int) -> dict[str, Any]:
    sig = {
        "field": F.TEXT_TERMS,
        "source_fields": [F.TEXT],
        "size": size * 3,  # candidates: re-scored below, and is_topic_term drops some
        "min_doc_count": 3,
        "exclude": STOPWORDS,
    }
    sampled = {"s": {"sampler": {"shard_size": sample_docs}, "aggs": {"terms": {"significant_text": sig}}}}
    return {
        "size": 0,
        "query": f.query(),
        "aggs": {
            "recent": {"filter": {"range": {F.CREATED_AT: {"gte": iso(recent_start(f))}}}, "aggs": sampled},
            "negative": {"filter": {"term": {F.SENTIMENT_LABEL: "negative"}}, "aggs": sampled},
            "posts": {"global": {}},  # every indexed post: the background's true size
            "new_aspects": mentions_where(
                "open",
                {"term": {F.ASPECT_IN_TAXONOMY: False}},
                by_aspect(size, {"neg": {"filter": {"term": {F.ASPECT_POLARITY: "negative"}}}}),
            ),
        },
    }


def shape(res: dict[str, Any], f: Filters, tracking: TrackingConfig, *, size: int) -> dict[str, Any]:
    aggs = res["aggregations"]
    known = known_terms(tracking)
    # OpenSearch's background size counts nested (aspect, brand) Lucene docs too, which makes every
    # term look rarer than it is; re-score with JLH on the true number of posts and keep only
    # terms really over-represented in the foreground.
    posts = max(1, aggs["posts"]["doc_count"])

    def terms(agg: dict[str, Any]) -> list[dict[str, Any]]:
        rows = []
        for b in agg["s"]["terms"]["buckets"]:
            fg_p = b["doc_count"] / max(1, agg["s"]["doc_count"])
            bg_p = b["bg_count"] / posts
            score = (fg_p - bg_p) * (fg_p / bg_p) if bg_p > 0 else 0.0
            if score > 0 and is_topic_term(b["key"]):
                rows.append({
                    "term": b["key"],
                    "score": round(score, 4),
                    "docs": b["doc_count"],
                    "bg_docs": b["bg_count"],
                    "known": b["key"] in known,
                    "fg_total": agg["doc_count"],
                })
        rows.sort(key=lambda r: (-r["score"], r["term"]))
        return rows[:size]

    return {
        "filters": f.as_params(),
        "recent_since": iso(recent_start(f)),
        "recent": terms(aggs["recent"]),
        "negative": terms(aggs["negative"]),
        "new_aspects": [
            {"aspect": b["key"], "mentions": b["doc_count"], "negative": b["neg"]["doc_count"]}
            for b in aggs["new_aspects"]["open"]["names"]["buckets"]
        ],
    }


def run(
    search: Search, f: Filters, tracking: TrackingConfig, *, size: int = 15, sample_docs: int = SAMPLE_DOCS
) -> dict[str, Any]:
    return shape(search(request(f, size=size, sample_docs=sample_docs)), f, tracking, size=size)
