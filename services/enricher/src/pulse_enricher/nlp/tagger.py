"""Open-vocabulary aspect-term tagger: a linear-chain CRF over hashed token features.

Per token it looks at the word and its ±2 neighbours, lemma, 3-letter prefix/suffix,
word shape, neighbouring bigrams, whether neighbours are opinion words (the lexicon's
valence sign: opinion-word proximity), distributional word clusters at 0/±1 (one set of 256
classes, shared with the post model, and four more granularities: 32, 128, 512, 1024 classes)
and a gazetteer of the aspect terms seen in training (longest match of known terms with how
often each is an aspect where it occurs, and how often each word is part of one). Each base
string is hashed once per token (CRC32); context templates are combined arithmetically, so
the emission scores of a post are a few hundred integer operations plus one gather-and-sum
over a (2**bits × 3) weight matrix. The CRF's 3×3 transition weights (O/B/I) make the
decoding structured: multi-word spans are scored as sequences, and O→I / start→I are
forbidden, so every span starts with B.

`pulse-train` fits the CRF with python-crfsuite (L-BFGS, elastic net) on every
aspect-annotated set (SemEval-2014 laptops and restaurants); the state-feature weights are
copied into the hashed weight matrix, so run time needs no crfsuite call. No tracking-config
input, so the model stays valid whatever the taxonomy is (the taxonomy PhraseMatcher covers
that side).

The features are `tagger_features`; the word representations `word_clusters` and `gazetteer`.
This module decodes: the CRF's emission scores, Viterbi and the marginals.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .gazetteer import Gazetteer, load_gazetteer
from .linear_model import LinearModel
from .tagger_features import RowBuilder
from .word_clusters import load_word_classes, load_word_clusters

ASPECT_TAGGER = "aspect_tagger.npz.gz"
TAGS = ("O", "B", "I")


_BIO_SPAN_RE = re.compile("12*")  # B, then the I's that continue it (a stray I is in no span)


def bio_spans(tags: list[int]) -> list[tuple[int, int]]:
    """[start, end) of each span: a B and the I's right after it (a B or an O ends a span)."""
    if 1 not in tags:
        return []
    return [m.span() for m in _BIO_SPAN_RE.finditer("".join(map(_TAG_DIGITS.__getitem__, tags)))]


_TAG_DIGITS = ("0", "1", "2")


def viterbi(scores: np.ndarray, transitions: list[list[float]] | None = None) -> list[int]:
    """Best O/B/I sequence under per-token scores plus transition weights (pure Python: 3 tags,
    short posts), with O->I and start->I forbidden.

    Ties go to the lowest tag (O, then B), at every step and at the end.
    """
    rows = scores.tolist()
    if not rows:
        return []
    (oo, ob, _oi), (bo, bb, bi), (io, ib, ii) = transitions or ((0.0,) * 3,) * 3
    o, b, i_ = rows[0][0], rows[0][1], -1e9
    back: list[tuple[int, int, int]] = []
    append = back.append
    for lo, lb, li in rows[1:]:
        # O and B may follow anything; I follows B or I only. Each candidate is summed once.
        x0, x1, x2 = o + oo, b + bo, i_ + io
        if x0 >= x1 and x0 >= x2:
            po, new_o = 0, x0
        elif x1 >= x2:
            po, new_o = 1, x1
        else:
            po, new_o = 2, x2
        x0, x1, x2 = o + ob, b + bb, i_ + ib
        if x0 >= x1 and x0 >= x2:
            pb, new_b = 0, x0
        elif x1 >= x2:
            pb, new_b = 1, x1
        else:
            pb, new_b = 2, x2
        x1, x2 = b + bi, i_ + ii
        if x1 >= x2:
            pi, new_i = 1, x1
        else:
            pi, new_i = 2, x2
        append((po, pb, pi))
        o, b, i_ = new_o + lo, new_b + lb, new_i + li
    tag = 0 if o >= b and o >= i_ else (1 if b >= i_ else 2)
    tags = [tag]
    for ptr in reversed(back):
        tag = ptr[tag]
        tags.append(tag)
    return tags[::-1]


