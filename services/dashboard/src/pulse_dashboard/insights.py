"""Every dashboard view as one (or a few) OpenSearch aggregation requests, shaped for the page.

Counting rules (the API tests recompute each of them from the raw documents):
* a post is in a view when it matches the filters (time range on `created_at`, brands = the union
  of `product` and `competitor` over `products`, network, lang) and, unless include_unscored, has
  `scored: true` (a retweet repeats the original's opinion, it is not a new one);
* per-brand figures count a post once for every tracked brand it mentions;
* aspect figures count aspect *mentions* (nested documents), share of voice per aspect counts the
  mentions attributed to a brand (`aspects.product`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from opensearchpy import OpenSearch

from pulse_common.tracking import TrackingConfig
from pulse_dashboard import fields as F  # noqa: N812 - F.<FIELD> reads like the mapping
from pulse_dashboard import stats
from pulse_dashboard.filters import INTERVALS, Filters, ParamError, check_search_text, iso, pick_interval

HL_PRE, HL_POST = "\ue000", "\ue001"  # highlight markers; the page escapes text, then swaps them for <mark>
POLARITIES = ("positive", "neutral", "negative")
MAX_QUERY_CHARS = 300
EDGE_NGRAM_MAX_CHARS = 20  # max_gram of pulse_edge_ngram in mappings/posts.template.json
HIGH_REACH_FOLLOWERS = 1_000
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
QUOTE_SOURCE = ["id", "text", "author.username", "created_at", "sentiment.label", "network"]
SERIES_FILTER_PATH = "aggregations.**.key,aggregations.**.doc_count"


def is_topic_term(term: str) -> bool:
    """Worth showing as a topic: has a letter, is not a URL/domain fragment, not a lone character."""
    return len(term) > 1 and any(c.isalpha() for c in term) and not any(c in term for c in "./:")


def _sentiment_counts(buckets: list[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(POLARITIES, 0)
    for b in buckets:
        if b["key"] in counts:
            counts[b["key"]] = b["doc_count"]
    return counts


def _with_net(counts: dict[str, int], total: int | None = None) -> dict[str, Any]:
    total = sum(counts.values()) if total is None else total
    return {**counts, "total": total, **stats.net_sentiment(counts["positive"], counts["negative"], total)}


def _ts(key_ms: int) -> str:
    return iso(datetime.fromtimestamp(key_ms / 1000, tz=UTC))


def _quote(hit: dict[str, Any]) -> dict[str, Any]:
    src = hit.get("_source", {})
    return {
        "id": src.get("id", hit.get("_id")),
        "text": src.get("text", ""),
        "author": (src.get("author") or {}).get("username"),
        "created_at": src.get("created_at"),
        "network": src.get("network"),
        "sentiment": (src.get("sentiment") or {}).get("label"),
    }


class Insights:
    def __init__(
        self,
        client: OpenSearch,
        alias: str,
        tracking: TrackingConfig,
        *,
        timeout_s: float = 10.0,
        sample_docs: int = SAMPLE_DOCS,
    ):
        self.client = client
        self.sample_docs = sample_docs
        self.alias = alias
        self.tracking = tracking
        self.timeout = f"{int(timeout_s * 1000)}ms"

    # -- plumbing -----------------------------------------------------------------------------

    def _search(self, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        return self.client.search(
            index=self.alias,
            body=body,
            params={"timeout": self.timeout, **params},
            request_timeout=float(self.timeout[:-2]) / 1000 + 2,
        )

    def brand_names(self) -> dict[str, str]:
        return {b.id: b.name for b in self.tracking.brands}

    def _brand_scope(self, f: Filters) -> list[str]:
        return f.brands or [b.id for b in self.tracking.brands]

    # -- meta / overview ----------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        body = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "first": {"min": {"field": F.CREATED_AT}},
                "last": {"max": {"field": F.CREATED_AT}},
                "networks": {"terms": {"field": F.NETWORK, "size": 10}},
                "langs": {"terms": {"field": F.LANG, "size": 30}},
            },
        }
        res = self._search(body)
        aggs = res["aggregations"]
        t = self.tracking
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

    def overview(self, f: Filters) -> dict[str, Any]:
        brands = self._brand_scope(f)
        body = {
            "size": 0,
            "track_total_hits": True,
            "query": f.query(),
            "aggs": {
                "sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}},
                "authors": {"cardinality": {"field": F.AUTHOR_ID}},
                "brands": {
                    "terms": {"field": F.PRODUCTS, "size": len(brands), "include": brands},
                    "aggs": {"sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}}},
                },
                "flagged": {"filter": {"exists": {"field": F.FLAGS}}},
            },
        }
        res = self._search(body)
        aggs = res["aggregations"]
        total = res["hits"]["total"]["value"]
        names = self.brand_names()
        by_brand = {
            b["key"]: _with_net(_sentiment_counts(b["sentiment"]["buckets"]), b["doc_count"])
            for b in aggs["brands"]["buckets"]
        }
        return {
            "filters": f.as_params(),
            "posts": total,
            "authors": aggs["authors"]["value"],
            "flagged_posts": aggs["flagged"]["doc_count"],
            "sentiment": _with_net(_sentiment_counts(aggs["sentiment"]["buckets"]), total),
            "brands": [
                {
                    "id": b,
                    "name": names.get(b, b),
                    "kind": self.tracking.brand_kind(b),
                    **by_brand.get(b, _with_net(dict.fromkeys(POLARITIES, 0), 0)),
                }
                for b in brands
            ],
        }

    # -- volume and sentiment over time -------------------------------------------------------

    def _histogram(
        self, f: Filters, interval: str | None, *, max_auto: int = 120, sparse: bool = False
    ) -> tuple[dict[str, Any], str, int]:
        """A date_histogram over the filter range. `sparse`: only non-empty buckets (the caller lays
        them on `_bucket_keys`), for histograms nested under many terms buckets, where the empty
        ones would be most of the response."""
        name, seconds = pick_interval(f, interval, max_auto=max_auto)
        hist: dict[str, Any] = {"field": F.CREATED_AT, "fixed_interval": INTERVALS[name][0]}
        if sparse:
            hist["min_doc_count"] = 1
        else:
            hist["min_doc_count"] = 0
            hist["extended_bounds"] = {"min": iso(f.since), "max": iso(f.until - timedelta(milliseconds=1))}
        return hist, name, seconds

    def timeline(self, f: Filters, interval: str | None = None) -> dict[str, Any]:
        brands = self._brand_scope(f)
        hist, name, seconds = self._histogram(f, interval)
        body = {
            "size": 0,
            "query": f.query(),
            "aggs": {
                "t": {
                    "date_histogram": hist,
                    "aggs": {
                        "sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}},
                        "brands": {
                            "terms": {"field": F.PRODUCTS, "size": len(brands), "include": brands},
                            "aggs": {"sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}}},
                        },
                    },
                }
            },
        }
        res = self._search(body)
        buckets = res["aggregations"]["t"]["buckets"]
        times = [_ts(b["key"]) for b in buckets]
        overall = [_with_net(_sentiment_counts(b["sentiment"]["buckets"]), b["doc_count"]) for b in buckets]
        per_brand: dict[str, list[dict[str, Any]]] = {}
        for b in brands:
            series = []
            for bucket in buckets:
                hit = next((x for x in bucket["brands"]["buckets"] if x["key"] == b), None)
                counts = (
                    _sentiment_counts(hit["sentiment"]["buckets"]) if hit else dict.fromkeys(POLARITIES, 0)
                )
                series.append({**counts, "total": hit["doc_count"] if hit else 0})
            per_brand[b] = series
        names = self.brand_names()
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
            "interval": name,
            "interval_seconds": seconds,
            "times": times,
            "overall": overall,
            "brands": [
                {
                    "id": b,
                    "name": names.get(b, b),
                    "kind": self.tracking.brand_kind(b),
                    "series": per_brand[b],
                }
                for b in brands
            ],
            "spikes": sorted(spike_list, key=lambda s: s["t"]),
        }

    # -- aspects ------------------------------------------------------------------------------

    def aspects(self, f: Filters, *, quotes: int = 2, trend: bool = True, size: int = 30) -> dict[str, Any]:
        quote_aggs = (
            {
                f"q_{pol}": {
                    "filter": {"term": {F.ASPECT_POLARITY: pol}},
                    "aggs": {
                        "posts": {
                            "reverse_nested": {},
                            "aggs": {
                                "top": {
                                    "top_hits": {
                                        "size": quotes,
                                        "_source": QUOTE_SOURCE,
                                        "sort": [
                                            {F.INFLUENCE_SCORE: {"order": "desc"}},
                                            {F.CREATED_AT: {"order": "desc"}},
                                        ],
                                    }
                                }
                            },
                        }
                    },
                }
                for pol in ("positive", "negative")
            }
            if quotes > 0
            else {}
        )
        aggs: dict[str, Any] = {
            "a": {
                "nested": {"path": F.ASPECTS},
                "aggs": {
                    "names": {
                        "terms": {"field": F.ASPECT_NAME, "size": size},
                        "aggs": {
                            "polarity": {"terms": {"field": F.ASPECT_POLARITY, "size": 3}},
                            "score": {"avg": {"field": F.ASPECT_SCORE}},
                            "posts": {"reverse_nested": {}},
                            **quote_aggs,
                        },
                    }
                },
            }
        }
        hist_name = None
        if trend:
            # nested first, then back to the posts per polarity: posts per day (not mentions), and
            # several times cheaper than a date_histogram with a nested aggregation in every bucket
            # a sparkline needs few points
            hist, hist_name, hist_seconds = self._histogram(f, None, max_auto=40, sparse=True)
            names_aggs = aggs["a"]["aggs"]["names"]["aggs"]
            names_aggs["trend"] = {
                "filter": {"terms": {F.ASPECT_POLARITY: ["positive", "negative"]}},
                "aggs": {
                    "pol": {
                        "terms": {"field": F.ASPECT_POLARITY, "size": 2},
                        "aggs": {"posts": {"reverse_nested": {}, "aggs": {"t": {"date_histogram": hist}}}},
                    }
                },
            }
        res = self._search({"size": 0, "query": f.query(), "aggs": aggs})
        taxonomy = {a.id: a for a in self.tracking.aspects}
        rows = []
        for b in res["aggregations"]["a"]["names"]["buckets"]:
            counts = _sentiment_counts(b["polarity"]["buckets"])
            aspect = taxonomy.get(b["key"])
            row = {
                "aspect": b["key"],
                "name": aspect.name if aspect else b["key"],
                "category": aspect.category if aspect else None,
                "in_taxonomy": aspect is not None,
                "mentions": b["doc_count"],
                "posts": b["posts"]["doc_count"],
                "avg_score": round(b["score"]["value"] or 0.0, 4),
                **_with_net(counts, b["doc_count"]),
                "quotes": {
                    pol: [_quote(h) for h in b[f"q_{pol}"]["posts"]["top"]["hits"]["hits"]]
                    for pol in ("positive", "negative")
                }
                if quotes > 0
                else {},
            }
            rows.append(row)
        out: dict[str, Any] = {"filters": f.as_params(), "aspects": rows}
        if trend:
            times = _bucket_keys(f, hist_seconds)
            out["trend"] = {"interval": hist_name, "times": [], "series": {}}
            for b in res["aggregations"]["a"]["names"]["buckets"]:
                per_pol = {p["key"]: p["posts"]["t"]["buckets"] for p in b["trend"]["pol"]["buckets"]}
                counts = {
                    pol: {x["key"]: x["doc_count"] for x in per_pol.get(pol, [])}
                    for pol in ("positive", "negative")
                }
                out["trend"]["series"][b["key"]] = counts  # filled below once the times are known
            for aspect, counts in out["trend"]["series"].items():
                out["trend"]["series"][aspect] = [
                    [counts["positive"].get(t, 0), counts["negative"].get(t, 0), 0] for t in times
                ]
            out["trend"]["times"] = [_ts(t) for t in times]
        return out

    # -- share of voice -----------------------------------------------------------------------

    def share_of_voice(self, f: Filters) -> dict[str, Any]:
        brands = self._brand_scope(f)
        body = {
            "size": 0,
            "query": f.query(),
            "aggs": {
                "brands": {
                    "terms": {"field": F.PRODUCTS, "size": len(brands), "include": brands},
                    "aggs": {"sentiment": {"terms": {"field": F.SENTIMENT_LABEL, "size": 3}}},
                },
                "a": {
                    "nested": {"path": F.ASPECTS},
                    "aggs": {
                        "attributed": {
                            "filter": {"terms": {F.ASPECT_PRODUCT: brands}},
                            "aggs": {
                                "names": {
                                    "terms": {"field": F.ASPECT_NAME, "size": 30},
                                    "aggs": {
                                        "brands": {
                                            "terms": {"field": F.ASPECT_PRODUCT, "size": len(brands)},
                                            "aggs": {
                                                "polarity": {"terms": {"field": F.ASPECT_POLARITY, "size": 3}}
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    },
                },
            },
        }
        res = self._search(body)
        aggs = res["aggregations"]
        names = self.brand_names()
        found = {b["key"]: b for b in aggs["brands"]["buckets"]}
        mentions_total = sum(b["doc_count"] for b in found.values())
        overall = []
        for b in brands:
            bucket = found.get(b)
            counts = (
                _sentiment_counts(bucket["sentiment"]["buckets"]) if bucket else dict.fromkeys(POLARITIES, 0)
            )
            n = bucket["doc_count"] if bucket else 0
            overall.append(
                {
                    "id": b,
                    "name": names.get(b, b),
                    "kind": self.tracking.brand_kind(b),
                    "share": round(n / mentions_total, 4) if mentions_total else 0.0,
                    **_with_net(counts, n),
                }
            )
        taxonomy = {a.id: a.name for a in self.tracking.aspects}
        per_aspect = []
        for a in aggs["a"]["attributed"]["names"]["buckets"]:
            cells = {x["key"]: x for x in a["brands"]["buckets"]}
            row = {
                "aspect": a["key"],
                "name": taxonomy.get(a["key"], a["key"]),
                "mentions": a["doc_count"],
                "brands": [],
            }
            for b in brands:
                cell = cells.get(b)
                counts = (
                    _sentiment_counts(cell["polarity"]["buckets"]) if cell else dict.fromkeys(POLARITIES, 0)
                )
                n = cell["doc_count"] if cell else 0
                row["brands"].append(
                    {
                        "id": b,
                        "share": round(n / a["doc_count"], 4) if a["doc_count"] else 0.0,
                        **_with_net(counts, n),
                    }
                )
            per_aspect.append(row)
        return {
            "filters": f.as_params(),
            "mentions": mentions_total,
            "brands": overall,
            "aspects": per_aspect,
        }

    # -- influencers --------------------------------------------------------------------------

    def influencers(self, f: Filters, *, limit: int = 10, candidates: int = 600) -> dict[str, Any]:
        """Advocates and detractors; see stats.influencer_score for the documented formula.

        Candidates: the `candidates` authors with the most positive posts, the `candidates` with the
        most negative posts and the `candidates` most active opinionated accounts with at least
        HIGH_REACH_FOLLOWERS followers (one post from a large account can outrank a regular's
        many); the exact score is then computed for every candidate.
        """
        per_author = {
            "stance": {"avg": {"field": F.SENTIMENT_SCORE}},
            "followers": {"max": {"field": F.AUTHOR_FOLLOWERS}},
            "engagement": {"sum": {"field": F.INFLUENCE_ENGAGEMENT}},
            "flagged": {"filter": {"exists": {"field": F.FLAGS}}},
        }
        # Phase 1: the candidate ids: counting is much cheaper than ranking every author by a metric.
        phase1 = {
            "size": 0,
            "query": f.query(),
            "aggs": {
                "pro": {
                    "filter": {"term": {F.SENTIMENT_LABEL: "positive"}},
                    "aggs": {"ids": {"terms": {"field": F.AUTHOR_ID, "size": candidates}}},
                },
                "con": {
                    "filter": {"term": {F.SENTIMENT_LABEL: "negative"}},
                    "aggs": {"ids": {"terms": {"field": F.AUTHOR_ID, "size": candidates}}},
                },
                "reach": {
                    "filter": {
                        "bool": {
                            "filter": [{"range": {F.AUTHOR_FOLLOWERS: {"gte": HIGH_REACH_FOLLOWERS}}}],
                            "must_not": [{"term": {F.SENTIMENT_LABEL: "neutral"}}],
                        }
                    },
                    "aggs": {"ids": {"terms": {"field": F.AUTHOR_ID, "size": candidates}}},
                },
            },
        }
        first = self._search(phase1)["aggregations"]
        ids = list(
            dict.fromkeys(b["key"] for side in ("pro", "con", "reach") for b in first[side]["ids"]["buckets"])
        )
        # Phase 2: every input of the score, for the candidates only.
        body = {
            "size": 0,
            "query": f.query({"terms": {F.AUTHOR_ID: ids}}),
            "aggs": {"both": {"terms": {"field": F.AUTHOR_ID, "size": max(1, len(ids))}, "aggs": per_author}},
        }
        res = self._search(body)
        seen: dict[str, dict[str, Any]] = {}
        for b in res["aggregations"]["both"]["buckets"] if ids else []:
            stance = b["stance"]["value"] or 0.0
            followers = int(b["followers"]["value"] or 0)
            engagement = int(b["engagement"]["value"] or 0)
            seen[b["key"]] = {
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
            }
        rows = list(seen.values())
        advocates = sorted((r for r in rows if r["score"] > 0), key=lambda r: (-r["score"], r["author_id"]))[
            :limit
        ]
        detractors = sorted((r for r in rows if r["score"] < 0), key=lambda r: (r["score"], r["author_id"]))[
            :limit
        ]
        self._author_names(f, advocates + detractors)
        return {
            "filters": f.as_params(),
            "formula": stats.influencer_score.__module__ + ".influencer_score",
            "advocates": advocates,
            "detractors": detractors,
            "candidates": len(ids),
        }

    def _author_names(self, f: Filters, rows: list[dict[str, Any]]) -> None:
        """Username, name and badge of each ranked author, from their latest post (one collapsed search)."""
        if not rows:
            return
        ids = [r["author_id"] for r in rows]
        res = self._search(
            {
                "size": len(ids),
                "query": f.query({"terms": {F.AUTHOR_ID: ids}}),
                "collapse": {"field": F.AUTHOR_ID},
                "sort": [{F.CREATED_AT: {"order": "desc"}}],
                "_source": ["author.id", "author.username", "author.name", "author.verified"],
            }
        )
        found = {h["_source"]["author"]["id"]: h["_source"]["author"] for h in res["hits"]["hits"]}
        for r in rows:
            author = found.get(r["author_id"], {})
            r.update(
                username=author.get("username"),
                name=author.get("name"),
                verified=bool(author.get("verified")),
            )

    # -- emerging topics ----------------------------------------------------------------------

    def _known_terms(self) -> set[str]:
        known: set[str] = set()
        for a in self.tracking.aspects:
            for term in a.terms:
                known.update(term.lower().split())
        for b in self.tracking.brands:
            for term in b.terms:
                known.update(term.lower().split())
            known.update(b.hashtags)
        return known

    def emerging(self, f: Filters, *, size: int = 15) -> dict[str, Any]:
        """Terms unusually frequent in the latest part of the range, and in negative posts.

        `recent` = the last quarter of the range (at least one hour), `negative` = the negative
        posts of the range, each against every indexed post (the index's own term statistics: a
        background filter would cost one count per candidate term); `new_aspects` = the
        open-vocabulary aspects the enricher found outside the taxonomy.
        """
        span = f.until - f.since
        recent_start = f.until - max(span / 4, timedelta(hours=1))
        sig = {
            "field": F.TEXT_TERMS,
            "source_fields": [F.TEXT],
            "size": size * 3,  # candidates: re-scored below, and is_topic_term drops some
            "min_doc_count": 3,
            "exclude": STOPWORDS,
        }
        body = {
            "size": 0,
            "query": f.query(),
            "aggs": {
                "recent": {
                    "filter": {"range": {F.CREATED_AT: {"gte": iso(max(recent_start, f.since))}}},
                    "aggs": {
                        "s": {
                            "sampler": {"shard_size": self.sample_docs},
                            "aggs": {"terms": {"significant_text": sig}},
                        }
                    },
                },
                "negative": {
                    "filter": {"term": {F.SENTIMENT_LABEL: "negative"}},
                    "aggs": {
                        "s": {
                            "sampler": {"shard_size": self.sample_docs},
                            "aggs": {"terms": {"significant_text": sig}},
                        }
                    },
                },
                "posts": {"global": {}},  # every indexed post: the background's true size
                "new_aspects": {
                    "nested": {"path": F.ASPECTS},
                    "aggs": {
                        "open": {
                            "filter": {"term": {F.ASPECT_IN_TAXONOMY: False}},
                            "aggs": {
                                "names": {
                                    "terms": {"field": F.ASPECT_NAME, "size": size},
                                    "aggs": {"neg": {"filter": {"term": {F.ASPECT_POLARITY: "negative"}}}},
                                }
                            },
                        }
                    },
                },
            },
        }
        res = self._search(body)
        aggs = res["aggregations"]
        known = self._known_terms()

        # OpenSearch's background size counts nested (aspect, brand) Lucene docs too, which makes every
        # term look rarer than it is; re-score with JLH on the true number of posts and keep only
        # terms really over-represented in the foreground.
        posts = max(1, aggs["posts"]["doc_count"])

        def shape(agg: dict[str, Any], fg_total: int) -> list[dict[str, Any]]:
            rows = []
            for b in agg["s"]["terms"]["buckets"]:
                fg_p = b["doc_count"] / max(1, agg["s"]["doc_count"])
                bg_p = b["bg_count"] / posts
                score = (fg_p - bg_p) * (fg_p / bg_p) if bg_p > 0 else 0.0
                if score > 0 and is_topic_term(b["key"]):
                    rows.append(
                        {
                            "term": b["key"],
                            "score": round(score, 4),
                            "docs": b["doc_count"],
                            "bg_docs": b["bg_count"],
                            "known": b["key"] in known,
                            "fg_total": fg_total,
                        }
                    )
            rows.sort(key=lambda r: (-r["score"], r["term"]))
            return rows[:size]

        return {
            "filters": f.as_params(),
            "recent_since": iso(max(recent_start, f.since)),
            "recent": shape(aggs["recent"], aggs["recent"]["doc_count"]),
            "negative": shape(aggs["negative"], aggs["negative"]["doc_count"]),
            "new_aspects": [
                {"aspect": b["key"], "mentions": b["doc_count"], "negative": b["neg"]["doc_count"]}
                for b in aggs["new_aspects"]["open"]["names"]["buckets"]
            ],
        }

    # -- aspect spike alerts ------------------------------------------------------------------

    def alerts(
        self,
        f: Filters,
        *,
        interval: str | None = None,
        limit: int = 8,
        threshold: float = stats.Z_THRESHOLD,
        min_count: int = stats.MIN_COUNT,
    ) -> dict[str, Any]:
        """Per product × aspect × polarity, a z-score spike detector over the histogram (see stats).

        The series count posts (a post with two negative battery mentions for one product counts
        once). Nested first, then back to the posts: several times cheaper than a date_histogram
        with a nested aggregation inside every time bucket.
        """
        hist, name, seconds = self._histogram(f, interval, sparse=True)
        per_series = {"posts": {"reverse_nested": {}, "aggs": {"t": {"date_histogram": hist}}}}
        body = {
            "size": 0,
            "query": f.query(),
            "aggs": {
                "a": {
                    "nested": {"path": F.ASPECTS},
                    "aggs": {
                        "opinionated": {
                            "filter": {"terms": {F.ASPECT_POLARITY: ["positive", "negative"]}},
                            "aggs": {
                                "brand": {
                                    "terms": {
                                        "field": F.ASPECT_PRODUCT,
                                        "size": len(self.tracking.brands) + 5,
                                        "missing": "_none",
                                    },
                                    "aggs": {
                                        "names": {
                                            "terms": {"field": F.ASPECT_NAME, "size": 30},
                                            "aggs": {
                                                "polarity": {
                                                    "terms": {"field": F.ASPECT_POLARITY, "size": 2},
                                                    "aggs": per_series,
                                                }
                                            },
                                        }
                                    },
                                }
                            },
                        }
                    },
                }
            },
        }
        # Tens of thousands of histogram buckets: leave out what is not read (their formatted
        # dates are half the response). filter_path also drops empty arrays, hence the .get()s.
        res = self._search(body, filter_path=SERIES_FILTER_PATH)
        times = _bucket_keys(f, seconds)
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
            # One alert per series: the latest run of consecutive spike buckets, at its peak.
            run: list[stats.Spike] = []
            for s in stats.spikes(values, threshold=threshold, min_count=min_count):
                run = [*run, s] if run and s.index == run[-1].index + 1 else [s]
            if run:
                s = max(run, key=lambda x: x.z)
                found.append(
                    {
                        "product": None if brand == "_none" else brand,
                        "aspect": aspect,
                        "polarity": polarity,
                        "t": _ts(times[s.index]),
                        "t_ms": times[s.index],
                        "count": int(s.value),
                        "baseline": s.baseline,
                        "z": s.z,
                        "series": values,
                    }
                )
        found.sort(key=lambda a: (-a["t_ms"], -a["z"]))
        found = found[:limit]
        self._explain(f, found, seconds)
        for a in found:
            a.pop("t_ms")
        return {
            "filters": f.as_params(),
            "interval": name,
            "times": [_ts(t) for t in times],
            "threshold": threshold,
            "min_count": min_count,
            "alerts": found,
        }

    def _explain(self, f: Filters, alerts: list[dict[str, Any]], seconds: int) -> None:
        """Each alert's top terms and sample posts, all in one request (a filter bucket per alert).

        Top terms: the opinion words that decided the polarity (`aspects.opinions`), the surface
        forms people used (`aspects.term`) and hashtags unusually frequent in those posts.
        """
        if not alerts:
            return
        aggs: dict[str, Any] = {}
        for i, a in enumerate(alerts):
            start = datetime.fromtimestamp(a["t_ms"] / 1000, tz=UTC)
            window = f.with_range(max(start, f.since), min(start + timedelta(seconds=seconds), f.until))
            cond = _aspect_conditions(a["aspect"], a["polarity"], a["product"], exact=True)
            aggs[f"a{i}"] = {
                "filter": window.query({"nested": {"path": F.ASPECTS, "query": {"bool": {"filter": cond}}}}),
                "aggs": {
                    "samples": {
                        "top_hits": {
                            "size": 3,
                            "_source": QUOTE_SOURCE,
                            "sort": [
                                {F.INFLUENCE_SCORE: {"order": "desc"}},
                                {F.CREATED_AT: {"order": "desc"}},
                            ],
                        }
                    },
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
        # The top-level query is the union of the windows: each filter bucket then only tests the
        # posts of some alert's window, not every indexed post.
        windows = {"bool": {"should": [a["filter"] for a in aggs.values()], "minimum_should_match": 1}}
        res = self._search({"size": 0, "query": windows, "aggs": aggs})["aggregations"]
        for i, alert in enumerate(alerts):
            r = res[f"a{i}"]
            match = r["asp"]["match"]
            words = [b["key"] for b in match["opinions"]["buckets"]]
            words += [b["key"] for b in match["terms"]["buckets"]]
            words += ["#" + b["key"] for b in r["tags"]["buckets"]]
            alert["top_terms"] = list(dict.fromkeys(w for w in words if w != alert["aspect"]))[:6]
            alert["samples"] = [_quote(h) for h in r["samples"]["hits"]["hits"]]

    # -- posts: drill-down, search, live, export ---------------------------------------------

    def posts_query(
        self,
        f: Filters,
        *,
        q: str | None = None,
        hashtag: str | None = None,
        aspect: str | None = None,
        aspect_polarity: str | None = None,
        aspect_product: str | None = None,
        polarity: str | None = None,
        author: str | None = None,
        brand: str | None = None,
    ) -> dict[str, Any]:
        must: list[dict[str, Any]] = []
        extra: list[dict[str, Any]] = []
        if q:
            check_search_text(q, max_chars=MAX_QUERY_CHARS)
            must.append(
                {
                    "simple_query_string": {
                        "query": q,
                        "fields": list(F.SEARCH_FIELDS),
                        "default_operator": "and",
                        "lenient": True,
                        "flags": "AND|OR|NOT|PHRASE|PREFIX|WHITESPACE|ESCAPE|PRECEDENCE",
                    }
                }
            )
        if hashtag:
            tag = hashtag.lstrip("#").strip().lower()
            if not tag or len(tag) > 100:
                raise ParamError("hashtag", "1 to 100 characters")
            extra.append(partial_match(F.HASHTAGS, F.HASHTAGS_PREFIX, tag))
        if aspect or aspect_polarity or aspect_product:
            if aspect is not None and (not aspect.strip() or len(aspect) > 100):
                raise ParamError("aspect", "1 to 100 characters")
            extra.append(
                _aspect_query(
                    aspect.strip().lower() if aspect else None, aspect_polarity, aspect_product, exact=False
                )
            )
        if polarity:
            extra.append({"term": {F.SENTIMENT_LABEL: polarity}})
        if author:
            extra.append(
                {
                    "bool": {
                        "should": [{"term": {F.AUTHOR_ID: author}}, {"term": {F.AUTHOR_USERNAME: author}}],
                        "minimum_should_match": 1,
                    }
                }
            )
        if brand:
            extra.append({"term": {F.PRODUCTS: brand}})
        query = f.query(*extra)
        if must:
            query["bool"]["must"] = must
        return query

    def search_posts(
        self,
        query: dict[str, Any],
        *,
        page: int = 1,
        size: int = 20,
        sort: str = "recent",
        highlight: bool = True,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "query": query,
            "from": (page - 1) * size,
            "size": size,
            "track_total_hits": True,
            "_source": F.POST_SOURCE,
            "sort": _sort(sort),
        }
        if highlight:
            body["highlight"] = {
                "pre_tags": [HL_PRE],
                "post_tags": [HL_POST],
                "encoder": "default",
                "fields": {F.TEXT: {"number_of_fragments": 0}},
                "highlight_query": query.get("bool", {}).get("must", [{"match_none": {}}])[0]
                if query.get("bool", {}).get("must")
                else None,
            }
            if body["highlight"]["highlight_query"] is None:
                del body["highlight"]["highlight_query"]
        res = self._search(body)
        total = res["hits"]["total"]["value"]
        return {
            "total": total,
            "page": page,
            "size": size,
            "pages": math.ceil(total / size) if total else 0,
            "highlight_markers": [HL_PRE, HL_POST],
            "posts": [_post_row(h) for h in res["hits"]["hits"]],
        }

    def live(self, f: Filters, *, after: str | None, size: int = 20) -> dict[str, Any]:
        """Posts indexed after the `after` cursor (a `version` in ms), newest first, plus a new cursor."""
        extra = []
        if after:
            extra.append({"range": {"version": {"gt": int(after)}}})
        body = {
            "query": f.query(*extra),
            "size": size,
            "_source": [*F.POST_SOURCE, "version"],
            "sort": [{"version": {"order": "desc"}}],
            "track_total_hits": True,
        }
        res = self._search(body)
        hits = res["hits"]["hits"]
        cursor = after
        if hits:
            cursor = str(max(int(h["_source"].get("version", 0)) for h in hits))
        return {
            "cursor": cursor,
            "new": res["hits"]["total"]["value"] if after else 0,
            "posts": [_post_row(h) for h in hits],
        }

    def scan_posts(self, query: dict[str, Any], *, limit: int, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Up to `limit` posts, newest first, with search_after paging (no scroll contexts left open)."""
        sent = 0
        after: list[Any] | None = None
        while sent < limit:
            body: dict[str, Any] = {
                "query": query,
                "size": min(batch, limit - sent),
                "_source": F.POST_SOURCE,
                "sort": [{F.CREATED_AT: "desc"}, {"id": "asc"}],
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)["hits"]["hits"]
            if not hits:
                return
            for h in hits:
                yield _post_row(h)
            sent += len(hits)
            after = hits[-1]["sort"]


