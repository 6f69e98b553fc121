"""Products and competitors from the tracking config: aliases, hashtags, boundaries, excludes."""

from __future__ import annotations


def _ids(out) -> list[str]:
    return out.products


def test_product_name_matches_case_insensitively(enricher, make_post):
    assert _ids(enricher.enrich(make_post("just got the NOVA 12 today"))) == ["nova"]
    assert _ids(enricher.enrich(make_post("nova12 unboxing"))) == ["nova"]


def test_an_excluded_term_is_another_product(enricher, make_post):
    out = enricher.enrich(make_post("The Nova 12 Lite is a different phone"))
    assert _ids(out) == []


def test_alias_only_matches_on_word_boundaries(enricher, make_post):
    assert _ids(enricher.enrich(make_post("Nova 123 is not a phone, neither is Nova12x"))) == []
    assert _ids(enricher.enrich(make_post("supernova 12 fireworks"))) == []


def test_exclude_does_not_hide_a_separate_real_mention(enricher, make_post):
    out = enricher.enrich(make_post("Nova 12 Lite vs Nova 12: the Nova 12 wins"))
    assert _ids(out) == ["nova"]
    assert all("Lite" not in b.term for b in out.brands)


def test_plural_alias_is_the_same_product(enricher, make_post):
    assert _ids(enricher.enrich(make_post("Nova phones are everywhere"))) == ["nova"]


def test_hashtags_name_brands(enricher, make_post):
    out = enricher.enrich(make_post("camera test #NovaPhone vs #OrbitS5"))
    assert sorted(out.products) == ["nova", "orbit"]
    kinds = {b.id: b.kind for b in out.brands}
    assert kinds == {"nova": "product", "orbit": "competitor"}


def test_a_hashtag_and_its_alias_are_counted_once(enricher, make_post):
    out = enricher.enrich(make_post("#Nova12 is here"))
    assert [b.id for b in out.brands] == ["nova"]


def test_brand_mentions_carry_offsets_and_target_sentiment(enricher, make_post):
    text = "I love my Orbit S5 but the Lumen Pro is garbage"
    out = enricher.enrich(make_post(text))
    by_id = {b.id: b for b in out.brands}
    assert text[by_id["orbit"].start : by_id["orbit"].end] == "Orbit S5"
    assert by_id["orbit"].sentiment.label == "positive"
    assert by_id["lumen"].sentiment.label == "negative"
