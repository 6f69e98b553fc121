"""What the emerging-topics view may call a topic, and the new aspects it never lists (brands)."""

from __future__ import annotations

from datetime import UTC, datetime

from pulse_common.tracking import load_tracking_config
from pulse_dashboard.filters import Filters
from pulse_dashboard.views import emerging
from pulse_dashboard.views.topic_words import TopicFilter

TRACKING = load_tracking_config()
TOPICS = TopicFilter(TRACKING)


def test_topic_phrases_keep_features_and_issues_and_drop_chatter_sentiment_and_brands():
    # posts of the bundled sample (data/sample)
    got = TOPICS.phrases(
        "Day 8 with my Orbit S5 and updates arrive fast but it gets hot while gaming. "
        "Also the screen has a weird green tint. 😩😤 #orbits5 @OrbitPhones https://t.co/AbCdEf1234"
    )
    assert {"green tint", "screen", "gaming", "updates"} <= got
    assert not {"weird", "weird green tint", "orbit", "s5", "orbits5", "orbitphones", "day", "gets"} & got
    got = TOPICS.phrases(
        "Not gonna lie, I got it to come back. Maybe fine, kind of regret it. The night mode is mine"
    )
    assert got == {"night mode", "night", "mode"}


def test_a_taxonomy_term_is_a_topic_even_when_it_is_a_sentiment_word():
    assert "lag" in TOPICS.phrases("The lag is terrible")  # VADER scores "lag"; the taxonomy names it
    assert "terrible" not in TOPICS.phrases("The lag is terrible")


def test_tracked_brands_aliases_and_hashtags_are_never_new_aspects():
    f = Filters(since=datetime(2026, 11, 10, tzinfo=UTC), until=datetime(2026, 11, 25, tzinfo=UTC))
    body = emerging.counts_request(f, {"recent": ["green tint"], "negative": []}, TRACKING, size=5)
    where = body["aggs"]["new_aspects"]["aggs"]["open"]["filter"]["bool"]
    excluded = set(where["must_not"][0]["terms"]["aspects.name"])
    assert {"orbit", "orbit s5", "orbits5", "nova12", "nova 12 phone", "lumenpro", "lumen"} <= excluded

    def bucket(name: str) -> dict:
        return {"key": name, "doc_count": 3, "neg": {"doc_count": 1}}

    names = ["orbit", "#nova12", "Lumen Pro", "nova 12", "green tint", "tonight", "edge"]
    res = {
        "aggregations": {
            "posts": {"doc_count": 100, "t": {"buckets": {"green tint": {"doc_count": 4}}}},
            "recent": {"doc_count": 10, "t": {"buckets": {"green tint": {"doc_count": 3}}}},
            "negative": {"doc_count": 0},
            "new_aspects": {"open": {"names": {"buckets": [bucket(n) for n in names]}}},
        }
    }
    out = emerging.shape(res, f, TRACKING, TOPICS, size=10)
    assert [a["aspect"] for a in out["new_aspects"]] == ["green tint", "edge"]
    assert [(t["term"], t["docs"], t["bg_docs"]) for t in out["recent"]] == [("green tint", 3, 4)]
    assert out["negative"] == []


def test_a_phrase_mostly_seen_inside_a_longer_topic_gives_way_to_it():
    f = Filters(since=datetime(2026, 11, 10, tzinfo=UTC), until=datetime(2026, 11, 25, tzinfo=UTC))
    hit = {
        "_source": {
            "text": "night mode again",
            "created_at": "2026-11-24T10:00:00Z",
            "sentiment": {"label": "negative"},
        }
    }
    other = {
        "_source": {
            "text": "night out",
            "created_at": "2026-11-24T11:00:00Z",
            "sentiment": {"label": "neutral"},
        }
    }
    got = emerging.candidates([hit] * 4 + [other], f, TOPICS, limit=10)
    assert got["recent"] == ["night mode"]  # "night" (5 posts, 4 of them "night mode") and "mode" give way
    assert got["negative"] == ["night mode"]
