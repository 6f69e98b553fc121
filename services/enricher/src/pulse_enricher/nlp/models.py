"""The trained models: hashed-feature linear classifiers scored with numpy.

Training (`pulse-train`) fits scikit-learn SGD logistic regressions on exactly the
features below and stores weights as float16 in gzip'd .npz files under `models/`.
At run time one post costs a few dict look-ups and a (k × 3) matrix product, with no
scikit-learn call per post. Each loader returns None when its artifact is absent, so the
Enricher degrades to lexicon rules instead of failing.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from .features import (
    feature_column,
    fold_tokens,
    hash_features,
    lexicon_dense,
    mark_negation,
    ngram_columns,
    unigram_columns,
)
from .lexicon import OpinionLexicon, ScoredMention, clause_ids, score_mentions

POST_MODEL = "post_sentiment.npz.gz"
WORD_VECTORS = "word_vectors.npz.gz"
TARGET_MODEL = "target_sentiment.npz.gz"
ASPECT_MODEL = "aspect_sentiment.npz.gz"
LABELS = ("negative", "neutral", "positive")


class LinearModel:
    """Multi-class linear model over sparse {column: value} features."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, classes: list[str], meta: dict) -> None:
        self.W = weights.astype(np.float32)
        self.b = bias.astype(np.float32)
        self.classes = list(classes)
        self.meta = meta
        self.bits = int(meta["bits"])
        labels = LABELS if set(LABELS) <= set(self.classes) else tuple(self.classes)
        self._order = np.array([self.classes.index(c) for c in labels])
        self._order_list: list[int] = self._order.tolist()
        self._shared_key: dict[int, float] | None = None  # see probs_split
        self._shared_z: list[float] = []

    def decision(self, feats: dict[int, float]) -> np.ndarray:
        return np.array(self._decision(feats), dtype=np.float32)

    def _decision(self, feats: dict[int, float]) -> list[float]:
        """`decision` as plain floats (the float32 values, reordered in Python: one numpy call less)."""
        n = len(feats)
        idx = np.fromiter(feats, dtype=np.int64, count=n)
        val = np.fromiter(feats.values(), dtype=np.float32, count=n)
        # take = W[idx]; val.dot = val @ (the same BLAS gemv, same result), with less overhead.
        z = (val.dot(self.W.take(idx, axis=0)) + self.b).tolist()
        return [z[k] for k in self._order_list]

    def probs_split(
        self, shared: dict[int, float], own: dict[int, float], dense: Sequence[float] | None = None
    ) -> list[float]:
        """`probs({**shared, **own})` with the shared part's scores computed once per `shared`
        dict (the post's features, shared by every brand and aspect of a post). Own columns
        that are also shared are left out: merged, they would count once with the same value
        (hashed columns are all 1.0, and dense columns never collide). `dense`: scores (in
        `classes` order) of further columns the caller summed itself (see `probs`)."""
        if self._shared_key is not shared:
            self._shared_key = shared
            self._shared_z = self._decision(shared) if shared else [float(v) for v in self.b[self._order]]
        extra = {k: v for k, v in own.items() if k not in shared}
        z = self._shared_z
        if extra:
            n = len(extra)
            idx = np.fromiter(extra, dtype=np.int64, count=n)
            val = np.fromiter(extra.values(), dtype=np.float32, count=n)
            part = val.dot(self.W.take(idx, axis=0)).tolist()
            z = [z[j] + part[k] for j, k in enumerate(self._order_list)]
        if dense is not None:
            z = [z[j] + dense[k] for j, k in enumerate(self._order_list)]
        p = [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, v)))) for v in z]
        total = sum(p)
        return [v / total for v in p]

    def proba(self, feats: dict[int, float]) -> np.ndarray:
        """One-vs-rest logistic outputs, normalized; in LABELS order (neg, neu, pos)."""
        return np.array(self.probs(feats))

    def probs(self, feats: dict[int, float], dense: Sequence[float] | None = None) -> list[float]:
        """`proba` as a list of plain floats (3 numbers: plain floats beat numpy's per-call overhead).
        `dense`: scores (in `classes` order) of further columns the caller summed itself, as
        the target model sums its pooled word vectors (one matrix product instead of 600 dict
        entries)."""
        z = self._decision(feats)
        if dense is not None:
            z = [z[j] + dense[k] for j, k in enumerate(self._order_list)]
        p = [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, v)))) for v in z]
        total = sum(p)
        return [v / total for v in p]

    def save(self, path: Path) -> None:
        buf = io.BytesIO()
        np.savez(
            buf,
            W=self.W.astype(np.float16),
            b=self.b,
            classes=np.array(self.classes),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )
        # mtime=0: the same model gives the same bytes, so the version hash is reproducible.
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(buf.getvalue())

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        with gzip.open(path, "rb") as fh:
            data = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            return cls(data["W"], data["b"], [str(c) for c in data["classes"]], json.loads(str(data["meta"])))

    @classmethod
    def from_sklearn(cls, clf, bits: int, meta: dict) -> LinearModel:
        """From a fitted one-vs-rest linear classifier. A sentiment model whose training data
        lacked a class (tiny files, cross-validation folds) still gets all three: the missing
        one never wins; a two-class fit (one weight row) is spread over both classes."""
        coef = np.asarray(clf.coef_, dtype=np.float32)
        bias = np.asarray(clf.intercept_, dtype=np.float32)
        classes = [str(c) for c in clf.classes_]
        if len(classes) == 2 and coef.shape[0] == 1:
            coef = np.vstack([-coef[0], coef[0]])
            bias = np.array([-bias[0], bias[0]], dtype=np.float32)
        if set(classes) < set(LABELS):
            full_w = np.zeros((len(LABELS), coef.shape[1]), dtype=np.float32)
            full_b = np.full(len(LABELS), -30.0, dtype=np.float32)
            for k, c in enumerate(classes):
                full_w[LABELS.index(c)] = coef[k]
                full_b[LABELS.index(c)] = bias[k]
            coef, bias, classes = full_w, full_b, list(LABELS)
        return cls(coef.T.copy(), bias, classes, {**meta, "bits": bits})


