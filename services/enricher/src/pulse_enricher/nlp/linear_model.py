"""The trained models' engine: hashed-feature linear classifiers scored with numpy.

Training (`pulse-train`) fits scikit-learn SGD logistic regressions on exactly the features of
`post_model`, `target_model` and `aspect_model`, and stores weights as float16 in gzip'd .npz
files under `models/`. At run time one post costs a few dict look-ups and a (k × 3) matrix
product, with no scikit-learn call per post. Each loader returns None when its artifact is
absent, so the Enricher degrades to lexicon rules instead of failing.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import numpy as np

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
        extra = own if own.keys().isdisjoint(shared) else {k: v for k, v in own.items() if k not in shared}
        z = self._shared_z
        if extra:
            n = len(extra)
            idx = np.fromiter(extra, dtype=np.int64, count=n)
            val = np.fromiter(extra.values(), dtype=np.float32, count=n)
            part = val.dot(self.W.take(idx, axis=0)).tolist()
            z = [z[j] + part[k] for j, k in enumerate(self._order_list)]
        if dense is not None:
            z = [z[j] + dense[k] for j, k in enumerate(self._order_list)]
        return _normalized_sigmoids(z)

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
        return _normalized_sigmoids(z)

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


def _normalized_sigmoids(z: list[float]) -> list[float]:
    """The logistic of each score clipped to [-30, 30] (`max(-30.0, min(30.0, v))`, written as
    comparisons: the same value for every v, NaN included), divided by their sum."""
    exp = math.exp
    p = [1.0 / (1.0 + exp(-(v if -30.0 < v < 30.0 else (-30.0 if v < 30.0 else 30.0)))) for v in z]
    total = sum(p)
    return [v / total for v in p]


def first_argmax(p: Sequence[float]) -> int:
    """Index of the largest value, the first one on ties (as `np.argmax`)."""
    if type(p) is list:  # max keeps the first of equal values; index finds the first equal one
        return p.index(max(p))
    k = 0
    for i in range(1, len(p)):
        if p[i] > p[k]:
            k = i
    return k


def label_score(p: Sequence[float]) -> tuple[str, float, float]:
    """(label, p(positive) − p(negative), p(label)) of probabilities in LABELS order."""
    k = first_argmax(p)
    return LABELS[k], float(p[2] - p[0]), float(p[k])


class MentionModel:
    """A three-way sentiment model of one mention (a target or an aspect term) in a post."""

    FILE = ""

    def __init__(self, model: LinearModel) -> None:
        self.model = model

    @classmethod
    def load(cls, model_dir: Path) -> Self | None:
        path = model_dir / cls.FILE
        return cls.around(LinearModel.load(path), model_dir) if path.exists() else None

    @classmethod
    def around(cls, model: LinearModel, model_dir: Path) -> Self:
        """The mention model of a loaded `model` (a subclass also loads what it reads from `model_dir`)."""
        return cls(model)

    def _probs(self, feats: dict[int, float], post_feats: dict[int, float] | None) -> list[float]:
        """`feats` are own columns only when `post_feats` (the post's shared columns) are given."""
        if post_feats is not None:
            return self.model.probs_split(post_feats, feats)
        return self.model.probs(feats)
