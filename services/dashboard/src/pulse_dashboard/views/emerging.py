"""/api/emerging: topics unusually frequent in the latest part of the range and in negative posts,
and the open-vocabulary aspects the enricher found outside the taxonomy.

`recent` = the last quarter of the range (at least one hour), `negative` = the negative posts of the
range, each against every indexed post. A topic is a word or a phrase of up to three words that
names something (`topic_words.TopicFilter`: no function words, chatter, sentiment words or tracked
brands), proposed from a sample of the foreground posts (the newest `sample_docs`), then counted
exactly by OpenSearch (`match_phrase` on the unstemmed `text.std`) in the foreground and in every
indexed post, and scored with JLH. A word or phrase mostly seen inside a longer topic gives way to
it ("night mode", not "night" and "mode").
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import Filters, iso
from pulse_dashboard.views.common import Search, by_aspect, mentions_where
from pulse_dashboard.views.topic_words import TopicFilter, brand_words, tokens

SAMPLE_DOCS = 500  # foreground posts read to propose topics (the newest first)
MIN_DOCS = 3  # a topic is in at least this many foreground posts
CANDIDATES = 4  # candidates counted exactly per topic shown
SUBSUMED = 0.8  # a topic whose foreground posts are mostly those of a longer one gives way to it
SETS = ("recent", "negative")


def known_terms(tracking: TrackingConfig) -> set[str]:
    """Words of the taxonomy and of the tracked brands: a topic made only of them is `known`."""
    known: set[str] = set()
    for a in tracking.aspects:
        for term in a.terms:
            known.update(tokens(term))
    return known | set(brand_words(tracking))


def recent_start(f: Filters) -> datetime:
    return max(f.until - max((f.until - f.since) / 4, timedelta(hours=1)), f.since)


def foreground_where(f: Filters) -> dict[str, dict[str, Any]]:
    return {
        "recent": {"range": {F.CREATED_AT: {"gte": iso(recent_start(f))}}},
        "negative": {"term": {F.SENTIMENT_LABEL: "negative"}},
    }


def sample_request(f: Filters, *, sample_docs: int) -> dict[str, Any]:
    """The newest foreground posts (recent or negative), to propose topics from."""
    where = foreground_where(f)
    return {
        "size": sample_docs,
        "track_total_hits": False,
        "_source": [F.TEXT, F.CREATED_AT, F.SENTIMENT_LABEL],
        "query": f.query({"bool": {"should": list(where.values()), "minimum_should_match": 1}}),
        "sort": [{F.CREATED_AT: "desc"}, {"_doc": "asc"}],
    }


def candidates(
    hits: list[dict[str, Any]], f: Filters, topics: TopicFilter, *, limit: int
) -> dict[str, list[str]]:
    """Per foreground set, the `limit` phrases in most sampled posts (at least MIN_DOCS), after
    the phrases mostly seen inside a longer one gave way to it."""
    since = recent_start(f)
    counts: dict[str, Counter[str]] = {name: Counter() for name in SETS}
    for hit in hits:
        src = hit["_source"]
        phrases = topics.phrases(src.get("text") or "")
        created = datetime.fromisoformat(src[F.CREATED_AT].replace("Z", "+00:00"))
        if created >= since:
            counts["recent"].update(phrases)
        if (src.get("sentiment") or {}).get("label") == "negative":
            counts["negative"].update(phrases)
    out = {}
    for name, c in counts.items():
        frequent = {p: n for p, n in c.items() if n >= MIN_DOCS}
        kept = [p for p, n in frequent.items() if not _gives_way(p, n, frequent)]
        kept.sort(key=lambda p: (-frequent[p], p))
        out[name] = kept[:limit]
    return out


def _gives_way(phrase: str, n: int, frequent: dict[str, int]) -> bool:
    """A longer frequent phrase contains this one in most of its posts."""
    padded = f" {phrase} "
    return any(
        len(other) > len(phrase) and m >= SUBSUMED * n and padded in f" {other} "
        for other, m in frequent.items()
    )


def counts_request(
    f: Filters, phrases: dict[str, list[str]], tracking: TrackingConfig, *, size: int
) -> dict[str, Any]:
    """Exact posts per candidate: in each foreground set and in every indexed post; the new aspects."""
    every = sorted({p for ps in phrases.values() for p in ps})

    def per_phrase(names: list[str]) -> dict[str, Any]:
        return {"filters": {"filters": {p: {"match_phrase": {F.TEXT_TERMS: p}} for p in names}}}

    where = foreground_where(f)
    aggs: dict[str, Any] = {
        name: {"filter": where[name], "aggs": {"t": per_phrase(phrases[name])} if phrases[name] else {}}
        for name in SETS
    }
    aggs["posts"] = {"global": {}, "aggs": {"t": per_phrase(every)} if every else {}}
    not_brands = sorted(brand_words(tracking))
    aggs["new_aspects"] = mentions_where(
        "open",
        {
            "bool": {
                "filter": [{"term": {F.ASPECT_IN_TAXONOMY: False}}],
                "must_not": [{"terms": {F.ASPECT_NAME: not_brands}}] if not_brands else [],
            }
        },
        by_aspect(size * 2, {"neg": {"filter": {"term": {F.ASPECT_POLARITY: "negative"}}}}),
    )
    return {"size": 0, "query": f.query(), "aggs": aggs}


def shape(
    res: dict[str, Any], f: Filters, tracking: TrackingConfig, topics: TopicFilter, *, size: int
) -> dict[str, Any]:
    aggs = res["aggregations"]
    known = known_terms(tracking)
    posts = max(1, aggs["posts"]["doc_count"])
    background = aggs["posts"].get("t", {}).get("buckets", {})

    def terms(agg: dict[str, Any]) -> list[dict[str, Any]]:
        fg_total = agg["doc_count"]
        rows = []
        for phrase, b in agg.get("t", {}).get("buckets", {}).items():
            bg = background[phrase]["doc_count"]
            fg_p = b["doc_count"] / max(1, fg_total)
            bg_p = bg / posts
            score = (fg_p - bg_p) * (fg_p / bg_p) if bg_p > 0 else 0.0
            if score > 0 and b["doc_count"] >= MIN_DOCS:
                rows.append(
                    {
                        "term": phrase,
                        "score": round(score, 4),
                        "docs": b["doc_count"],
                        "bg_docs": bg,
                        "known": all(w in known for w in phrase.split()),
                        "fg_total": fg_total,
                    }
                )
        rows.sort(key=lambda r: (-r["score"], r["term"]))
        return rows[:size]

    new_aspects = [
        {"aspect": b["key"], "mentions": b["doc_count"], "negative": b["neg"]["doc_count"]}
        for b in aggs["new_aspects"]["open"]["names"]["buckets"]
        if topics.is_topic(b["key"]) and not topics.is_brand(b["key"])
    ]
    return {
        "filters": f.as_params(),
        "recent_since": iso(recent_start(f)),
        "recent": terms(aggs["recent"]),
        "negative": terms(aggs["negative"]),
        "new_aspects": new_aspects[:size],
    }


def run(
    search: Search, f: Filters, tracking: TrackingConfig, *, size: int = 15, sample_docs: int = SAMPLE_DOCS
) -> dict[str, Any]:
    topics = TopicFilter(tracking)
    hits = search(sample_request(f, sample_docs=sample_docs))["hits"]["hits"]
    phrases = candidates(hits, f, topics, limit=size * CANDIDATES)
    return shape(search(counts_request(f, phrases, tracking, size=size)), f, tracking, topics, size=size)
