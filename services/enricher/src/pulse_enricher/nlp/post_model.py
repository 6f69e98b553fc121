"""The post-level sentiment model: what a whole post says (negative / neutral / positive)."""

from __future__ import annotations

import math
from itertools import compress
from pathlib import Path

import numpy as np

from .features import (
    fold_tokens,
    lexicon_dense,
    mapped_columns,
    mark_negation,
    ngram_columns,
    unigram_columns,
)
from .linear_model import LinearModel, label_score

POST_MODEL = "post_sentiment.npz.gz"
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
    if clusters is not None:  # the columns of "cl:<id>" for each token with a cluster
        feats.update(dict.fromkeys(mapped_columns(toks, clusters, bits, "cl:"), 1.0))
    feats.update(dense if dense is not None else lexicon_dense(valences, toks, text))
    if last >= 0:
        feats[26] = _squash(sum(valences[last + 1 :]))
        feats[27] = _squash(sum(valences[:last]))
    feats[28] = 1.0 if "<url>" in toks else 0.0
    feats[29] = 0.0 if any(valences) else 1.0
    emoji = [valences[i] for i in compress(range(len(valences)), valences) if not words[i][:1].isalnum()]
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
        return label_score(self.proba(words, valences, text))
