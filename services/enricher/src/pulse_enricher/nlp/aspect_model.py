"""The aspect-level sentiment model: the polarity of one aspect term among the post's aspects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from .features import fold_tokens, hash_features, mark_negation, unigram_columns
from .lexicon import ScoredMention, clause_ids, clause_span
from .linear_model import LinearModel, MentionModel
from .target_model import TARGET_BITS, target_features
from .word_vectors import REGIONS, PooledScorer, WordVectors, pool_columns, pooled_matrix

ASPECT_MODEL = "aspect_sentiment.npz.gz"
ASPECT_WINDOW = 3


def aspect_features(
    words: list[str],
    valences: list[float],
    text: str,
    t_start: int,
    t_end: int,
    post_proba: Sequence[float] | None,
    n_aspects: int,
    bits: int = TARGET_BITS,
    toks: list[str] | None = None,
    clauses: list[int] | None = None,
    post_feats: dict[int, float] | None = None,
    rule: ScoredMention | None = None,
    negated: list[str] | None = None,
    own_only: bool = False,
) -> dict[int, float]:
    """`target_features` plus what decides one aspect among several: the negation-marked
    words of the aspect's own clause ("cl:"), the words within ±3 tokens ("d3:"), and how
    many aspects the sentence has (one aspect usually carries the sentence's polarity).
    `negated` is `mark_negation(toks)`, computed once per post."""
    if toks is None:
        toks = fold_tokens(words)
    if clauses is None:
        clauses = clause_ids(words)
    feats = target_features(
        words,
        valences,
        text,
        t_start,
        t_end,
        post_proba,
        bits,
        toks,
        clauses,
        None,
        post_feats,
        rule,
        own_only,
    )
    neg = negated if negated is not None else mark_negation(toks)
    c = clauses[t_start]
    span = clause_span(clauses, c) if c >= 0 and len(neg) == len(clauses) else None
    if span is not None:  # the clause's words before the aspect, then after it
        a, b = span
        clause = neg[a : min(b, t_start)] + neg[max(a, t_end) : b]
    else:
        clause = [neg[i] for i in range(len(neg)) if c >= 0 and clauses[i] == c and not t_start <= i < t_end]
    lo, hi = max(0, t_start - ASPECT_WINDOW), min(len(neg), t_end + ASPECT_WINDOW)
    near = neg[lo:t_start] + neg[t_end:hi]
    cols = unigram_columns(clause, bits, "cl:") + unigram_columns(near, bits, "d3:")
    cols.extend(hash_features([f"nasp:{min(n_aspects, 4)}"], bits))
    feats.update(dict.fromkeys(cols, 1.0))
    return feats


def aspect_vector_matrix(
    toks: list[str], t_start: int, t_end: int, vectors: WordVectors, clauses: list[int]
) -> tuple[np.ndarray, list[bool]] | None:
    """Word vectors pooled (max, min, mean) over the words of the term's clause within
    ±`ASPECT_WINDOW` tokens left of the term, right of it, the term itself and all of them
    ("the camera is amazing, the software is buggy": "amazing" is not in the software's window)."""
    c = clauses[t_start]
    lo, hi = max(0, t_start - ASPECT_WINDOW), min(len(toks), t_end + ASPECT_WINDOW)
    if c >= 0:
        lo = next((i + 1 for i in range(t_start - 1, lo - 1, -1) if clauses[i] != c), lo)
        hi = next((i for i in range(t_end, hi) if clauses[i] != c), hi)
    return pooled_matrix(toks[lo:hi], t_start - lo, t_end - lo, vectors)


def aspect_vector_features(
    toks: list[str],
    t_start: int,
    t_end: int,
    vectors: WordVectors,
    clauses: list[int],
    bits: int = TARGET_BITS,
) -> dict[int, float]:
    """`aspect_vector_matrix` as feature columns (what training adds with `add_missing`)."""
    pooled = aspect_vector_matrix(toks, t_start, t_end, vectors, clauses)
    if pooled is None:
        return {}
    values, present = pooled
    cols = pool_columns(bits, vectors.dims)
    feats: dict[int, float] = {}
    for r, here in enumerate(present):
        if here:
            feats.update(zip(cols[r].ravel().tolist(), values[r].ravel().tolist(), strict=True))
    return feats


@dataclass(slots=True)
class PostContext:
    """What every aspect of one post shares, computed once per post."""

    words: list[str]
    valences: list[float]
    text: str
    toks: list[str]
    clauses: list[int]
    post_proba: Sequence[float] | None
    post_feats: dict[int, float] | None  # the post model's columns, when the models hash alike
    negated: list[str]  # mark_negation(toks)


class AspectSentimentModel(MentionModel):
    """Polarity of one aspect term (negative / neutral / positive), trained on SemEval-2014 terms."""

    FILE = ASPECT_MODEL

    def __init__(self, model: LinearModel, vectors: WordVectors | None = None) -> None:
        super().__init__(model)
        # Models trained without the post's n-grams (they add noise to one aspect among several)
        # read the post model's probabilities only; older artifacts read both.
        self.post_ngrams = bool(model.meta.get("post_ngrams", True))
        # A model trained with "vectors" (a file of the models dir) also reads `aspect_vector_matrix`.
        self.vectors = vectors if model.meta.get("vectors") and vectors is not None and vectors.dims else None
        self._pooled = PooledScorer(model, self.vectors.dims) if self.vectors is not None else None

    @classmethod
    def around(cls, model: LinearModel, model_dir: Path) -> Self:
        name = model.meta.get("vectors")
        return cls(model, WordVectors.load(model_dir, name) if name else None)

    def probs(
        self, ctx: PostContext, t_start: int, t_end: int, n_aspects: int, rule: ScoredMention
    ) -> list[float]:
        feats = aspect_features(
            ctx.words,
            ctx.valences,
            ctx.text,
            t_start,
            t_end,
            ctx.post_proba,
            n_aspects,
            self.model.bits,
            ctx.toks,
            ctx.clauses,
            ctx.post_feats,
            rule,
            ctx.negated,
            own_only=ctx.post_feats is not None or not self.post_ngrams,
        )
        post_feats = ctx.post_feats if self.post_ngrams else None
        pooled = self._pooled
        if pooled is None:
            return self._probs(feats, post_feats)
        taken = pooled.columns.intersection(feats)
        if post_feats is not None:
            taken |= pooled.columns.intersection(post_feats)
        matrix = aspect_vector_matrix(ctx.toks, t_start, t_end, self.vectors, ctx.clauses)  # type: ignore[arg-type]
        if matrix is None:
            dense = pooled.scores([None] * len(REGIONS), taken)
        else:
            dense = pooled.matrix_scores(matrix[0], matrix[1], taken)
        if post_feats is not None:
            return self.model.probs_split(post_feats, feats, dense)
        return self.model.probs(feats, dense)