def first_argmax(p: Sequence[float]) -> int:
    """Index of the largest value, the first one on ties (as `np.argmax`)."""
    k = 0
    for i in range(1, len(p)):
        if p[i] > p[k]:
            k = i
    return k


def _label_score(p: Sequence[float]) -> tuple[str, float, float]:
    k = first_argmax(p)
    return LABELS[k], float(p[2] - p[0]), float(p[k])


# -- post level --------------------------------------------------------------------------------
POST_BITS = 18


CONTRAST_WORDS = frozenset({"but", "however", "although", "though", "yet"})


def _squash(s: float) -> float:
    return s / math.sqrt(s * s + 15.0)


def post_features(
    words: list[str],
    valences: list[float],
    text: str,
    bits: int = POST_BITS,
    toks: list[str] | None = None,
    dense: dict[int, float] | None = None,
    clusters: dict[str, int] | None = None,
) -> dict[int, float]:
    """Word uni+bigrams with negation scope marking, VADER-lexicon dense features, and:

    * contrast: the words after the last "but"/"however"/... again, as "bc:" features, and the
      lexicon score after and before it ("nice screen but the battery is a joke" leans on
      the part after "but");
    * word clusters ("cl:<id>"): distributional classes, so an unseen word counts like its
      neighbours;
    * news-like posts: a URL, no opinion word at all, a number; emoji valence on its own.
    """
    if toks is None:
        toks = fold_tokens(words)
    negated = mark_negation(toks)
    feats = ngram_columns(negated, bits)  # = hash_features(word_ngrams(...), bits)
    last = -1
    for i, t in enumerate(toks):
        if t in CONTRAST_WORDS:
            last = i
    if last >= 0:
        feats.update(dict.fromkeys(unigram_columns(negated[last + 1 :], bits, "bc:"), 1.0))
    if clusters is not None:
        get = clusters.get
        ids = [str(c) for c in (get(t) for t in toks) if c is not None]
        feats.update(dict.fromkeys(unigram_columns(ids, bits, "cl:"), 1.0))
    feats.update(dense if dense is not None else lexicon_dense(valences, toks, text))
    if last >= 0:
        feats[26] = _squash(sum(valences[last + 1 :]))
        feats[27] = _squash(sum(valences[:last]))
    feats[28] = 1.0 if "<url>" in toks else 0.0
    feats[29] = 0.0 if any(valences) else 1.0
    emoji = [v for w, v in zip(words, valences, strict=True) if v and not w[:1].isalnum()]
    feats[30] = sum(emoji) / 4.0 if emoji else 0.0
    feats[31] = 1.0 if "<num>" in toks else 0.0
    return feats


