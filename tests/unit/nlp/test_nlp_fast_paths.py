"""The cached fast paths compute exactly what the plain reference functions compute."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pulse_enricher.nlp.pipeline import lemmatize
from pulse_enricher.nlp.tagger import marginals, viterbi
from pulse_enricher.nlp.tagger_features import TAGGER_BITS, RowBuilder, token_rows

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


def _representations(enricher, with_clusters: bool, with_classes: bool, with_gazetteer: bool) -> tuple:
    tagger = enricher.tagger
    return (
        tagger.clusters if with_clusters else None,
        tagger.classes if with_classes else None,
        tagger.gazetteer if with_gazetteer else None,
    )


def test_the_packaged_tagger_reads_every_word_representation(enricher):
    tagger = enricher.tagger
    assert tagger.clusters and tagger.classes and tagger.gazetteer
    assert tagger.gazetteer.marks("the battery life is great".split()) == [0, 1, 4, 0, 0]


@pytest.mark.parametrize(
    ("with_clusters", "with_classes", "with_gazetteer"),
    [
        (True, True, True),
        (True, False, False),
        (False, False, False),
        (False, True, False),
        (True, False, True),
    ],
)
def test_cached_tagger_rows_equal_the_reference_token_rows(
    enricher, analyzed, with_clusters, with_classes, with_gazetteer
):
    reps = _representations(enricher, with_clusters, with_classes, with_gazetteer)
    builder = RowBuilder(TAGGER_BITS, *reps)
    for _round in range(2):  # cold caches, then warm ones
        for words, valences in analyzed:
            expected = token_rows(words, valences, TAGGER_BITS, *reps)
            got = builder.rows(words, valences)
            assert got.dtype == expected.dtype
            assert np.array_equal(got, expected)


def test_cached_tagger_rows_stay_exact_after_the_caches_are_cleared(enricher, analyzed, monkeypatch):
    import pulse_enricher.nlp.tagger_features as tagger_features_module

    monkeypatch.setattr(tagger_features_module, "_CACHE_CAP", 3)
    reps = _representations(enricher, True, True, True)
    builder = RowBuilder(TAGGER_BITS, *reps)
    for words, valences in analyzed * 2:
        expected = token_rows(words, valences, TAGGER_BITS, *reps)
        assert np.array_equal(builder.rows(words, valences), expected)


def test_the_gazetteer_marks_the_longest_known_term_with_its_precision():
    from pulse_enricher.nlp.gazetteer import Gazetteer

    items = [
        ("the battery life is long".split(), [(1, 3)]),
        ("battery life again".split(), [(0, 2)]),
        ("the battery died".split(), [(1, 2)]),
        ("my life is good".split(), []),
    ]
    gaz = Gazetteer.build(items)
    assert gaz.terms[("battery", "life")] == 1.0
    assert gaz.terms[("battery",)] == 0.3333  # a term once, seen three times
    # The longest match first ("battery life": precision high, 1, then inside, 4); "battery"
    # alone is a low-precision term (3).
    assert gaz.marks("battery life and battery".split()) == [1, 4, 0, 3]
    assert gaz.ratio["life"] == "0.7"  # inside a term 2 times out of 3
    assert "died" not in gaz.ratio
    assert Gazetteer.from_json(gaz.to_json()).marks("battery life".split()) == [1, 4]


def test_lemmas_read_back_in_a_second_pipeline_with_its_own_vocab():
    # The lemma cache once was one per process: a second pipeline got lemma ids whose text its
    # StringStore never saw, and token.lemma_ raised KeyError E018 (a fresh-clone CI run found it).
    from pulse_enricher.nlp.pipeline import build_nlp

    first, second = build_nlp(), build_nlp()
    text = "Batteries and cameras everywhere: zzyzxes"
    assert [t.lemma_ for t in first(text)] == [lemmatize(t.text) for t in first(text)]
    assert [t.lemma_ for t in second(text)] == [lemmatize(t.text) for t in second(text)]


def test_the_fused_analysis_gives_the_tokens_and_lemmas_of_the_plain_pipeline(enricher):
    for text in [*TEXTS, "Batteries, batteries and more BATTERIES!!"]:
        doc, words, valences = enricher.analyze(text)
        plain = enricher.nlp(text)
        assert words == [t.text for t in plain]
        assert [t.lemma_ for t in doc] == [t.lemma_ for t in plain] == [lemmatize(w) for w in words]
        assert valences == enricher.lexicon.token_valences(words)


def test_tagger_scores_equal_the_reference_weight_sum_bit_for_bit(enricher, analyzed):
    tagger = enricher.tagger
    model = tagger.model
    for words, valences in analyzed:
        if not words:
            continue
        rows = token_rows(words, valences, model.bits, tagger.clusters, tagger.classes, tagger.gazetteer)
        expected = model.W[rows].sum(axis=1) + model.b
        expected = expected[:, tagger._order]
        if tagger.span_bias:
            expected[:, 1:] += tagger.span_bias
        got = tagger.scores(words, valences)
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)


def _allowed(tags: tuple[int, ...]) -> bool:
    return not any(t == 2 and (k == 0 or tags[k - 1] == 0) for k, t in enumerate(tags))  # I after B or I


def _sequence_score(scores: np.ndarray, trans: list[list[float]] | None, tags: tuple[int, ...]) -> float:
    total = sum(float(scores[k, t]) for k, t in enumerate(tags))
    if trans is not None:
        total += sum(trans[a][b] for a, b in itertools.pairwise(tags))
    return total


def _best_sequence_by_brute_force(scores: np.ndarray, trans: list[list[float]] | None = None) -> list[int]:
    best, best_score = None, None
    for tags in itertools.product(range(3), repeat=len(scores)):
        if not _allowed(tags):
            continue
        score = _sequence_score(scores, trans, tags)
        if best_score is None or score > best_score:
            best, best_score = list(tags), score
    return best or []


def test_viterbi_finds_the_best_tag_sequence_that_never_starts_a_span_with_i():
    rng = np.random.default_rng(7)
    for n in range(1, 7):
        for _ in range(40):
            scores = rng.normal(size=(n, 3)).astype(np.float32)
            assert viterbi(scores) == _best_sequence_by_brute_force(scores)


def test_viterbi_with_crf_transitions_finds_the_best_scoring_sequence():
    rng = np.random.default_rng(11)
    for n in range(1, 7):
        for _ in range(40):
            scores = rng.normal(size=(n, 3)).astype(np.float32)
            trans = rng.normal(size=(3, 3)).round(3).tolist()
            assert viterbi(scores, trans) == _best_sequence_by_brute_force(scores, trans)


def test_crf_marginals_equal_the_probabilities_summed_over_every_sequence():
    rng = np.random.default_rng(3)
    for n in range(1, 6):
        scores = rng.normal(size=(n, 3))
        trans = rng.normal(size=(3, 3)).tolist()
        weights = {
            tags: np.exp(_sequence_score(scores, trans, tags))
            for tags in itertools.product(range(3), repeat=n)
            if _allowed(tags)
        }
        z = sum(weights.values())
        expected = np.zeros((n, 3))
        for tags, w in weights.items():
            for k, t in enumerate(tags):
                expected[k, t] += w / z
        assert np.allclose(marginals(scores, trans), expected)


def test_the_enriched_posts_nested_parts_are_validated_models(enricher, make_post):
    from pulse_common.schema import AspectMention, BrandMention, EnrichedPost, Influence, Sentiment

    out = enricher.enrich(make_post("I love my Orbit S5 but the Lumen Pro battery is garbage"))
    assert isinstance(out.sentiment, Sentiment) and isinstance(out.influence, Influence)
    assert out.brands and all(isinstance(b, BrandMention) for b in out.brands)
    assert all(isinstance(b.sentiment, Sentiment) for b in out.brands)
    assert out.aspects and all(isinstance(a, AspectMention) for a in out.aspects)
    assert EnrichedPost.model_validate_json(out.model_dump_json()) == out


def test_influence_fields_are_what_influence_of_reports(make_post):
    from pulse_enricher.nlp.influence import influence_fields, influence_of

    post = make_post("anything")
    assert influence_of(post).model_dump() == influence_fields(post)


@pytest.mark.parametrize("prefix", ["", "l:"])
def test_ngram_columns_equal_hashing_the_ngram_strings_in_the_same_order(prefix):
    from pulse_enricher.nlp.features import hash_features, ngram_columns, word_ngrams

    tokens = ["the", "camera", "is", "not_NEG", "good_NEG", "the", "camera", "is", "x y", "z", "x", "y z"]
    for _round in range(2):  # cold caches, then warm ones
        expected = hash_features(word_ngrams(tokens, prefix), 18)
        got = ngram_columns(tokens, 18, prefix)
        assert list(got.items()) == list(expected.items())
    assert ngram_columns([], 18, prefix) == {}


def test_normalize_text_collapses_whitespace_and_composes_unicode_as_the_plain_rules_do():
    import html
    import random
    import re
    import unicodedata

    from pulse_enricher.nlp.text import normalize_text

    def reference(text: str) -> str:
        out = html.unescape(html.unescape(text)) if "&" in text else text
        return re.sub(r"\s+", " ", unicodedata.normalize("NFC", out)).strip()

    alphabet = ["a", "B", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "e\u0301", "é", "&amp;", "😍", "\r\n"]
    rng = random.Random(3)
    for _ in range(2_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert normalize_text(text) == reference(text)


def test_first_argmax_breaks_ties_like_numpy():
    from pulse_enricher.nlp.linear_model import first_argmax

    for p in ([0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 1.0]):
        assert first_argmax(p) == int(np.argmax(p))
    rng = np.random.default_rng(2)
    for _ in range(2_000):  # lists and arrays, ties and signed zeros included
        p = [float(v) for v in rng.choice([0.0, -0.0, 0.25, 0.5, 1 / 3], size=int(rng.integers(1, 5)))]
        assert first_argmax(p) == first_argmax(np.array(p)) == first_argmax(tuple(p)) == int(np.argmax(p))


def test_linear_model_plain_float_probabilities_equal_the_array_ones(enricher):
    model = enricher.post_model.model
    feats = {0: 0.3, 5: 0.09, 10: 1.0, 1234: 1.0, 99_999: 1.0}
    assert model.probs(feats) == model.proba(feats).tolist()
    assert model.decision(feats).dtype == np.float32


def test_linear_model_scores_equal_the_reference_matmul_bit_for_bit(enricher):
    rng = np.random.default_rng(11)
    for model in (enricher.post_model.model, enricher.target_model.model):
        for _ in range(300):
            k = int(rng.integers(1, 120))
            feats = {int(c): 1.0 for c in rng.integers(32, 1 << model.bits, k)}
            feats.update({int(c): float(rng.normal()) for c in rng.integers(0, 32, 8)})
            idx = np.array(list(feats), dtype=np.int64)
            val = np.array(list(feats.values()), dtype=np.float32)
            expected = (val @ model.W[idx] + model.b)[model._order]
            assert np.array_equal(model.decision(feats), expected)


def test_the_sarcasm_check_agrees_with_the_single_sarcasm_regex():
    import random

    from pulse_enricher.nlp.enricher import _SARCASM_RE, is_sarcastic

    pieces = ["#sarcasm", "#SARCASTIC", "#not", " /s", "/s ", "yeah right", "YEAH, RIGHT", "Yeah,right",
              "yeahright", "great", " ", "!", "#notbad", "ſ", "rıght", "\n", "😍", "a/b"]  # fmt: skip
    rng = random.Random(5)
    for _ in range(3_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))
        assert is_sarcastic(text) == (_SARCASM_RE.search(text) is not None), text


def test_the_duplicate_fingerprint_folds_text_as_the_plain_rules_do():
    import hashlib
    import re

    from pulse_enricher.nlp.influence import text_fingerprint
    from pulse_enricher.nlp.text import MENTION_RE, URL_RE

    def reference(text: str) -> str:
        masked = MENTION_RE.sub(" ", URL_RE.sub(" ", text)).lower()
        folded = re.sub(r"[^\w]+", " ", masked).strip()
        return hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()

    extra = ["  ..Hello, @bob!! see WWW.EX.COM/x -- ok?? ", "", "!!!", "a\tb\nc", "Ünïcødé wörds 😍"]
    for text in [*TEXTS, *extra]:
        assert text_fingerprint(text) == reference(text)


def test_lexicon_dense_features_equal_the_plain_sums():
    import math
    import random

    from pulse_enricher.nlp.features import lexicon_dense

    def reference(valences, tokens, text):
        pos = sum(v for v in valences if v > 0)
        neg = -sum(v for v in valences if v < 0)
        s = pos - neg
        compound = s / math.sqrt(s * s + 15.0)
        n_tok = max(len(tokens), 1)
        excl = sum(t.startswith("!") for t in tokens)
        quest = sum(t.startswith("?") for t in tokens)
        caps = sum(1 for w in text.split() if len(w) > 2 and w.isupper() and w.isalpha())
        return compound, pos, neg, n_tok, excl, quest, caps

    rng = random.Random(9)
    for _ in range(500):
        n = rng.randrange(0, 12)
        valences = [rng.choice([0.0, 0.0, 1.9, -2.5, 0.733, -0.74]) for _ in range(n)]
        tokens = [rng.choice(["!!", "?", "?!", "good", "<url>", "!"]) for _ in range(n)]
        text = " ".join(rng.choice(["GREAT", "ok", "NOT", "A1B", "wow!"]) for _ in range(n))
        got = lexicon_dense(valences, tokens, text)
        compound, pos, neg, n_tok, excl, quest, caps = reference(valences, tokens, text)
        total = pos + neg + n_tok
        assert (got[0], got[1], got[2]) == (compound, pos / total, neg / total)
        assert (got[6], got[7], got[8]) == (min(excl, 3) / 3.0, min(quest, 3) / 3.0, min(caps, 3) / 3.0)
        assert (got[12], got[13]) == (min(pos, 8.0) / 8.0, min(neg, 8.0) / 8.0)
        last = next((v for v in reversed(valences) if v), 0.0)
        assert got[11] == last / 4.0
        assert got[9] == min(n_tok, 40) / 40.0


def test_brand_and_aspect_hits_carry_the_offsets_and_text_of_their_token_span(enricher):
    texts = [*TEXTS, "The Nova 12 Lite and the Nova-12 both have face unlock; #Nova12 battery-life"]
    for text in texts:
        doc = enricher.analyze(text)[0]
        for hit in [*enricher.brand_matcher.find(doc, [], text), *enricher.taxonomy.find(doc)]:
            span = doc[hit.token_start : hit.token_end]
            assert (hit.term, hit.start, hit.end) == (span.text, span.start_char, span.end_char)


def test_target_features_equal_hashing_the_feature_strings_in_order(enricher, analyzed):
    from pulse_enricher.nlp.features import fold_tokens, hash_features, mark_negation, word_ngrams
    from pulse_enricher.nlp.post_model import post_features
    from pulse_enricher.nlp.target_model import WINDOW, target_features

    for words, valences in analyzed:
        toks = fold_tokens(words)
        for t_start in range(len(words)):
            t_end = min(len(words), t_start + 2)
            got = target_features(words, valences, "", t_start, t_end, [0.2, 0.3, 0.5], 18, toks)
            # the string features, hashed in their original order, right after the post's columns
            neg = mark_negation([*toks[max(0, t_start - 8) : t_start], "<t>", *toks[t_end : t_end + 8]])
            left, right = neg[: min(t_start, 8)], neg[min(t_start, 8) + 1 :]
            strings = word_ngrams(left, "l:") + word_ngrams(right[:8], "r:")
            for d in range(1, WINDOW + 1):
                if t_start - d >= 0:
                    strings += [f"wl{d}:{left[-d]}", f"w:{left[-d]}"]
                if d - 1 < len(right):
                    strings += [f"wr{d}:{right[d - 1]}", f"w:{right[d - 1]}"]
            strings.append("tgt:" + " ".join(toks[t_start:t_end]))
            expected = post_features(words, valences, "", 18, toks)
            expected.update(hash_features(strings, 18))
            dense = [22, 23, 24, 25, 14, 15, 16, 17, 18, 19, 20, 21]  # set afterwards, in this order
            assert list(got) == [*expected, *dense]
            assert all(got[k] == v for k, v in expected.items() if k >= 32)


def _reference_mark_negation(tokens: list[str]) -> list[str]:
    from pulse_enricher.nlp.features import NEGATION_SCOPE, NEGATORS, SCOPE_END

    out, left = [], 0
    for tok in tokens:
        if tok in SCOPE_END or tok[0] in ".,!?;:":
            left = 0
            out.append(tok)
        elif tok in NEGATORS or tok.endswith("n't"):
            left = NEGATION_SCOPE
            out.append(tok)
        else:
            out.append(tok + "_NEG" if left else tok)
            left = max(0, left - 1)
    return out


def test_negation_marking_from_cached_token_roles_equals_the_plain_scan(enricher):
    from pulse_enricher.nlp.features import fold_tokens, mark_negation

    vocab = ["not", "never", "isn't", "good", "bad", "but", ",", ".", "!!", "the", "camera", "<t>", "won't"]
    rng = np.random.default_rng(5)
    for _ in range(2_000):
        tokens = [str(t) for t in rng.choice(vocab, size=int(rng.integers(0, 25)))]
        assert mark_negation(tokens) == _reference_mark_negation(tokens)
    for text in TEXTS:
        toks = fold_tokens(enricher.analyze(text)[1])
        assert mark_negation(toks) == _reference_mark_negation(toks)


def _reference_marks(gazetteer, lows: list[str]) -> list[int]:
    from pulse_enricher.nlp.gazetteer import GAZETTEER_MAX_LEN, GAZETTEER_MIN_PRECISION

    n, out, i = len(lows), [0] * len(lows), 0
    while i < n:
        if lows[i] in gazetteer.first:
            for size in range(min(GAZETTEER_MAX_LEN, n - i), 0, -1):
                p = gazetteer.terms.get(tuple(lows[i : i + size]))
                if p is not None and p >= GAZETTEER_MIN_PRECISION:
                    level = 1 if p >= 0.6 else 2 if p >= 0.35 else 3
                    out[i] = level
                    for k in range(i + 1, i + size):
                        out[k] = level + 3
                    i += size
                    break
            else:
                i += 1
        else:
            i += 1
    return out


def test_gazetteer_marks_from_precomputed_term_lengths_equal_the_plain_longest_match(enricher):
    gazetteer = enricher.tagger.gazetteer
    words = [*sorted({w for term in gazetteer.terms for w in term})[:400], "the", "is", "great", "xyzzy"]
    rng = np.random.default_rng(9)
    for term in list(gazetteer.terms)[:300]:  # every known term inside some context
        lows = [*rng.choice(words, size=2).tolist(), *term, *rng.choice(words, size=2).tolist()]
        assert gazetteer.marks(lows) == _reference_marks(gazetteer, lows)
    for _ in range(2_000):
        lows = [str(w) for w in rng.choice(words, size=int(rng.integers(0, 20)))]
        assert gazetteer.marks(lows) == _reference_marks(gazetteer, lows)


def _assert_pooled_equal_each_region_alone(vectors, vocab, rng, posts: int, max_len: int) -> None:
    from pulse_enricher.nlp.word_vectors import REGIONS, pooled_matrix, pooled_vectors

    for _ in range(posts):
        toks = [str(t) for t in rng.choice(vocab, size=int(rng.integers(1, max_len)))]
        t_start = int(rng.integers(0, len(toks)))
        t_end = int(rng.integers(t_start + 1, len(toks) + 1))
        known = [(i, vectors.index[t]) for i, t in enumerate(toks) if t in vectors.index]
        got = pooled_vectors(toks, t_start, t_end, vectors)
        matrix = pooled_matrix(toks, t_start, t_end, vectors)
        assert (matrix is None) == (not known)
        if matrix is None:
            continue
        values, present = matrix
        assert values.dtype == np.float32 and values.shape == (len(REGIONS), 3, vectors.dims)
        bounds = ((0, t_start), (t_end, len(toks)), (t_start, t_end), (0, len(toks)))  # L, R, T, F
        for r, (lo, hi) in enumerate(bounds):
            rows = [j for i, j in known if lo <= i < hi]
            assert present[r] == bool(rows)
            if not rows:
                assert got[r] is None and not values[r].any()
                continue
            block = vectors.matrix[rows]
            expected = np.stack([block.max(axis=0), block.min(axis=0), block.mean(axis=0)])
            assert got[r].tobytes() == expected.tobytes()
            assert values[r].tobytes() == expected.tobytes()


def test_pooled_word_vectors_equal_numpys_max_min_and_mean_bit_for_bit(enricher):
    vectors = enricher.target_model.vectors
    vocab = [*vectors.vocab[:2_000], "not-a-known-word", "<t>"]
    _assert_pooled_equal_each_region_alone(vectors, vocab, np.random.default_rng(13), 3_000, 25)


def test_pooled_word_vectors_stay_bit_for_bit_in_long_posts_of_the_whole_vocabulary(enricher):
    vectors = enricher.target_model.vectors
    vocab = [*vectors.vocab, "not-a-known-word"]
    _assert_pooled_equal_each_region_alone(vectors, vocab, np.random.default_rng(17), 1_500, 80)


def test_a_clause_span_is_found_only_when_the_clause_is_contiguous():
    from pulse_enricher.nlp.lexicon import clause_ids, clause_span

    clauses = clause_ids("the screen is great , but the battery is bad".split())
    assert clause_span(clauses, 0) == (0, 4)
    assert clause_span(clauses, 2) == (6, 10)
    assert clause_span([0, 1, 0], 0) is None


def _reference_opinion_names(toks, valences, t_start, t_end, negated) -> list[str]:
    names = []
    for side, positions in (("L", range(t_start - 1, -1, -1)), ("R", range(t_end, len(toks)))):
        k = 0
        for i in positions:
            v = valences[i]
            if not v:
                continue
            d = t_start - i if side == "L" else i - t_end + 1
            bucket = "1" if d <= 1 else "3" if d <= 3 else "6" if d <= 6 else "far"
            names += [f"op{side}{k}:{'p' if v > 0 else 'n'}{bucket}", f"opw{side}{k}:{negated[i]}"]
            k += 1
            if k >= 2:
                break
    return names


def test_opinion_neighbour_features_equal_scanning_outwards_from_the_target(enricher):
    from pulse_enricher.nlp.features import fold_tokens, hash_features, mark_negation
    from pulse_enricher.nlp.target_model import opinion_neighbour_features

    texts = [*TEXTS, "not bad, not great , but the Nova 12 is really awful and slow and not fun at all"]
    for text in texts:
        _doc, words, valences = enricher.analyze(text)
        toks = fold_tokens(words)
        negated = mark_negation(toks)
        for t_start in range(len(toks)):
            for t_end in range(t_start + 1, min(len(toks), t_start + 3) + 1):
                names = _reference_opinion_names(toks, valences, t_start, t_end, negated)
                expected = hash_features(names, 18)
                got = opinion_neighbour_features(toks, valences, t_start, t_end, 18)
                assert list(got.items()) == list(expected.items())


def test_cached_cluster_columns_equal_hashing_each_tokens_cluster_id(enricher):
    from pulse_enricher.nlp.features import fold_tokens, mapped_columns, unigram_columns

    clusters = enricher.post_model.clusters
    assert clusters
    for text in TEXTS:
        toks = fold_tokens(enricher.analyze(text)[1])
        expected = unigram_columns([str(clusters[t]) for t in toks if t in clusters], 18, "cl:")
        assert mapped_columns(toks, clusters, 18, "cl:") == expected
        assert mapped_columns(toks, clusters, 18, "cl:") == expected  # cached
    assert mapped_columns(["a", "b", "a"], {"a": 7}, 18, "cl:") == unigram_columns(["7", "7"], 18, "cl:")


def test_ngram_and_unigram_columns_stay_exact_when_their_caches_fill_up_midway(monkeypatch):
    import pulse_enricher.nlp.features as features_module
    from pulse_enricher.nlp.features import feature_column, ngram_column_list, unigram_columns, word_ngrams

    monkeypatch.setattr(features_module, "_COLUMNS_CAP", 3)
    monkeypatch.setattr(features_module, "_DERIVED_CAP", 2)
    tokens = ["the", "camera", "is", "not_NEG", "good_NEG", "the", "camera", "x y", "z", "😍"]
    for prefix in ("", "l:", "r:"):
        for _round in range(3):
            expected = [feature_column(f, 18) for f in word_ngrams(tokens, prefix)]
            assert ngram_column_list(tokens, 18, prefix) == expected
            assert unigram_columns(tokens, 18, prefix or "u:") == [
                feature_column((prefix or "u:") + t, 18) for t in tokens
            ]


def _reference_viterbi(scores, transitions=None) -> list[int]:
    """The tuple-building recursion the decoder had before (the same sums and ties)."""
    rows = scores.tolist()
    (oo, ob, _oi), (bo, bb, bi), (io, ib, ii) = transitions or ((0.0,) * 3,) * 3
    o, b, i_ = rows[0][0], rows[0][1], -1e9
    back = []
    for lo, lb, li in rows[1:]:
        o_from = (o + oo, b + bo, i_ + io)
        b_from = (o + ob, b + bb, i_ + ib)
        po = 0 if o_from[0] >= o_from[1] and o_from[0] >= o_from[2] else (1 if o_from[1] >= o_from[2] else 2)
        pb = 0 if b_from[0] >= b_from[1] and b_from[0] >= b_from[2] else (1 if b_from[1] >= b_from[2] else 2)
        pi = 1 if b + bi >= i_ + ii else 2
        back.append((po, pb, pi))
        o, b, i_ = o_from[po] + lo, b_from[pb] + lb, (b + bi if pi == 1 else i_ + ii) + li
    tag = 0 if o >= b and o >= i_ else (1 if b >= i_ else 2)
    tags = [tag]
    for ptr in reversed(back):
        tag = ptr[tag]
        tags.append(tag)
    return tags[::-1]


def test_viterbi_equals_the_tuple_building_recursion_with_ties_and_real_weights(enricher, analyzed):
    rng = np.random.default_rng(21)
    trans = enricher.tagger.transitions
    for _ in range(3_000):
        n = int(rng.integers(1, 30))
        # small integers make ties common; floats as the tagger's float32 scores
        scores = rng.integers(-2, 3, size=(n, 3)).astype(np.float32)
        t = rng.integers(-2, 3, size=(3, 3)).astype(float).tolist()
        assert viterbi(scores, t) == _reference_viterbi(scores, t)
        assert viterbi(scores) == _reference_viterbi(scores)
        scores = rng.normal(size=(n, 3)).astype(np.float32)
        assert viterbi(scores, trans) == _reference_viterbi(scores, trans)
    for words, valences in analyzed:
        if words:
            scores = enricher.tagger.scores(words, valences)
            assert viterbi(scores, trans) == _reference_viterbi(scores, trans)


def test_bio_spans_from_the_tag_string_equal_the_plain_scan():
    from pulse_enricher.nlp.tagger import bio_spans

    def reference(tags):
        spans, start = [], None
        for i, t in enumerate(tags):
            if t == 1:
                if start is not None:
                    spans.append((start, i))
                start = i
            elif t == 0:
                if start is not None:
                    spans.append((start, i))
                start = None
        if start is not None:
            spans.append((start, len(tags)))
        return spans

    for n in range(0, 7):  # every sequence of up to 6 tags, stray I's included
        for tags in itertools.product((0, 1, 2), repeat=n):
            assert bio_spans(list(tags)) == reference(list(tags))


def test_clause_ids_from_the_running_boundary_count_equal_the_plain_loop():
    from pulse_enricher.nlp.lexicon import _is_boundary, clause_ids

    def reference(words):
        ids, cid = [], 0
        for w in words:
            if _is_boundary(w):
                cid += 1
                ids.append(-1)
            else:
                ids.append(cid)
        return ids

    vocab = ["the", "screen", ",", "but", "BUT", "...", "!?", "great", ".", "yet", "ok"]
    rng = np.random.default_rng(4)
    for _ in range(2_000):
        words = [str(w) for w in rng.choice(vocab, size=int(rng.integers(0, 15)))]
        got = clause_ids(words)
        assert got == reference(words)
        assert all(type(c) is int for c in got)


def test_token_valences_equal_the_plain_per_token_rules(enricher):
    from pulse_enricher.nlp.lexicon import BOOSTERS, CLAUSE_PUNCT, CONTRAST, NEGATORS

    lexicon = enricher.lexicon

    def reference(words):
        lows = [w.lower() for w in words]
        out = []
        for i, w in enumerate(words):
            v = lexicon.valence.get(lows[i])
            if v is None:
                v = lexicon.emoji_valence.get(w)
            if v is None:
                out.append(0.0)
                continue
            if w.isupper() and len(w) > 1 and w.isalpha():
                v += 0.733 if v > 0 else -0.733
            for j in range(max(0, i - 2), i):
                if lows[j] in BOOSTERS:
                    v += BOOSTERS[lows[j]] if v > 0 else -BOOSTERS[lows[j]]
            for j in range(i - 1, max(0, i - 3) - 1, -1):
                if lows[j] in NEGATORS:
                    v *= -0.74
                    break
                if lows[j] in CLAUSE_PUNCT or lows[j] in CONTRAST:
                    break
            out.append(v)
        return out

    vocab = ["not", "very", "GOOD", "good", "bad", "awful", ",", "but", "😍", "😡", "the", "camera"]
    vocab += ["never", "so"]
    rng = np.random.default_rng(8)
    for _ in range(2_000):
        words = [str(w) for w in rng.choice(vocab, size=int(rng.integers(0, 12)))]
        assert lexicon.token_valences(words) == reference(words)
    for text in TEXTS:
        words = enricher.analyze(text)[1]
        assert lexicon.token_valences(words) == reference(words)


def test_clipping_by_comparisons_equals_nested_min_and_max_for_every_value():
    import math

    from pulse_enricher.nlp.linear_model import _normalized_sigmoids
    from pulse_enricher.nlp.sentiment import _clip01, clip

    specials = [0.0, -0.0, 1.0, -1.0, 30.0, -30.0, 29.999, -30.001, 1e300, -1e300]
    specials += [math.inf, -math.inf, math.nan]
    rng = np.random.default_rng(6)
    values = [*specials, *rng.normal(scale=20, size=2_000).tolist()]
    values += np.float32(rng.normal(size=50)).tolist()

    def same(a, b):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))

    for v in values:
        assert same(clip(v), max(-1.0, min(1.0, float(v))))
        assert same(_clip01(v), max(0.0, min(1.0, float(v))))
    for _ in range(500):
        z = rng.choice(values, size=3).tolist()
        p = [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, v)))) for v in z]
        expected = [v / sum(p) for v in p]
        got = _normalized_sigmoids(z)
        assert all(same(a, b) for a, b in zip(got, expected, strict=True))


def test_the_aspect_models_pooled_vector_scores_equal_adding_the_vectors_as_features(enricher):
    from pulse_enricher.nlp.aspect_model import PostContext, aspect_features, aspect_vector_features
    from pulse_enricher.nlp.features import fold_tokens, mark_negation
    from pulse_enricher.nlp.lexicon import clause_ids, score_mentions
    from pulse_enricher.nlp.target_model import add_missing

    model = enricher.aspect_model
    assert model.vectors is not None and model._pooled is not None  # the packaged model reads vectors
    for text in [*TEXTS, "the keyboard , the trackpad and the screen of this thing are all just fine"]:
        _doc, words, valences = enricher.analyze(text)
        if not words:
            continue
        toks, clauses = fold_tokens(words), clause_ids(words)
        proba = enricher.post_model.model.probs(enricher.post_model.features(words, valences, text))
        ctx = PostContext(words, valences, text, toks, clauses, proba, None, mark_negation(toks))
        for t_start in range(len(toks)):
            for t_end in range(t_start + 1, min(len(toks), t_start + 3) + 1):
                rule = score_mentions(words, [(t_start, t_end)], valences, clauses)[0]
                got = model.probs(ctx, t_start, t_end, 2, rule)
                feats = aspect_features(
                    words,
                    valences,
                    text,
                    t_start,
                    t_end,
                    proba,
                    2,
                    model.model.bits,
                    toks,
                    clauses,
                    None,
                    rule,
                    ctx.negated,
                    own_only=True,
                )
                add_missing(
                    feats,
                    aspect_vector_features(toks, t_start, t_end, model.vectors, clauses, model.model.bits),
                )
                assert got == pytest.approx(model.model.probs(feats), abs=1e-5)
