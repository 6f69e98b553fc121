"""Open-vocabulary aspect-term tagger: token-level BIO logistic regression + constrained Viterbi.

Per token it looks at the word and its ±2 neighbours, lemma, 3-letter prefix/suffix,
word shape, neighbouring bigrams and whether neighbours are opinion words (the lexicon's
valence sign). Each base string is hashed once per token (CRC32); context templates are
combined arithmetically, so tagging a post is a few hundred integer operations plus one
(k × 3) matrix product per token. Decoding forbids O→I, so every span starts with B.
Trained on SemEval-2014 laptop reviews by `pulse-train`; no tracking-config input, so the
model stays valid whatever the taxonomy is (the taxonomy PhraseMatcher covers that side).
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from zlib import crc32

import numpy as np

from .features import N_DENSE
from .models import LinearModel
from .pipeline import lemmatize

ASPECT_TAGGER = "aspect_tagger.npz.gz"
WORD_CLUSTERS = "word_clusters.json.gz"
TAGGER_BITS = 18
TAGS = ("O", "B", "I")
_SHAPE_SUBS = [(re.compile(r"[A-Z]+"), "X"), (re.compile(r"[a-z]+"), "x"), (re.compile(r"[0-9]+"), "d")]
_P1 = 1_000_003
_P2 = 7_919


def _h(s: str) -> int:
    return crc32(s.encode("utf-8"))


def shape(word: str) -> str:
    out = word
    for pattern, sub in _SHAPE_SUBS:
        out = pattern.sub(sub, out)
    return out[:6]


def token_rows(
    words: list[str], valences: list[float], bits: int = TAGGER_BITS, clusters: dict[str, int] | None = None
) -> list[list[int]]:
    """Hashed feature columns for each token (all binary)."""
    n = len(words)
    mask = (1 << bits) - 1
    span = mask - N_DENSE
    lows = [w.lower() for w in words]
    hw = [_h(w) for w in lows] + [_h("<e>"), _h("<e2>")]
    hw_pre = [_h("<s2>"), _h("<s>")]
    hws = hw_pre + hw  # hws[i + 2] is token i; indices -2..n+1 valid
    suf = [_h("s:" + w[-3:]) for w in lows]
    pre = [_h("p:" + w[:3]) for w in lows]
    shp = [_h("h:" + shape(w)) for w in words]
    lem = [_h("l:" + lemmatize(w)) for w in words]
    op = [(1 if v > 0 else 2 if v < 0 else 0) for v in valences]
    get = (clusters or {}).get
    cl = [get(w, -1) + 2 for w in lows] + [0]  # cl[-1] (before the start) and cl[n] are 0
    has_clusters = clusters is not None
    rows: list[list[int]] = []
    for i in range(n):
        k = i + 2
        raw = [
            hws[k] * _P2 + 1,
            hws[k - 1] * _P2 + 2,
            hws[k + 1] * _P2 + 3,
            hws[k - 2] * _P2 + 4,
            hws[k + 2] * _P2 + 5,
            (hws[k - 1] * _P1 + hws[k]) * _P2 + 6,
            (hws[k] * _P1 + hws[k + 1]) * _P2 + 7,
            lem[i] * _P2 + 8,
            suf[i] * _P2 + 9,
            pre[i] * _P2 + 10,
            shp[i] * _P2 + 11,
            (shp[i - 1] if i > 0 else 0) * _P2 + 12,
            (shp[i + 1] if i + 1 < n else 0) * _P2 + 13,
            (suf[i - 1] if i > 0 else 0) * _P2 + 14,
            (suf[i + 1] if i + 1 < n else 0) * _P2 + 15,
            ((op[i - 1] if i > 0 else 3) * 4 + (op[i + 1] if i + 1 < n else 3)) * _P2 + 16,
            ((op[i - 2] if i > 1 else 3) * 4 + (op[i + 2] if i + 2 < n else 3)) * _P2 + 17,
            op[i] * _P2 + 18,
            (hws[k - 1] * _P1 + shp[i]) * _P2 + 19,
            19 * _P2 + 20,  # bias
        ]
        if has_clusters:
            c0, cm, cp = cl[i], cl[i - 1] if i > 0 else 0, cl[i + 1]
            raw.extend(
                (
                    c0 * _P2 + 21,
                    cm * _P2 + 22,
                    cp * _P2 + 23,
                    (cm * 512 + c0) * _P2 + 24,
                    (c0 * 512 + cp) * _P2 + 25,
                    (hws[k] * 512 + cp) * _P2 + 26,
                )
            )
        rows.append([N_DENSE + (r & 0xFFFFFFFFFFFF) % span for r in raw])
    return rows


def bio_spans(tags: list[int]) -> list[tuple[int, int]]:
    spans = []
    start = None
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


def viterbi(logp: np.ndarray) -> list[int]:
    """Best tag sequence with O->I and start->I forbidden."""
    n = logp.shape[0]
    if n == 0:
        return []
    neg = -1e9
    allowed = np.array([[0, 0, neg], [0, 0, 0], [0, 0, 0]], dtype=np.float64)  # prev -> cur
    score = logp[0] + np.array([0, 0, neg])
    back = np.zeros((n, 3), dtype=np.int64)
    for i in range(1, n):
        cand = score[:, None] + allowed
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[i]
    tags = [int(score.argmax())]
    for i in range(n - 1, 0, -1):
        tags.append(int(back[i][tags[-1]]))
    return tags[::-1]


class AspectTagger:
    def __init__(self, model: LinearModel, clusters: dict[str, int] | None = None) -> None:
        self.model = model
        self.clusters = clusters
        self._order = np.array([model.classes.index(t) for t in TAGS])
        # Log-odds added to B/I before decoding: trades precision for recall (tuned at train time).
        self.span_bias = float(model.meta.get("span_bias", 0.0))

    @classmethod
    def load(cls, model_dir: Path) -> AspectTagger | None:
        path = model_dir / ASPECT_TAGGER
        if not path.exists():
            return None
        clusters_path = model_dir / WORD_CLUSTERS
        clusters = None
        if clusters_path.exists():
            with gzip.open(clusters_path, "rt", encoding="utf-8") as fh:
                clusters = json.load(fh)
        return cls(LinearModel.load(path), clusters)

    def tag_spans(self, words: list[str], valences: list[float]) -> list[tuple[int, int]]:
        if not words:
            return []
        rows = token_rows(words, valences, self.model.bits, self.clusters)
        idx = np.array(rows, dtype=np.int64)  # (n, F)
        z = self.model.W[idx].sum(axis=1) + self.model.b  # (n, C)
        z = z[:, self._order]
        logp = -np.logaddexp(0.0, -np.clip(z, -30, 30))  # log sigmoid, one-vs-rest
        if self.span_bias:
            logp[:, 1:] += self.span_bias
        spans = bio_spans(viterbi(logp))
        return [(s, e) for s, e in spans if any(w[:1].isalnum() for w in words[s:e])]
