"""Issue 16 on real payloads, through the enricher (points 2, 3, 7, 8): what the stored post says.

Bluesky lines are synthetic (named so): the real Jetstream corpus FINDINGS.md cites could not be
committed (tests/fixtures/real/SOURCES.md); each repeats the shape and text of the cited line."""

from __future__ import annotations

import json

import pytest
from real_payloads import lines

from pulse_common.schema import Post
from pulse_common.tracking import TrackingConfig
from pulse_producer.events import Upsert
from pulse_producer.parsers import parse_line


@pytest.fixture(scope="module")
def gaming(enricher):
    """The enricher tracking the brands these real tweets talk about (the bundled config's are fictional)."""
    tracking = TrackingConfig.model_validate({
        "products": [{"id": "xbox", "name": "Xbox", "aliases": ["Xbox"], "hashtags": ["xbox"]}],
        "competitors": [{"id": "playstation", "name": "PlayStation", "aliases": ["PlayStation"],
                         "hashtags": ["playstation"]}],
    })
    return enricher.with_tracking(tracking)


def _posts(name: str) -> list[Post]:
    return [e.post for line in lines(name) for e in parse_line(line) if isinstance(e, Upsert)]


def test_a_retweet_is_matched_to_brands_by_its_originals_full_text_and_is_not_an_opinion(gaming):
    (post,) = _posts("twarc2/mentions_tweet.jsonl")
    enriched = gaming.enrich(post)
    assert set(enriched.products) == {"xbox", "playstation"}
    assert not enriched.scored and enriched.post_type == "retweet"
    assert not any(u.startswith("https://t.co") or u.endswith("…") for u in enriched.urls)


def test_withheld_posts_are_stored_unscored_and_flagged_hidden(enricher):
    first, second, third = (enricher.enrich(p) for p in _posts("twarc2/withheld_first3.jsonl"))
    assert (first.scored, second.scored) == (False, False) and first.sentiment.score == 0.0
    assert first.hidden == ["withheld"] and "hidden" in first.flags
    assert third.hidden == [] and "hidden" not in third.flags


def test_t_co_links_are_not_kept_beside_their_expanded_url(enricher):
    (newest,) = _posts("twarc2/edited_after.jsonl")
    assert enricher.enrich(newest).urls == ["https://twitter.com/i/web/status/1576994789110992896"]
    economist = _posts("twarc2/withheld_first3.jsonl")[0]
    assert enricher.enrich(economist).urls == ["http://econ.st/3u72y2l"]


def test_high_post_rate_is_judged_on_the_counts_and_account_age_of_the_collection_time(enricher):
    # @benshapiro: 164,629 tweets in 2021-05 over 12 years (36 a day), on a tweet of 2010
    old_tweet = _posts("twarc2/withheld_first3.jsonl")[1]
    assert old_tweet.author.posts_count == 164629
    assert "high_post_rate" not in enricher.enrich(old_tweet).flags
    author = old_tweet.author.model_copy(update={"posts_count": 900_000})
    busy = old_tweet.model_copy(update={"author": author})
    assert "high_post_rate" in enricher.enrich(busy).flags  # 200 a day then: still flagged


def test_a_version_past_any_calendar_falls_back_to_the_posting_time_for_the_account_age(enricher):
    # found by `make reliability`'s fuzzing: the schema allows versions up to 2**63-1, and reading such
    # a version as a collection time in ms raised "year 292278994 is out of range"
    old_tweet = _posts("twarc2/withheld_first3.jsonl")[1]
    author = old_tweet.author.model_copy(update={"posts_count": 900_000})
    busy = old_tweet.model_copy(update={"author": author, "version": 2**63 - 1})
    assert "high_post_rate" in enricher.enrich(busy).flags


def test_mentions_are_deduplicated_ignoring_case_keeping_the_entity_spelling(enricher):
    (post,) = _posts("twarc2/two_tweets.jsonl")
    # synthetic: upstream twarc-csv withheld.jsonl line 3 has entity @FantasyandScifi, text @FantasyandSciFi
    post = post.model_copy(update={"text": "Reading @FantasyandSciFi today", "mentions": ["FantasyandScifi"],
                                   "post_type": "original"})
    assert enricher.enrich(post).mentions == ["FantasyandScifi"]


def _jetstream(text: str, *, langs: list[str] | None = None, facets: list | None = None) -> Post:
    record = {"$type": "app.bsky.feed.post", "createdAt": "2024-09-09T19:46:02.102Z", "text": text}
    if langs is not None:
        record["langs"] = langs
    if facets is not None:
        record["facets"] = facets
    event = {"did": "did:plc:dclwtltrt2ggsryagfzk7dp4", "time_us": 1725911162329308, "kind": "commit",
             "commit": {"rev": "3l3qo2vutsw2b", "operation": "create", "collection": "app.bsky.feed.post",
                        "rkey": "3l3qo2vuowo2b", "record": record, "cid": "bafyreia"}}
    (upsert,) = parse_line(json.dumps(event))
    return upsert.post


def test_bluesky_posts_get_no_profile_flags_the_network_cannot_support(enricher):
    enriched = enricher.enrich(_jetstream("just another afternoon reading about cameras", langs=["en"]))
    assert not {"default_profile", "new_account", "follow_ratio", "high_post_rate"} & set(enriched.flags)


def test_a_bluesky_link_facet_gives_the_full_uri_never_its_truncated_display_text(enricher):
    text = "Watch this: www.youtube.com/watch?v=V5lD..."  # synthetic: FINDINGS.md line 2's display text
    start = len(b"Watch this: ")
    facet = {"index": {"byteStart": start, "byteEnd": len(text.encode())},
             "features": [{"$type": "app.bsky.richtext.facet#link",
                           "uri": "https://www.youtube.com/watch?v=V5lDo-jw8mA"}]}
    enriched = enricher.enrich(_jetstream(text, langs=["en"], facets=[facet]))
    assert enriched.urls == ["https://www.youtube.com/watch?v=V5lDo-jw8mA"]


def test_declared_bluesky_langs_yield_to_a_text_that_is_clearly_another_language(enricher):
    english = "I have been using this phone for a week and the battery is really good"
    enriched = enricher.enrich(_jetstream(english, langs=["de"]))  # synthetic: FINDINGS.md line 46's case
    assert enriched.lang == "en" and enriched.scored and "unsupported_language" not in enriched.flags
    german_text = "Ich habe das Handy seit einer Woche und es ist sehr gut"
    german = enricher.enrich(_jetstream(german_text, langs=["de"]))
    assert german.lang == "de"
    short = enricher.enrich(_jetstream("so good", langs=["tr"]))  # too short to overrule the author
    assert short.lang == "tr"


def test_an_image_only_post_with_empty_text_is_not_an_opinion(enricher):
    enriched = enricher.enrich(_jetstream("", langs=["en"]))
    assert enriched.scored is False
