"""/api/posts, /api/live and the posts export: the drill-down query, search with highlights, the
posts newer than a cursor, and every matching post page by page (search_after)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import POLARITIES, Filters, ParamError, check_search_text, parse_ids
from pulse_dashboard.views.common import Search, aspect_query, partial_match

HL_PRE, HL_POST = "\ue000", "\ue001"  # highlight markers; the page escapes text, then swaps them for <mark>
MAX_QUERY_CHARS = 300


@dataclass(frozen=True)
class DrillDown:
    """What a drill-down or a search adds to the filters: the request's own values, checked by `query`."""

    q: str | None = None
    hashtag: str | None = None
    aspect: str | None = None
    aspect_polarity: str | None = None
    aspect_product: str | None = None
    polarity: str | None = None
    author: str | None = None
    brand: str | None = None


def _polarity(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if value not in POLARITIES:
        raise ParamError(name, f"one of {', '.join(POLARITIES)}")
    return value


def query(f: Filters, drill: DrillDown = DrillDown()) -> dict[str, Any]:
    """The posts a drill-down means: the filters plus free text (simple_query_string on fixed fields
    only) and term lookups. Every value is checked here (ParamError names the first bad one)."""
    if drill.author is not None and not (0 < len(drill.author) <= 200):
        raise ParamError("author", "1 to 200 characters")
    aspect_polarity = _polarity("aspect_polarity", drill.aspect_polarity)
    aspect_product = (parse_ids("aspect_product", drill.aspect_product) or [None])[0]
    polarity = _polarity("polarity", drill.polarity)
    brand = (parse_ids("brand", drill.brand) or [None])[0]
    q, hashtag, aspect, author = (drill.q or None, drill.hashtag or None, drill.aspect or None,
                                  drill.author or None)
    must: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    if q:
        check_search_text(q, max_chars=MAX_QUERY_CHARS)
        must.append({
            "simple_query_string": {
                "query": q,
                "fields": list(F.SEARCH_FIELDS),
                "default_operator": "and",
                "lenient": True,
                "flags": "AND|OR|NOT|PHRASE|PREFIX|WHITESPACE|ESCAPE|PRECEDENCE",
            }
        })
    if hashtag:
        tag = hashtag.lstrip("#").strip().lower()
        if not tag or len(tag) > 100:
            raise ParamError("hashtag", "1 to 100 characters")
        extra.append(partial_match(F.HASHTAGS, F.HASHTAGS_PREFIX, tag))
    if aspect or aspect_polarity or aspect_product:
        if aspect is not None and (not aspect.strip() or len(aspect) > 100):
            raise ParamError("aspect", "1 to 100 characters")
        extra.append(aspect_query(aspect.strip().lower() if aspect else None, aspect_polarity, aspect_product,
                                  exact=False))
    if polarity:
        extra.append({"term": {F.SENTIMENT_LABEL: polarity}})
    if author:
        extra.append({
            "bool": {
                "should": [{"term": {F.AUTHOR_ID: author}}, {"term": {F.AUTHOR_USERNAME: author}}],
                "minimum_should_match": 1,
            }
        })
    if brand:
        extra.append({"term": {F.PRODUCTS: brand}})
    found = f.query(*extra)
    if must:
        found["bool"]["must"] = must
    return found


def sort_order(sort: str) -> list[Any]:
    if sort == "recent":
        return [{F.CREATED_AT: {"order": "desc"}}, {"id": "asc"}]
    if sort == "influence":
        return [{F.INFLUENCE_SCORE: {"order": "desc"}}, {F.CREATED_AT: {"order": "desc"}}]
    if sort == "relevance":
        return ["_score", {F.CREATED_AT: {"order": "desc"}}]
    raise ParamError("sort", "one of recent, influence, relevance")


def post_row(hit: dict[str, Any]) -> dict[str, Any]:
    src = hit.get("_source", {})
    author = src.get("author") or {}
    sentiment = src.get("sentiment") or {}
    hl = (hit.get("highlight") or {}).get(F.TEXT)
    return {
        "id": src.get("id", hit.get("_id")),
        "network": src.get("network"),
        "created_at": src.get("created_at"),
        "text": src.get("text", ""),
        "highlight": hl[0] if hl else None,
        "lang": src.get("lang"),
        "author": author.get("username") or author.get("name") or author.get("id"),
        "author_id": author.get("id"),
        "followers": author.get("followers", 0),
        "verified": bool(author.get("verified")),
        "engagement": src.get("engagement") or {},
        "hashtags": src.get("hashtags") or [],
        "products": src.get("products") or [],
        "sentiment": sentiment.get("label"),
        "sentiment_score": sentiment.get("score"),
        "aspects": [
            {
                "aspect": a.get("name"),
                "polarity": a.get("polarity"),
                "term": a.get("term"),
                "product": a.get("product"),
            }
            for a in src.get("aspects") or []
        ],
        "influence": (src.get("influence") or {}).get("score"),
        "flags": src.get("flags") or [],
        "post_type": src.get("post_type"),
    }


def search_request(
    found: dict[str, Any], *, page: int, size: int, sort: str, highlight: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": found,
        "from": (page - 1) * size,
        "size": size,
        "track_total_hits": True,
        "_source": F.POST_SOURCE,
        "sort": sort_order(sort),
    }
    if highlight:
        body["highlight"] = {
            "pre_tags": [HL_PRE],
            "post_tags": [HL_POST],
            "encoder": "default",
            "fields": {F.TEXT: {"number_of_fragments": 0}},
        }
        must = found.get("bool", {}).get("must")
        if must:
            body["highlight"]["highlight_query"] = must[0]
    return body


def search_page(res: dict[str, Any], *, page: int, size: int) -> dict[str, Any]:
    total = res["hits"]["total"]["value"]
    return {
        "total": total,
        "page": page,
        "size": size,
        "pages": math.ceil(total / size) if total else 0,
        "highlight_markers": [HL_PRE, HL_POST],
        "posts": [post_row(h) for h in res["hits"]["hits"]],
    }


def search_posts(
    search: Search,
    found: dict[str, Any],
    *,
    page: int = 1,
    size: int = 20,
    sort: str = "recent",
    highlight: bool = True,
) -> dict[str, Any]:
    body = search_request(found, page=page, size=size, sort=sort, highlight=highlight)
    return search_page(search(body), page=page, size=size)


def live_request(f: Filters, *, after: str | None, size: int) -> dict[str, Any]:
    extra = [{"range": {"version": {"gt": int(after)}}}] if after else []
    return {
        "query": f.query(*extra),
        "size": size,
        "_source": [*F.POST_SOURCE, "version"],
        "sort": [{"version": {"order": "desc"}}],
        "track_total_hits": True,
    }


def live(search: Search, f: Filters, *, after: str | None, size: int = 20) -> dict[str, Any]:
    """Posts indexed after the `after` cursor (a `version` in ms), newest first, plus a new cursor."""
    res = search(live_request(f, after=after, size=size))
    hits = res["hits"]["hits"]
    cursor = after
    if hits:
        cursor = str(max(int(h["_source"].get("version", 0)) for h in hits))
    return {
        "cursor": cursor,
        "new": res["hits"]["total"]["value"] if after else 0,
        "posts": [post_row(h) for h in hits],
    }


def scan_posts(
    search: Search, found: dict[str, Any], *, limit: int, batch: int = 1000
) -> Iterator[dict[str, Any]]:
    """Up to `limit` posts, newest first, with search_after paging (no scroll contexts left open)."""
    sent = 0
    after: list[Any] | None = None
    while sent < limit:
        body: dict[str, Any] = {
            "query": found,
            "size": min(batch, limit - sent),
            "_source": F.POST_SOURCE,
            "sort": [{F.CREATED_AT: "desc"}, {"id": "asc"}],
            "track_total_hits": False,
        }
        if after is not None:
            body["search_after"] = after
        hits = search(body)["hits"]["hits"]
        if not hits:
            return
        for h in hits:
            yield post_row(h)
        sent += len(hits)
        after = hits[-1]["sort"]
