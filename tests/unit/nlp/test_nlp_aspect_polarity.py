"""Aspect-level polarity: negation, contrast, several aspects, intensifiers, emojis."""

from __future__ import annotations


def _aspects(enriched) -> dict[str, str]:
    return {a.aspect: a.polarity for a in enriched.aspects}


def test_contrast_gives_each_side_of_but_its_own_polarity(enricher, make_post):
    out = enricher.enrich(make_post("battery life is great but face id is flaky"))
    aspects = {a.aspect: a for a in out.aspects}
    assert aspects["battery"].polarity == "positive"
    assert aspects["battery"].opinions == ["great"]
    assert aspects["face_id"].polarity == "negative"
    assert aspects["face_id"].opinions == ["flaky"]


def test_however_and_although_also_split_the_clauses(enricher, make_post):
    out = enricher.enrich(make_post("The Nova 12 screen is gorgeous, however the speakers are awful"))
    assert _aspects(out) == {"display": "positive", "audio": "negative"}
    out = enricher.enrich(make_post("Although the camera is amazing, the software is buggy"))
    assert _aspects(out) == {"camera": "positive", "software": "negative"}


def test_negation_flips_the_opinion_word(enricher, make_post):
    assert _aspects(enricher.enrich(make_post("The camera is not good at all"))) == {"camera": "negative"}
    assert _aspects(enricher.enrich(make_post("Honestly the battery isn't bad"))) == {"battery": "positive"}


def test_no_in_front_of_a_problem_word_reads_as_praise(enricher, make_post):
    out = enricher.enrich(make_post("No lag at all on my Nova 12, even when gaming"))
    assert out.aspects[0].aspect == "performance"
    assert out.aspects[0].polarity == "positive"


def test_multiple_aspects_with_opposite_polarity_in_one_post(enricher, make_post):
    out = enricher.enrich(
        make_post("Love the camera on my Nova phone. The battery drains way too quickly though 😡")
    )
    polarities = _aspects(out)
    assert polarities["camera"] == "positive"
    assert polarities["battery"] == "negative"
    assert all(a.product == "nova" for a in out.aspects)


def test_coordinated_aspects_share_the_opinion(enricher, make_post):
    out = enricher.enrich(make_post("The screen, camera and speakers are all excellent"))
    assert _aspects(out) == {"display": "positive", "camera": "positive", "audio": "positive"}


def test_an_intensifier_makes_the_opinion_rule_stronger(enricher, make_post):
    from pulse_enricher.nlp.lexicon import clause_ids, score_mentions

    def rule_score(text: str) -> float:
        _doc, words, valences = enricher.analyze(text)
        return score_mentions(words, [(1, 2)], valences, clause_ids(words))[0].score

    assert rule_score("the camera is extremely good") > rule_score("the camera is good") > 0
    for text in ("the camera is good", "the camera is extremely good"):
        assert enricher.enrich(make_post(text)).aspects[0].polarity == "positive"


def test_an_emoji_is_an_opinion(enricher, make_post):
    out = enricher.enrich(make_post("night mode on this thing 😍"))
    assert out.aspects[0].aspect == "camera"
    assert out.aspects[0].polarity == "positive"
    assert "😍" in out.aspects[0].opinions


def test_inflected_and_hyphenated_taxonomy_terms_match(enricher, make_post):
    out = enricher.enrich(make_post("Batteries never last and the battery-life numbers are fake"))
    assert [a.aspect for a in out.aspects] == ["battery", "battery"]


def test_an_open_vocabulary_aspect_the_taxonomy_does_not_know_is_found(enricher, make_post):
    out = enricher.enrich(make_post("The keyboard is great and the touchpad is really responsive"))
    open_terms = {a.term.lower() for a in out.aspects if not a.in_taxonomy}
    assert "keyboard" in open_terms
    assert all(a.polarity == "positive" for a in out.aspects)


def test_a_sarcasm_marker_is_flagged_and_turns_praise_negative(enricher, make_post):
    out = enricher.enrich(make_post("Great, the battery died again. Just great #sarcasm"))
    assert "sarcasm_marker" in out.flags
    assert out.sentiment.label == "negative"