class PostSentimentModel:
    """The post-level model; `clusters` are the word clusters it was trained with (None: none)."""

    def __init__(self, model: LinearModel, clusters: dict[str, int] | None = None) -> None:
        self.model = model
        self.clusters = clusters if model.meta.get("clusters") else None

    @classmethod
    def load(cls, model_dir: Path, clusters: dict[str, int] | None = None) -> PostSentimentModel | None:
        path = model_dir / POST_MODEL
        return cls(LinearModel.load(path), clusters) if path.exists() else None

    def proba(
        self,
        words: list[str],
        valences: list[float],
        text: str,
        toks: list[str] | None = None,
        dense: dict[int, float] | None = None,
    ) -> np.ndarray:
        return self.model.proba(self.features(words, valences, text, toks, dense))

    def features(
        self,
        words: list[str],
        valences: list[float],
        text: str,
        toks: list[str] | None = None,
        dense: dict[int, float] | None = None,
    ) -> dict[int, float]:
        return post_features(words, valences, text, self.model.bits, toks, dense, self.clusters)

    def predict(self, words: list[str], valences: list[float], text: str) -> tuple[str, float, float]:
        return _label_score(self.proba(words, valences, text))


# -- target level ------------------------------------------------------------------------------
TARGET_BITS = 18
WINDOW = 4


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
    # Window features "wl{d}:<tok>" / "wr{d}:<tok>" and "w:<tok>", nearest first, then the target.
    window = _window_columns(bits)
    window_get = window.get
    cols: list[int] = []
    for d in range(1, WINDOW + 1):
        if t_start - d >= 0:
            key = (d, left[-d])
            cols.extend(window_get(key) or _window_miss(window, key, bits))
        if d - 1 < len(right):
            key = (-d, right[d - 1])
            cols.extend(window_get(key) or _window_miss(window, key, bits))
    feats = {} if own_only else dict(post_feats)  # type: ignore[arg-type]
    # Context n-grams ("l:" left, "r:" right), then the window and target features: the
    # columns in this order (the order `hash_features` over all those strings would give).
    feats.update(ngram_columns(left, bits, "l:"))
    feats.update(ngram_columns(right[:8], bits, "r:"))
    feats.update(dict.fromkeys(cols, 1.0))
    feats.update(hash_features(["tgt:" + " ".join(toks[t_start:t_end])], bits))
    lp = ln = rp = rn = 0.0
    for i, v in enumerate(valences):
        if not v or t_start <= i < t_end:
            continue
        w = v / (1.0 + 0.2 * (t_start - i if i < t_start else i - t_end + 1))
        if i < t_start:
            lp, ln = (lp + w, ln) if w > 0 else (lp, ln - w)
        else:
            rp, rn = (rp + w, rn) if w > 0 else (rp, rn - w)
    feats[22], feats[23], feats[24], feats[25] = lp / 4, ln / 4, rp / 4, rn / 4
    if rule is None:
        rule = score_mentions(words, [(t_start, t_end)], valences, clauses)[0]
    c = clauses[t_start] if clauses[t_start] >= 0 else -2
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


class _MentionModel:
    """A three-way sentiment model of one mention (a target or an aspect term) in a post."""

    FILE = ""

    def __init__(self, model: LinearModel) -> None:
        self.model = model

    @classmethod
    def load(cls, model_dir: Path) -> Self | None:
        path = model_dir / cls.FILE
        return cls(LinearModel.load(path)) if path.exists() else None

    def _probs(self, feats: dict[int, float], post_feats: dict[int, float] | None) -> list[float]:
        """`feats` are own columns only when `post_feats` (the post's shared columns) are given."""
        if post_feats is not None:
            return self.model.probs_split(post_feats, feats)
        return self.model.probs(feats)


