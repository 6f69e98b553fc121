"""Taxonomy synonyms count only in their product sense; tracked brand names are never aspects."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample" / "posts.jsonl.gz"


def _aspect_ids(enricher, make_post, text: str) -> list[str]:
    return [a.aspect for a in enricher.enrich(make_post(text)).aspects]


@pytest.mark.parametrize(
    ("text", "wrong_aspect"),
    [
        ("Local man faces misdemeanor charge after bar fight", "battery"),
        ("Nova 12 owner faces misdemeanor charge after bar fight", "battery"),
        ("These tortilla chips are amazing", "performance"),
        ("Eating tortilla chips while my Nova 12 updates", "performance"),
        ("I support the senator's new bill", "support"),
        ("Huge support for the candidate at the rally tonight", "support"),
    ],
)
def test_a_synonym_used_in_another_sense_is_not_a_feature(enricher, make_post, text, wrong_aspect):
    assert wrong_aspect not in _aspect_ids(enricher, make_post, text)


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("Nova 12 charge lasts two days", "battery"),
        ("charging is so slow on the Lumen Pro", "battery"),
        ("The chip in this phone is a beast", "performance"),
        ("The A17 chip in my Nova 12 is fast", "performance"),
        ("Orbit support replaced my screen in a day", "support"),
        ("Orbit support replaced my screen in a day", "display"),
        ("Customer support never answered my emails", "support"),
        ("The screen, camera and speakers are all excellent", "audio"),
        ("the camera is good", "camera"),
    ],
)
def test_a_synonym_used_as_a_product_feature_still_matches(enricher, make_post, text, aspect):
    assert aspect in _aspect_ids(enricher, make_post, text)


def test_the_other_sense_also_keeps_the_word_out_of_the_open_vocabulary_terms(enricher, make_post):
    out = enricher.enrich(make_post("Eating tortilla chips while my Nova 12 updates"))
    assert all("chip" not in a.aspect for a in out.aspects)


def test_hashtags_mentions_and_brand_names_are_trimmed_from_open_vocabulary_terms(enricher, make_post):
    out = enricher.enrich(make_post("Loving my #Nova12 and the #orbitS5 green tint is awful @OrbitPhones"))
    open_terms = [a.aspect for a in out.aspects if not a.in_taxonomy]
    assert open_terms == ["green tint"]
    assert out.aspects[0].polarity == "negative"


def test_no_tracked_brand_alias_or_hashtag_is_an_aspect_on_the_bundled_sample(tracking):
    from pulse_enricher.nlp import Enricher
    from pulse_producer.events import Upsert
    from pulse_producer.parsers import parse_line

    brand_words = {"nova", "orbit", "lumen"}
    for brand in tracking.brands:
        brand_words.update(t.lower() for t in brand.terms)
        brand_words.update("".join(t.lower().split()) for t in brand.terms)
        brand_words.update(brand.hashtags)
    enricher = Enricher(tracking)
    names: set[str] = set()
    with gzip.open(SAMPLE, "rb") as fh:
        for line in fh:
            for event in parse_line(line):
                if isinstance(event, Upsert):
                    names.update(a.aspect for a in enricher.enrich(event.post).aspects if not a.in_taxonomy)
    assert names, "the sample has open-vocabulary aspects"
    assert not names & brand_words
    assert not any(word in brand_words for name in names for word in name.split())
    assert not any(name.startswith(("#", "@")) for name in names)
