"""The cached fast paths compute exactly what the plain reference functions compute."""

from __future__ import annotations

import numpy as np
import pytest

from pulse_enricher.nlp.pipeline import lemmatize
from pulse_enricher.nlp.tagger import TAGGER_BITS, RowBuilder, token_rows

TEXTS = [
    "The Nova 12 battery life is great but face id is flaky 😍",
    "PSA: the price is not good, however the charging is amazing #nova12 https://ex.com/r/1",
    "RT @techguy: Orbit S5 camera keeps crashing!!! so BAD",
    "ok",
    "",
    "I love it",
    "Batteries never last and the battery-life numbers are fake... not happy",
]


@pytest.fixture(scope="module")
def analyzed(enricher):
    return [enricher.analyze(t)[1:] for t in TEXTS]


@pytest.mark.parametrize("with_clusters", [True, False])
def test_cached_tagger_rows_equal_the_reference_token_rows(enricher, analyzed, with_clusters):
    clusters = enricher.tagger.clusters if with_clusters else None
    builder = RowBuilder(TAGGER_BITS, clusters)
    for _round in range(2):  # cold caches, then warm ones
        for words, valences in analyzed:
            expected = token_rows(words, valences, TAGGER_BITS, clusters)
            got = builder.rows(words, valences)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected)


def test_cached_tagger_rows_stay_exact_after_the_caches_are_cleared(enricher, analyzed, monkeypatch):
    import pulse_enricher.nlp.tagger as tagger_module

    monkeypatch.setattr(tagger_module, "_CACHE_CAP", 3)
    clusters = enricher.tagger.clusters
    builder = RowBuilder(TAGGER_BITS, clusters)
    for words, valences in analyzed * 2:
        expected = token_rows(words, valences, TAGGER_BITS, clusters)
        assert np.array_equal(builder.rows(words, valences), expected)


def test_the_fused_analysis_gives_the_tokens_and_lemmas_of_the_plain_pipeline(enricher):
    for text in [*TEXTS, "Batteries, batteries and more BATTERIES!!"]:
        doc, words, valences = enricher.analyze(text)
        plain = enricher.nlp(text)
        assert words == [t.text for t in plain]
        assert [t.lemma_ for t in doc] == [t.lemma_ for t in plain] == [lemmatize(w) for w in words]
        assert valences == enricher.lexicon.token_valences(words)