class WordVectors:
    """Word vectors learnt without labels (`training.word_embeddings`), stored as int8 codes
    with one scale (a quarter of the float16 size); looked up by feature token."""

    def __init__(self, vocab: list[str], codes: np.ndarray, scale: float) -> None:
        self.vocab = list(vocab)
        self.codes = codes.astype(np.int8)
        self.scale = float(scale)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.matrix = self.codes.astype(np.float32) * np.float32(self.scale)
        self.dims = self.matrix.shape[1] if self.matrix.ndim == 2 else 0

    @classmethod
    def from_floats(cls, vocab: list[str], vectors: np.ndarray) -> WordVectors:
        peak = float(np.abs(vectors).max()) if vectors.size else 1.0
        scale = round(peak / 127.0, 8) or 1.0
        return cls(vocab, np.clip(np.rint(vectors / scale), -127, 127).astype(np.int8), scale)

    def save(self, path: Path) -> None:
        buf = io.BytesIO()
        np.savez(buf, vocab=np.array(self.vocab), codes=self.codes, scale=np.array(self.scale))
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(buf.getvalue())

    @classmethod
    def load(cls, model_dir: Path) -> WordVectors | None:
        path = model_dir / WORD_VECTORS
        if not path.exists():
            return None
        with gzip.open(path, "rb") as fh:
            data = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            return cls([str(w) for w in data["vocab"]], data["codes"], float(data["scale"]))


_POOL_COLUMNS: dict[tuple[int, int], np.ndarray] = {}  # (bits, dims) -> (4 regions, 3 pools, dims) columns
_REGIONS = ("L", "R", "T", "F")
OPINION_NEIGHBOURS = 2  # nearest opinion words looked at on each side of the target


def _pool_columns(bits: int, dims: int) -> np.ndarray:
    cols = _POOL_COLUMNS.get((bits, dims))
    if cols is None:
        names = [f"e{r}{p}{d}" for r in _REGIONS for p in ("mx", "mn", "av") for d in range(dims)]
        cols = np.array([feature_column(f, bits) for f in names], dtype=np.int64)
        cols = _POOL_COLUMNS[(bits, dims)] = cols.reshape(len(_REGIONS), 3, dims)
    return cols


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
    cols = _pool_columns(bits, vectors.dims)
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
    if negated is None:
        negated = mark_negation(toks)
    n = len(toks)
    names = []
    for side, positions in (("L", range(t_start - 1, -1, -1)), ("R", range(t_end, n))):
        k = 0
        for i in positions:
            v = valences[i]
            if not v:
                continue
            d = t_start - i if side == "L" else i - t_end + 1
            bucket = "1" if d <= 1 else "3" if d <= 3 else "6" if d <= 6 else "far"
            names.append(f"op{side}{k}:{'p' if v > 0 else 'n'}{bucket}")
            names.append(f"opw{side}{k}:{negated[i]}")
            k += 1
            if k >= OPINION_NEIGHBOURS:
                break
    return hash_features(names, bits)


def pooled_vectors(
    toks: list[str], t_start: int, t_end: int, vectors: WordVectors
) -> list[np.ndarray | None]:
    """Per region (left context, right context, target, whole post): [max, min, mean] of the
    known words' vectors (3 × dims float32), None for a region without a known word."""
    get = vectors.index.get
    rows, left, inside = [], 0, 0  # the known words' rows; how many lie left of / inside the target
    for i, t in enumerate(toks):
        j = get(t, -1)
        if j >= 0:
            rows.append(j)
            if i < t_start:
                left += 1
            elif i < t_end:
                inside += 1
    if not rows:
        return [None] * len(_REGIONS)
    post = vectors.matrix[rows]
    out: list[np.ndarray | None] = []
    for block in (post[:left], post[left + inside :], post[left : left + inside], post):
        if not len(block):
            out.append(None)
            continue
        out.append(np.concatenate([block.max(axis=0), block.min(axis=0), block.mean(axis=0)]))
    return out


