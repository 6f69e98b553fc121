"""The target-level sentiment model: the sentiment toward one target (a brand mention) in a post.

It reads the post's features (shared with the post model), the target's left/right context and
±4-token window, the clause-scoped lexicon rules' verdict and the post model's probabilities;
a model trained with `context` also reads the nearest opinion words and pooled word vectors.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from itertools import chain, compress
from pathlib import Path
from typing import Self

from .features import fold_tokens, hash_features, mark_negation, ngram_column_list
from .lexicon import ScoredMention, clause_ids, clause_span, score_mentions
from .linear_model import LinearModel, MentionModel, label_score
from .post_model import post_features
from .word_vectors import REGIONS, PooledScorer, WordVectors, pool_columns, pooled_matrix, pooled_vectors

TARGET_MODEL = "target_sentiment.npz.gz"
TARGET_BITS = 18
WINDOW = 4
_LEFT_DISTANCES = range(1, WINDOW + 1)  # window keys: (d, word) left of the target, (-d, word) right
_RIGHT_DISTANCES = range(-1, -WINDOW - 1, -1)


_WINDOW_COLUMNS: dict[int, dict[tuple[int, str], tuple[int, ...]]] = {}  # bits -> {(±d, tok): cols}


def _window_columns(bits: int) -> dict[tuple[int, str], tuple[int, ...]]:
    cache = _WINDOW_COLUMNS.get(bits)
    if cache is None:
        cache = _WINDOW_COLUMNS[bits] = {}
    return cache


def _window_miss(
    cache: dict[tuple[int, str], tuple[int, ...]], key: tuple[int, str], bits: int
) -> tuple[int, ...]:
    """Columns of "wl{d}:<tok>" (d > 0) or "wr{-d}:<tok>" (d < 0), then of "w:<tok>" (deduplicated)."""
    if len(cache) >= 100_000:
        cache.clear()
    d, tok = key
    name = f"wl{d}:{tok}" if d > 0 else f"wr{-d}:{tok}"
    cols = cache[key] = tuple(hash_features([name, f"w:{tok}"], bits))
    return cols


def target_features(
    words: list[str],
    valences: list[float],
    text: str,
    t_start: int,
    t_end: int,
    post_proba: Sequence[float] | None,
    bits: int = TARGET_BITS,
    toks: list[str] | None = None,
    clauses: list[int] | None = None,
    dense: dict[int, float] | None = None,
    post_feats: dict[int, float] | None = None,
    rule: ScoredMention | None = None,
    own_only: bool = False,
) -> dict[int, float]:
    """Features for the sentiment toward tokens [t_start, t_end) (`own_only`: without the
    post's shared columns, for `LinearModel.probs_split`).

    The post-level feature columns (whole-post n-grams and lexicon features, shared with the
    post model so they are computed once per post), left/right context n-grams, position-tagged words
    in a ±4 window, clause-scoped distance-weighted lexicon score of the target (the rule
    system's verdict), and the post-level model's probabilities.
    """
    if toks is None:
        toks = fold_tokens(words)
    if clauses is None:
        clauses = clause_ids(words)
    if post_feats is None and not own_only:
        post_feats = post_features(words, valences, text, bits, toks, dense)
    neg = mark_negation([*toks[max(0, t_start - 8) : t_start], "<t>", *toks[t_end : t_end + 8]])
    n_left = min(t_start, 8)
    left = neg[:n_left]
    right = neg[n_left + 1 :]
    # Window features "wl{d}:<tok>" / "wr{d}:<tok>" and "w:<tok>", nearest first (wl1, wr1, wl2,
    # ...; a side with fewer words ends early), then the target. Left keys need d <= t_start:
    # `left` holds min(t_start, 8) words.
    window = _window_columns(bits)
    left_keys = list(zip(_LEFT_DISTANCES, left[: -WINDOW - 1 : -1], strict=False))
    right_keys = list(zip(_RIGHT_DISTANCES, right[:WINDOW], strict=False))
    both = min(len(left_keys), len(right_keys))
    keys = [
        *chain.from_iterable(zip(left_keys, right_keys, strict=False)),
        *left_keys[both:],
        *right_keys[both:],
    ]
    found = list(map(window.get, keys))
    if not all(found):  # a cached entry is never empty: only a miss (None) is falsy
        found = [f or _window_miss(window, key, bits) for f, key in zip(found, keys, strict=True)]
    cols = list(chain.from_iterable(found))
    feats = {} if own_only else dict(post_feats)  # type: ignore[arg-type]
    # Context n-grams ("l:" left, "r:" right), then the window and target features: the
    # columns in this order (the order `hash_features` over all those strings would give).
    # (One dict of them all: updating with it gives the same keys, order and values as
    # updating with each part in turn; every hashed column is 1.0.)
    target_cols = list(hash_features(["tgt:" + " ".join(toks[t_start:t_end])], bits))
    context = [*ngram_column_list(left, bits, "l:"), *ngram_column_list(right[:8], bits, "r:")]
    feats.update(dict.fromkeys([*context, *cols, *target_cols], 1.0))
    # The opinion words left and right of the target, each side in order, weighted by distance.
    opinions = list(compress(range(len(valences)), valences))
    first_inside, first_right = bisect_left(opinions, t_start), bisect_left(opinions, t_end)
    lp = ln = rp = rn = 0.0
    for i in opinions[:first_inside]:
        w = valences[i] / (1.0 + 0.2 * (t_start - i))
        if w > 0:
            lp += w
        else:
            ln -= w
    for i in opinions[first_right:]:
        w = valences[i] / (1.0 + 0.2 * (i - t_end + 1))
        if w > 0:
            rp += w
        else:
            rn -= w
    feats[22], feats[23], feats[24], feats[25] = lp / 4, ln / 4, rp / 4, rn / 4
    if rule is None:
        rule = score_mentions(words, [(t_start, t_end)], valences, clauses)[0]
    c = clauses[t_start] if clauses[t_start] >= 0 else -2
    span = clause_span(clauses, c) if c >= 0 and len(valences) == len(clauses) else None
    if span is not None:
        in_clause = list(filter(None, valences[span[0] : span[1]]))
    else:
        in_clause = [v for v, ci in zip(valences, clauses, strict=True) if ci == c and v]
    s_clause = sum(in_clause)
    feats[14] = rule.score
    feats[15] = 1.0 if rule.polarity == "positive" else 0.0
    feats[16] = 1.0 if rule.polarity == "negative" else 0.0
    feats[17] = s_clause / math.sqrt(s_clause * s_clause + 4.0)
    feats[18] = 1.0 if not in_clause else 0.0
    if post_proba is not None:
        feats[19], feats[20], feats[21] = float(post_proba[0]), float(post_proba[1]), float(post_proba[2])
    return feats


OPINION_NEIGHBOURS = 2  # nearest opinion words looked at on each side of the target


def add_missing(feats: dict[int, float], extra: dict[int, float]) -> None:
    """Add `extra`'s columns that `feats` lacks (a hashed column shared with a feature already
    there keeps that feature's value, in training as at run time, where `probs_split` also
    keeps the post's shared value)."""
    for col, value in extra.items():
        feats.setdefault(col, value)


def target_context_features(
    toks: list[str],
    valences: list[float],
    t_start: int,
    t_end: int,
    vectors: WordVectors | None,
    bits: int = TARGET_BITS,
    negated: list[str] | None = None,
) -> dict[int, float]:
    """What the target model reads beyond `target_features` (target-dependent context):

    * the nearest two opinion words on each side of the target, their sign and distance
      (1, ≤3, ≤6, further) and the word itself (negation-marked);
    * word vectors pooled (max, min, mean) over the left context, the right context, the
      target and the whole post (Vo & Zhang 2015's target-dependent pooling).
    """
    feats = opinion_neighbour_features(toks, valences, t_start, t_end, bits, negated)
    if vectors is None or not vectors.dims:
        return feats
    cols = pool_columns(bits, vectors.dims)
    for r, values in enumerate(pooled_vectors(toks, t_start, t_end, vectors)):
        if values is not None:
            feats.update(zip(cols[r].ravel().tolist(), values.tolist(), strict=True))
    return feats


def opinion_neighbour_features(
    toks: list[str],
    valences: list[float],
    t_start: int,
    t_end: int,
    bits: int = TARGET_BITS,
    negated: list[str] | None = None,
) -> dict[int, float]:
    """The nearest `OPINION_NEIGHBOURS` opinion words on each side of the target (sign, distance
    bucket, the negation-marked word)."""
    n = len(toks)
    opinions = list(compress(range(len(valences)), valences))
    first_left, first_right = bisect_left(opinions, t_start), bisect_left(opinions, t_end)
    nearest = {  # per side, the positions of its nearest opinion words, nearest first
        "L": opinions[max(0, first_left - OPINION_NEIGHBOURS) : first_left][::-1],
        "R": [i for i in opinions[first_right : first_right + OPINION_NEIGHBOURS] if i < n],
    }
    names = []
    if nearest["L"] or nearest["R"]:
        if negated is None:
            negated = mark_negation(toks)
        for side, positions in nearest.items():
            for k, i in enumerate(positions):
                v = valences[i]
                d = t_start - i if side == "L" else i - t_end + 1
                bucket = "1" if d <= 1 else "3" if d <= 3 else "6" if d <= 6 else "far"
                names.append(f"op{side}{k}:{'p' if v > 0 else 'n'}{bucket}")
                names.append(f"opw{side}{k}:{negated[i]}")
    return hash_features(names, bits)


class TargetSentimentModel(MentionModel):
    """Sentiment toward a target (a brand mention); with `context` in its meta it also reads
    `target_context_features` (then it needs the word vectors it was trained with)."""

    FILE = TARGET_MODEL

    def __init__(self, model: LinearModel, vectors: WordVectors | None = None) -> None:
        super().__init__(model)
        self.context = bool(model.meta.get("context"))
        self.vectors = vectors if self.context else None
        has_vectors = self.vectors is not None and self.vectors.dims
        self._pooled = PooledScorer(model, self.vectors.dims) if has_vectors else None  # type: ignore[union-attr]

    @classmethod
    def around(cls, model: LinearModel, model_dir: Path) -> Self:
        return cls(model, WordVectors.load(model_dir) if model.meta.get("context") else None)

    def predict(
        self,
        words: list[str],
        valences: list[float],
        text: str,
        t_start: int,
        t_end: int,
        post_proba: Sequence[float] | None,
        toks: list[str] | None = None,
        clauses: list[int] | None = None,
        dense: dict[int, float] | None = None,
        post_feats: dict[int, float] | None = None,
        rule: ScoredMention | None = None,
    ) -> tuple[str, float, float]:
        feats = target_features(
            words,
            valences,
            text,
            t_start,
            t_end,
            post_proba,
            self.model.bits,
            toks,
            clauses,
            dense,
            post_feats,
            rule,
            own_only=post_feats is not None,
        )
        if self.context:
            if toks is None:
                toks = fold_tokens(words)
            pooled = self._pooled
            opinions = opinion_neighbour_features(toks, valences, t_start, t_end, self.model.bits)
            if pooled is not None and pooled.columns.isdisjoint(opinions):
                add_missing(feats, opinions)
                taken = pooled.columns.intersection(feats)
                if post_feats is not None:
                    taken |= pooled.columns.intersection(post_feats)
                matrix = pooled_matrix(toks, t_start, t_end, self.vectors)  # type: ignore[arg-type]
                if matrix is None:
                    dense = pooled.scores([None] * len(REGIONS), taken)
                else:
                    dense = pooled.matrix_scores(matrix[0], matrix[1], taken)
                if post_feats is not None:
                    return label_score(self.model.probs_split(post_feats, feats, dense))
                return label_score(self.model.probs(feats, dense))
            context = target_context_features(toks, valences, t_start, t_end, self.vectors, self.model.bits)
            add_missing(feats, context)
        return label_score(self._probs(feats, post_feats))
