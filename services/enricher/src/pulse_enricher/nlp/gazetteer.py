"""The aspect-term gazetteer: the aspect terms seen in training, which the tagger reads as
features (the longest known term at each position, and each word's in-term ratio).
"""

from __future__ import annotations

import gzip
import json
from itertools import compress
from pathlib import Path

ASPECT_GAZETTEER = "aspect_gazetteer.json.gz"
GAZETTEER_MAX_LEN = 6
GAZETTEER_MIN_PRECISION = 0.2


class Gazetteer:
    """Aspect terms seen in training: each term (lower-cased tokens) with its precision (how
    often the term is tagged where its words occur), and per word how often it is inside a term.

    `marks` finds the longest known term at each position (left to right, terms of precision
    ≥ 0.2) and codes its tokens 1..3 (first token: precision high / mid / low) or 4..6 (inside);
    0 elsewhere. In training the tagger sees these from a gazetteer built without the sentence
    itself (jackknifed), as it will see unseen text."""

    def __init__(self, terms: dict[tuple[str, ...], float], ratio: dict[str, str]) -> None:
        self.terms = terms
        self.ratio = ratio
        self.first = {t[0] for t in terms}
        # First word -> the lengths of its terms that `marks` may use (precision ≥ the minimum),
        # longest first, and each such term's code.
        self._lengths: dict[str, list[int]] = {}
        self._levels: dict[tuple[str, ...], int] = {}
        for term, p in terms.items():
            if p >= GAZETTEER_MIN_PRECISION and len(term) <= GAZETTEER_MAX_LEN:
                self._levels[term] = 1 if p >= 0.6 else 2 if p >= 0.35 else 3
                self._lengths.setdefault(term[0], []).append(len(term))
        for sizes in self._lengths.values():
            sizes[:] = sorted(set(sizes), reverse=True)

    @classmethod
    def build(cls, items: list[tuple[list[str], list[tuple[int, int]]]]) -> Gazetteer:
        """From (lower-cased tokens, gold token spans) pairs."""
        from collections import Counter

        counts: Counter = Counter()
        in_term: Counter = Counter()
        seen: Counter = Counter()
        for lows, spans in items:
            inside = [False] * len(lows)
            for s, e in spans:
                counts[tuple(lows[s:e])] += 1
                for i in range(s, e):
                    inside[i] = True
            for w, flag in zip(lows, inside, strict=True):
                seen[w] += 1
                in_term[w] += flag
        occurrences: Counter = Counter()
        for lows, _spans in items:
            for i in range(len(lows)):
                for n in range(1, GAZETTEER_MAX_LEN + 1):
                    if i + n > len(lows):
                        break
                    t = tuple(lows[i : i + n])
                    if t in counts:
                        occurrences[t] += 1
        terms = {t: round(counts[t] / occurrences[t], 4) for t in sorted(counts) if occurrences[t]}
        ratio = {}
        for w in sorted(in_term):
            a, m = in_term[w], seen[w]
            if a:
                ratio[w] = f"{min(a / m, 1.0):.1f}" if m >= 2 else f"one{a}"
        return cls(terms, ratio)

    def marks(self, lows: list[str]) -> list[int]:
        n = len(lows)
        out = [0] * n
        lengths, levels = self._lengths, self._levels
        free = 0  # the first position not inside a term already marked
        for i in compress(range(n), map(lengths.__contains__, lows)):  # words that start a term
            if i < free:
                continue
            for size in lengths[lows[i]]:
                if size > n - i:
                    continue
                level = levels.get(tuple(lows[i : i + size]))
                if level is not None:
                    out[i] = level
                    for k in range(i + 1, i + size):
                        out[k] = level + 3
                    free = i + size
                    break
        return out

    def ratio_feature(self, low: str) -> str:
        """The word's in-term ratio as a feature string ("r:none" for a word never in a term)."""
        return "r:" + self.ratio.get(low, "none")

    def to_json(self) -> dict:
        return {"terms": {" ".join(t): p for t, p in self.terms.items()}, "ratio": self.ratio}

    @classmethod
    def from_json(cls, data: dict) -> Gazetteer:
        return cls({tuple(t.split(" ")): float(p) for t, p in data["terms"].items()}, data["ratio"])


def load_gazetteer(model_dir: Path) -> Gazetteer | None:
    path = model_dir / ASPECT_GAZETTEER
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return Gazetteer.from_json(json.load(fh))