def marginals(scores: np.ndarray, transitions: list[list[float]] | None = None) -> np.ndarray:
    """Per-token posterior probability of each tag (forward-backward, same constraints as `viterbi`)."""
    n = len(scores)
    trans = np.array(transitions if transitions is not None else np.zeros((3, 3)), dtype=np.float64)
    trans[0, 2] = -np.inf  # O -> I
    emit = scores.astype(np.float64)
    alpha = np.empty((n, 3))
    beta = np.zeros((n, 3))
    alpha[0] = emit[0]
    alpha[0, 2] = -np.inf  # start -> I
    for t in range(1, n):
        alpha[t] = np.logaddexp.reduce(alpha[t - 1][:, None] + trans, axis=0) + emit[t]
    for t in range(n - 2, -1, -1):
        beta[t] = np.logaddexp.reduce(trans + (emit[t + 1] + beta[t + 1])[None, :], axis=1)
    log_z = np.logaddexp.reduce(alpha[-1])
    return np.exp(alpha + beta - log_z)


class AspectTagger:
    """The CRF: hashed state-feature weights (`model.W`, columns in TAGS order) + transitions."""

    def __init__(
        self,
        model: LinearModel,
        clusters: dict[str, int] | None = None,
        classes: dict[str, list[int]] | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.model = model
        self.clusters = clusters
        self.classes = classes
        self.gazetteer = gazetteer
        self._order = np.array([model.classes.index(t) for t in TAGS])
        trans = model.meta.get("transitions")  # [from][to] in TAGS order; absent: independent tokens
        self.transitions: list[list[float]] | None = [list(map(float, r)) for r in trans] if trans else None
        # Added to B/I emission scores before decoding: trades precision for recall (set at train time).
        self.span_bias = float(model.meta.get("span_bias", 0.0))
        self._rows = RowBuilder(model.bits, clusters, classes, gazetteer)
        # Weights with the classes already in TAGS order: each class sums its own column, so
        # reordering before the sum gives the same numbers as reordering after it.
        self._W = np.ascontiguousarray(model.W[:, self._order])
        self._b = model.b[self._order]

    @classmethod
    def load(cls, model_dir: Path, clusters: dict[str, int] | None = None) -> AspectTagger | None:
        """The packaged tagger with the word representations it was trained with (its meta's
        `features`: a tagger trained without classes or a gazetteer never reads them)."""
        path = model_dir / ASPECT_TAGGER
        if not path.exists():
            return None
        model = LinearModel.load(path)
        features = model.meta.get("features", ["clusters"])
        if clusters is None and "clusters" in features:
            clusters = load_word_clusters(model_dir)
        classes = load_word_classes(model_dir) if "classes" in features else None
        gazetteer = load_gazetteer(model_dir) if "gazetteer" in features else None
        return cls(model, clusters if "clusters" in features else None, classes, gazetteer)

    def scores(self, words: list[str], valences: list[float]) -> np.ndarray:
        """(n, 3) emission scores in TAGS order (+ span_bias on B and I). Needs ≥ 1 word."""
        cols = self._rows.columns(words, valences)  # (F, n): token_rows(...) transposed
        # Summed over the templates in order, one (n, C) slice after another: the same float32
        # additions, in the same order, as `W[token_rows(...)].sum(axis=1)`.
        z = np.add.reduce(self._W.take(cols, axis=0), axis=0) + self._b  # (n, C), C in TAGS order
        if self.span_bias:
            z[:, 1:] += self.span_bias
        return z

    def tag_spans(self, words: list[str], valences: list[float]) -> list[tuple[int, int]]:
        if not words:
            return []
        spans = bio_spans(viterbi(self.scores(words, valences), self.transitions))
        return [(s, e) for s, e in spans if any(w[:1].isalnum() for w in words[s:e])]

    def aspect_probability(self, words: list[str], valences: list[float]) -> np.ndarray:
        """P(token is inside an aspect term) per token: the CRF's marginals of B + I."""
        if not words:
            return np.zeros(0)
        p = marginals(self.scores(words, valences), self.transitions)
        return p[:, 1] + p[:, 2]
