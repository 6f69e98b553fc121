"""/api/influencers: advocates and detractors, ranked by the documented score (stats.influencer_score).

Candidates: the `candidates` authors with the most positive posts, the `candidates` with the most
negative posts and the `candidates` most active opinionated accounts with at least
HIGH_REACH_FOLLOWERS followers (one post from a large account can outrank a regular's many); the
exact score is then computed for every candidate, and the ranked authors' names read from their
latest post (three requests)."""

from __future__ import annotations

from typing import Any

from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard import stats
from pulse_dashboard.filters import Filters
from pulse_dashboard.views.common import Search

HIGH_REACH_FOLLOWERS = 1_000


def candidates_request(f: Filters, candidates: int) -> dict[str, Any]:
    """Phase 1, the candidate ids: counting is much cheaper than ranking every author by a metric."""

    def ids(where: dict[str, Any]) -> dict[str, Any]:
        return {"filter": where, "aggs": {"ids": {"terms": {"field": F.AUTHOR_ID, "size": candidates}}}}

    return {
        "size": 0,
        "query": f.query(),
        "aggs": {
            "pro": ids({"term": {F.SENTIMENT_LABEL: "positive"}}),
            "con": ids({"term": {F.SENTIMENT_LABEL: "negative"}}),
            "reach": ids({
                "bool": {
                    "filter": [{"range": {F.AUTHOR_FOLLOWERS: {"gte": HIGH_REACH_FOLLOWERS}}}],
                    "must_not": [{"term": {F.SENTIMENT_LABEL: "neutral"}}],
                }
            }),
        },
    }


def candidate_ids(res: dict[str, Any]) -> list[str]:
    aggs = res["aggregations"]
    keys = (b["key"] for side in ("pro", "con", "reach") for b in aggs[side]["ids"]["buckets"])
    return list(dict.fromkeys(keys))


def scores_request(f: Filters, ids: list[str]) -> dict[str, Any]:
    """Phase 2: every input of the score, for the candidates only."""
    per_author = {
        "stance": {"avg": {"field": F.SENTIMENT_SCORE}},
        "followers": {"max": {"field": F.AUTHOR_FOLLOWERS}},
        "engagement": {"sum": {"field": F.INFLUENCE_ENGAGEMENT}},
        "flagged": {"filter": {"exists": {"field": F.FLAGS}}},
    }
    return {
        "size": 0,
        "query": f.query({"terms": {F.AUTHOR_ID: ids}}),
        "aggs": {"both": {"terms": {"field": F.AUTHOR_ID, "size": max(1, len(ids))}, "aggs": per_author}},
    }


def ranked(res: dict[str, Any], limit: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(advocates, detractors): the `limit` highest and lowest scores."""
    rows = []
    for b in res["aggregations"]["both"]["buckets"]:
        stance = b["stance"]["value"] or 0.0
        followers = int(b["followers"]["value"] or 0)
        engagement = int(b["engagement"]["value"] or 0)
        rows.append({
            "author_id": b["key"],
            "username": None,
            "name": None,
            "verified": False,
            "posts": b["doc_count"],
            "stance": round(stance, 4),
            "followers": followers,
            "engagement": engagement,
            "flagged_posts": b["flagged"]["doc_count"],
            "score": stats.influencer_score(
                stance=stance,
                followers=followers,
                engagement=engagement,
                posts=b["doc_count"],
                flagged_posts=b["flagged"]["doc_count"],
            ),
        })
    advocates = sorted((r for r in rows if r["score"] > 0), key=lambda r: (-r["score"], r["author_id"]))
    detractors = sorted((r for r in rows if r["score"] < 0), key=lambda r: (r["score"], r["author_id"]))
    return advocates[:limit], detractors[:limit]


def names_request(f: Filters, ids: list[str]) -> dict[str, Any]:
    """Username, name and badge of each ranked author, from their latest post (one collapsed search)."""
    return {
        "size": len(ids),
        "query": f.query({"terms": {F.AUTHOR_ID: ids}}),
        "collapse": {"field": F.AUTHOR_ID},
        "sort": [{F.CREATED_AT: {"order": "desc"}}],
        "_source": ["author.id", "author.username", "author.name", "author.verified"],
    }


def add_names(res: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    found = {h["_source"]["author"]["id"]: h["_source"]["author"] for h in res["hits"]["hits"]}
    for r in rows:
        author = found.get(r["author_id"], {})
        r.update(
            username=author.get("username"), name=author.get("name"), verified=bool(author.get("verified"))
        )


def run(search: Search, f: Filters, *, limit: int = 10, candidates: int = 600) -> dict[str, Any]:
    ids = candidate_ids(search(candidates_request(f, candidates)))
    scores = search(scores_request(f, ids))
    advocates, detractors = ranked(scores, limit) if ids else ([], [])
    shown = advocates + detractors
    if shown:
        add_names(search(names_request(f, [r["author_id"] for r in shown])), shown)
    return {
        "filters": f.as_params(),
        "formula": stats.influencer_score.__module__ + ".influencer_score",
        "advocates": advocates,
        "detractors": detractors,
        "candidates": len(ids),
    }