def _sort(sort: str) -> list[Any]:
    if sort == "recent":
        return [{F.CREATED_AT: {"order": "desc"}}, {"id": "asc"}]
    if sort == "influence":
        return [{F.INFLUENCE_SCORE: {"order": "desc"}}, {F.CREATED_AT: {"order": "desc"}}]
    if sort == "relevance":
        return ["_score", {F.CREATED_AT: {"order": "desc"}}]
    raise ParamError("sort", "one of recent, influence, relevance")


def _bucket_keys(f: Filters, seconds: int) -> list[int]:
    """The epoch-ms keys of a fixed_interval date_histogram over [since, until) (buckets start at epoch)."""
    step = seconds * 1000
    first = int(f.since.timestamp() * 1000) // step * step
    last = (int(f.until.timestamp() * 1000) - 1) // step * step
    return list(range(first, last + 1, step))


def partial_match(keyword_field: str, ngram_field: str, value: str) -> dict[str, Any]:
    """Values of `keyword_field` that start with `value` (case- and accent-insensitive), as one term
    lookup in its edge-n-gram subfield: never a `prefix` query, which walks every term of the field.
    The n-grams stop at EDGE_NGRAM_MAX_CHARS, so a longer value matches the whole keyword exactly."""
    if len(value) <= EDGE_NGRAM_MAX_CHARS:
        return {"match": {ngram_field: {"query": value}}}
    return {"term": {keyword_field: value}}


def _aspect_conditions(aspect: str | None, polarity: str | None, product: str | None, *, exact: bool) -> list:
    must: list[dict[str, Any]] = []
    if aspect:
        if exact:
            must.append({"term": {F.ASPECT_NAME: aspect}})
        else:
            must.append(partial_match(F.ASPECT_NAME, F.ASPECT_NAME_PREFIX, aspect))
    if polarity:
        must.append({"term": {F.ASPECT_POLARITY: polarity}})
    if product:
        must.append({"term": {F.ASPECT_PRODUCT: product}})
    elif product is None and exact:
        must.append({"bool": {"must_not": {"exists": {"field": F.ASPECT_PRODUCT}}}})
    return must


def _aspect_query(
    aspect: str | None, polarity: str | None, product: str | None, *, exact: bool
) -> dict[str, Any]:
    return {
        "nested": {
            "path": F.ASPECTS,
            "query": {"bool": {"filter": _aspect_conditions(aspect, polarity, product, exact=exact)}},
        }
    }


def _post_row(hit: dict[str, Any]) -> dict[str, Any]:
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
