"""The spaCy pipeline: a blank English tokenizer plus Pulse's own components.

Official spaCy pipelines (tagger, lemmatizer tables) are not installable, so the
`pulse_lemmatizer` component sets `token.lemma_` with a small, deterministic rule set
(lower-case, plural nouns to singular, a few irregular forms). It is what makes the
taxonomy and brand PhraseMatchers inflection-insensitive ("batteries" -> "battery",
"Nova phones" -> "nova phone").
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import spacy
from spacy.attrs import LEMMA, ORTH
from spacy.language import Language
from spacy.tokens import Doc

_IRREGULAR = {
    "men": "man",
    "women": "woman",
    "people": "person",
    "children": "child",
    "feet": "foot",
    "teeth": "tooth",
    "mice": "mouse",
    "geese": "goose",
    "lives": "life",
    "knives": "knife",
    "wives": "wife",
    "leaves": "leaf",
    "selves": "self",
    "halves": "half",
    "n't": "not",
    "nt": "not",
    "'m": "be",
    "'re": "be",
    "'s": "'s",
    "'ve": "have",
    "'ll": "will",
    "is": "is",
    "was": "was",
    "has": "has",
    "does": "does",
    "this": "this",
    "its": "its",
}
_KEEP_SUFFIXES = ("ss", "us", "is", "os", "as", "ics", "ness", "less", "'s")


@lru_cache(maxsize=200_000)
def lemmatize(word: str) -> str:
    """Lower-case lemma of a single token (noun-plural rules only)."""
    low = word.lower()
    irregular = _IRREGULAR.get(low)
    if irregular is not None:
        return irregular
    if len(low) <= 3 or not low.isalpha() or not low.endswith("s"):
        return low
    if low.endswith(_KEEP_SUFFIXES) and not low.endswith("ios"):
        return low
    if low.endswith("ies") and len(low) > 4:
        return low[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return low[:-2]
    return low[:-1]


# orth id -> lemma id, one map per StringStore: a lemma id is only usable (`token.lemma_`) in a
# vocab whose StringStore holds the lemma's text, and each pipeline has its own (pulse-eval and
# the tests build several). Keyed by id() with the store kept alive next to its map.
_LEMMA_IDS: dict[int, tuple[object, dict[int, int]]] = {}
_TEXTS: dict[int, str] = {}  # orth id -> token text (a hash is the same in every vocab)
_CACHE_CAP = 500_000


def _lemma_ids(strings) -> dict[int, int]:
    entry = _LEMMA_IDS.get(id(strings))
    if entry is None or entry[0] is not strings:
        entry = _LEMMA_IDS[id(strings)] = (strings, {})
    return entry[1]


def _lemma_id(strings, cache: dict[int, int], orth: int) -> int:
    lemma = strings.add(lemmatize(strings[orth]))
    if len(cache) < _CACHE_CAP:
        cache[orth] = lemma
    return lemma


def set_lemmas(doc: Doc) -> list[int]:
    """Set every token's LEMMA (see `lemmatize`); returns the tokens' ORTH ids."""
    orths: list[int] = doc.to_array(ORTH).tolist()
    strings = doc.vocab.strings
    cache = _lemma_ids(strings)
    lemmas = list(map(cache.get, orths))
    if None in lemmas:
        lemmas = [
            lemma if lemma is not None else _lemma_id(strings, cache, o)
            for o, lemma in zip(orths, lemmas, strict=True)
        ]
    doc.from_array([LEMMA], np.array(lemmas, dtype=np.uint64).reshape(-1, 1))
    return orths


def token_texts(doc: Doc, orths: list[int]) -> list[str]:
    """`[t.text for t in doc]` from the ORTH ids, without building Token objects."""
    words = list(map(_TEXTS.get, orths))
    if None in words:
        strings = doc.vocab.strings
        for i, orth in enumerate(orths):
            if words[i] is None:
                words[i] = text = strings[orth]
                if len(_TEXTS) < _CACHE_CAP:
                    _TEXTS[orth] = text
    return words  # type: ignore[return-value]


@Language.component("pulse_lemmatizer")
def pulse_lemmatizer(doc: Doc) -> Doc:
    if len(doc):
        set_lemmas(doc)
    return doc


def build_nlp(spacy_model: str = "blank:en") -> Language:
    """ "blank:<lang>" for a blank pipeline, else the name/path of an installed pipeline."""
    if spacy_model.startswith("blank:"):
        nlp = spacy.blank(spacy_model.split(":", 1)[1] or "en")
    else:
        nlp = spacy.load(spacy_model, exclude=["ner", "parser", "textcat"])
    if "pulse_lemmatizer" not in nlp.pipe_names:
        nlp.add_pipe("pulse_lemmatizer", last=True)
    return nlp
