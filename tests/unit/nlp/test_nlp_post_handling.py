"""Whole-post behaviour: retweets, empty, emoji-only, non-English, entities, purity, version."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pulse_common.schema import Author, EnrichedPost


def test_a_retweet_is_not_scored_again(enricher, make_post):
    out = enricher.enrich(make_post("Nova 12 camera is amazing", post_type="retweet", referenced_id="x:99"))
    assert out.scored is False
    assert out.sentiment.label == "neutral" and out.sentiment.confidence == 0.0
    assert out.aspects == []
    assert out.products == ["nova"]  # still counts as engagement with the brand


def test_a_manual_rt_prefix_is_treated_as_a_retweet(enricher, make_post):
    out = enricher.enrich(make_post("RT @bob: Nova 12 battery is terrible"))
    assert out.post_type == "retweet"
    assert out.scored is False


def test_replies_and_quotes_are_scored(enricher, make_post):
    out = enricher.enrich(make_post("@bob the Nova 12 camera is awful", post_type="reply"))
    assert out.scored is True
    assert out.sentiment.label == "negative"


def test_empty_text_gives_a_neutral_post(enricher, make_post):
    out = enricher.enrich(make_post(""))
    assert out.sentiment.label == "neutral"
    assert out.aspects == [] and out.brands == [] and out.emojis == []
    assert out.text_normalized == ""


def test_an_emoji_only_post_keeps_its_emojis_and_sentiment(enricher, make_post):
    out = enricher.enrich(make_post("😍😍🔥"))
    assert out.emojis == ["😍", "😍", "🔥"]
    assert out.sentiment.label == "positive"
    assert out.lang == "und"


def test_non_english_text_is_not_scored_with_the_english_models(enricher, make_post):
    out = enricher.enrich(make_post("La batería del Nova 12 es muy mala y la cámara no me gusta"))
    assert out.lang == "es"
    assert "unsupported_language" in out.flags
    assert out.sentiment.label == "neutral" and out.aspects == []
    assert out.products == ["nova"]


def test_the_networks_language_tag_is_trusted(enricher, make_post):
    out = enricher.enrich(make_post("Nova 12 camera great", lang="de"))
    assert out.lang == "de"
    assert enricher.enrich(make_post("Nova 12 camera great", lang="und")).lang == "en"


def test_html_entities_are_unescaped_and_entities_extracted(enricher, make_post):
    out = enricher.enrich(make_post("Q&amp;A with @NovaTeam about #Nova12 &gt; https://ex.com/a?b=1 "))
    assert out.text_normalized == "Q&A with @NovaTeam about #Nova12 > https://ex.com/a?b=1"
    assert out.mentions == ["NovaTeam"]
    assert out.hashtags == ["nova12"]
    assert out.urls == ["https://ex.com/a?b=1"]


def test_enrich_is_pure(enricher, make_post):
    post = make_post("The Nova 12 screen is great but the price is steep")
    first = enricher.enrich(post).model_dump()
    second = enricher.enrich(post).model_dump()
    assert first == second
    assert post.model_dump()["text"] == "The Nova 12 screen is great but the price is steep"


def test_the_result_is_a_valid_enriched_post(enricher, make_post):
    out = enricher.enrich(
        make_post("Nova 12 battery life is great 🔋"), ingested_at=datetime(2026, 11, 20, tzinfo=UTC)
    )
    again = EnrichedPost.model_validate_json(out.model_dump_json())
    assert again.ingested_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert again.enrichment_version == enricher.version


def test_the_version_names_the_ruleset_and_the_artifacts(enricher):
    assert re.fullmatch(r"pulse-nlp/\d{4}\.\d+\.\d+\+[0-9a-f]{10}", enricher.version)


def test_influence_grows_with_reach_and_verification(enricher, make_post):
    small = enricher.enrich(make_post("Nova 12", author=Author(id="a", username="a", followers=10)))
    big = enricher.enrich(make_post("Nova 12", author=Author(id="b", username="b", followers=100_000)))
    verified = enricher.enrich(
        make_post("Nova 12", author=Author(id="c", username="c", followers=100_000, verified=True))
    )
    assert small.influence.score < big.influence.score < verified.influence.score
    assert big.influence.followers == 100_000


def test_spam_signals_are_flags_not_drops(enricher, make_post):
    young = Author(
        id="n", username="n", followers=2, following=4_000, created_at=datetime(2026, 11, 15, tzinfo=UTC)
    )
    out = enricher.enrich(make_post("#nova12 #phone #deal #win #free #giveaway #now", author=young))
    assert {"hashtag_stuffing", "new_account", "follow_ratio"} <= set(out.flags)
    assert out.products == ["nova"]


def test_duplicate_text_is_flagged_only_with_an_explicit_tracker(enricher, make_post):
    from pulse_enricher.nlp import DuplicateTracker

    tracker = DuplicateTracker(capacity=10)
    text = "WIN a free Nova 12!!! click https://spam.example/1"
    first = enricher.enrich(make_post(text), duplicates=tracker)
    second = enricher.enrich(make_post(text.replace("/1", "/2")), duplicates=tracker)
    untracked = enricher.enrich(make_post(text))
    assert "duplicate_text" not in first.flags
    assert "duplicate_text" in second.flags
    assert "duplicate_text" not in untracked.flags


def test_the_duplicate_tracker_is_bounded(make_post):
    from pulse_enricher.nlp import DuplicateTracker

    tracker = DuplicateTracker(capacity=3)
    for i in range(10):
        tracker.seen_before(f"x:{i}", f"a long enough distinct text number {i}")
    assert len(tracker) == 3