class _PooledScorer:
    """The pooled word vectors' share of a linear model's scores as one matrix product:
    (regions × 3·dims values) @ the weight rows of their columns. Equal to adding them as
    features (`target_context_features` + `add_missing`): a pooled column that is already a
    feature of the mention or of the post counts with that feature's value, and where two
    pooled columns share a hashed column the later region's value counts, as in the dict
    (only the float32 summation order differs)."""

    def __init__(self, model: LinearModel, dims: int) -> None:
        cols = _pool_columns(model.bits, dims).reshape(len(_REGIONS), -1)
        self.columns = frozenset(cols.ravel().tolist())
        self.weights = np.ascontiguousarray(model.W[cols.ravel()])  # (regions · 3 · dims, classes)
        width = cols.shape[1]
        flat = cols.ravel().tolist()
        # (position, region of a later position with the same column): dropped when that region is there
        self.shadowed = [
            (pos, later // width)
            for pos, col in enumerate(flat)
            for later in range(pos + 1, len(flat))
            if flat[later] == col
        ]
        self.width = width
        self.positions: dict[int, list[int]] = {}
        for pos, col in enumerate(flat):
            self.positions.setdefault(col, []).append(pos)

    def scores(self, pooled: list[np.ndarray | None], taken: set[int]) -> list[float]:
        """`taken`: the pooled columns that are already features (their feature value counts)."""
        values = np.zeros((len(pooled), self.width), dtype=np.float32)
        for r, v in enumerate(pooled):
            if v is not None:
                values[r] = v
        flat = values.ravel()
        for pos, region in self.shadowed:
            if pooled[region] is not None:
                flat[pos] = 0.0
        for col in taken:
            flat[self.positions[col]] = 0.0
        return flat.dot(self.weights).tolist()


class TargetSentimentModel(_MentionModel):
    """Sentiment toward a target (a brand mention); with `context` in its meta it also reads
    `target_context_features` (then it needs the word vectors it was trained with)."""

    FILE = TARGET_MODEL

    def __init__(self, model: LinearModel, vectors: WordVectors | None = None) -> None:
        super().__init__(model)
        self.context = bool(model.meta.get("context"))
        self.vectors = vectors if self.context else None
        has_vectors = self.vectors is not None and self.vectors.dims
        self._pooled = _PooledScorer(model, self.vectors.dims) if has_vectors else None  # type: ignore[union-attr]

    @classmethod
    def load(cls, model_dir: Path) -> Self | None:
        path = model_dir / cls.FILE
        if not path.exists():
            return None
        model = LinearModel.load(path)
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
                vectors = pooled_vectors(toks, t_start, t_end, self.vectors)  # type: ignore[arg-type]
                dense = pooled.scores(vectors, taken)
                if post_feats is not None:
                    return _label_score(self.model.probs_split(post_feats, feats, dense))
                return _label_score(self.model.probs(feats, dense))
            context = target_context_features(toks, valences, t_start, t_end, self.vectors, self.model.bits)
            add_missing(feats, context)
        return _label_score(self._probs(feats, post_feats))


# -- aspect level -----------------------------------------------------------------------------
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
    clause = [neg[i] for i in range(len(neg)) if c >= 0 and clauses[i] == c and not t_start <= i < t_end]
    lo, hi = max(0, t_start - ASPECT_WINDOW), min(len(neg), t_end + ASPECT_WINDOW)
    near = neg[lo:t_start] + neg[t_end:hi]
    cols = unigram_columns(clause, bits, "cl:") + unigram_columns(near, bits, "d3:")
    cols.extend(hash_features([f"nasp:{min(n_aspects, 4)}"], bits))
    feats.update(dict.fromkeys(cols, 1.0))
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


class AspectSentimentModel(_MentionModel):
    """Polarity of one aspect term (negative / neutral / positive), trained on SemEval-2014 terms."""

    FILE = ASPECT_MODEL

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
            own_only=ctx.post_feats is not None,
        )
        return self._probs(feats, ctx.post_feats)


__all__ = [
    "AspectSentimentModel",
    "LinearModel",
    "OpinionLexicon",
    "PostSentimentModel",
    "TargetSentimentModel",
    "WordVectors",
]
