"""Opinion lexicon and clause-scoped polarity for aspect and brand mentions.

Lexicon: VADER's word and emoji valences (−4..+4) overlaid with `domain_lexicon.json`
(product-review words: "flaky", "laggy", "overheats"...). Rules, per mention:

* Scope: the mention's clause. Clauses break at sentence punctuation, ';', and contrast
  markers ("but", "however", "although", "though", "yet", "whereas", "except"), so in
  "battery life is great but face id is flaky" 'great' belongs to battery, 'flaky' to face id.
* Attribution: inside a clause each opinion word goes to the nearest mention (ties: all);
  a mention coordinated with another ("screen and battery are great") shares its opinions.
* Negation: a negator ("not", "n't", "never", "no", "without", ...) up to 3 tokens before an
  opinion word flips and damps it (×−0.74, as VADER).
* Intensifiers: VADER's booster words ("very", "super", "barely") up to 2 tokens before
  scale the valence; ALL-CAPS opinion words get VADER's caps boost.
* Emojis are opinion words with VADER's emoji valence (their description scored by VADER).
* Distance weighting: weight 1 / (1 + 0.15·distance in tokens). Negative words inside the
  term itself count ("lag", "battery drain"); positive ones do not ("fan noise").
The summed valence s maps to score = s / sqrt(s² + 4) ∈ (−1, 1); |score| < 0.15 is neutral.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate, compress, repeat
from operator import is_not
from pathlib import Path

from vaderSentiment import vaderSentiment as _vader  # noqa: N813

NEGATORS = frozenset(
    {w.lower() for w in _vader.NEGATE}
    | {
        "not",
        "n't",
        "no",
        "never",
        "without",
        "nothing",
        "nobody",
        "none",
        "neither",
        "nor",
        "hardly",
        "barely",
        "cannot",
        "lacks",
        "lacking",
        "zero",
        "nt",
        "dont",
        "doesnt",
        "isnt",
        "wasnt",
        "aint",
        "cant",
        "wont",
        "didnt",
    }
)
CONTRAST = frozenset(
    {"but", "however", "although", "though", "yet", "whereas", "except", "while", "tho", "unlike"}
)
CLAUSE_PUNCT = frozenset({".", "!", "?", ";", ",", "...", "..", "…", "!!", "?!", "!?", "\n", ":", "|", "•"})
COORDINATORS = frozenset({"and", "&", ",", "or", "/", "the", "its", "it's", "plus", "+", "my", "both", "n"})
BOOSTERS = {k.lower(): v for k, v in _vader.BOOSTER_DICT.items()}
NEUTRAL_BAND = 0.15
_UNSEEN = float("nan")  # cache-miss marker: `in` finds it by identity, no valence is ever it


@dataclass(slots=True)
class Opinion:
    word: str
    valence: float


@dataclass(slots=True)
class ScoredMention:
    score: float
    polarity: str
    opinions: list[str] = field(default_factory=list)


def polarity_of(score: float, band: float = NEUTRAL_BAND) -> str:
    if score >= band:
        return "positive"
    if score <= -band:
        return "negative"
    return "neutral"


class OpinionLexicon:
    def __init__(
        self, domain_lexicon: Path | None = None, analyzer: _vader.SentimentIntensityAnalyzer | None = None
    ) -> None:
        analyzer = analyzer or _vader.SentimentIntensityAnalyzer()
        self.valence: dict[str, float] = {k.lower(): float(v) for k, v in analyzer.lexicon.items()}
        if domain_lexicon is not None and domain_lexicon.exists():
            extra = json.loads(domain_lexicon.read_text(encoding="utf-8"))
            for word, value in extra.items():
                if not word.startswith("_"):
                    if value == 0:
                        self.valence.pop(word.lower(), None)
                    else:
                        self.valence[word.lower()] = float(value)
        for word in list(self.valence):
            if word in NEGATORS or word in BOOSTERS:
                self.valence.pop(word, None)
        self.emoji_valence: dict[str, float] = {}
        for emo, description in analyzer.emojis.items():
            words = [self.valence.get(w, 0.0) for w in description.lower().split()]
            score = sum(words)
            if abs(score) >= 0.5:
                self.emoji_valence[emo] = max(-3.0, min(3.0, score))
        self._base: dict[str, float | None] = {}  # token text -> lexicon valence or None (a cache)

    def word_valence(self, text: str) -> float:
        v = self.valence.get(text.lower())
        if v is not None:
            return v
        return self.emoji_valence.get(text, 0.0)

    def _base_valence(self, word: str) -> float | None:
        """Lexicon valence of a token before context rules: the word (any case), else the emoji."""
        v = self.valence.get(word.lower())
        if v is None:
            v = self.emoji_valence.get(word)
        if len(self._base) >= 100_000:
            self._base.clear()
        self._base[word] = v
        return v

    def token_valences(self, words: list[str]) -> list[float]:
        """Valence per token after negation, boosters and caps; 0.0 for non-opinion tokens."""
        n = len(words)
        out = [0.0] * n
        base = list(map(self._base.get, words, repeat(_UNSEEN, n)))
        if _UNSEEN in base:
            base = [self._base_valence(w) if b is _UNSEEN else b for w, b in zip(words, base, strict=True)]
        lows: list[str] | None = None
        for i in compress(range(n), map(is_not, base, repeat(None, n))):  # the lexicon's words
            v = base[i]
            if lows is None:
                lows = [w.lower() for w in words]
            w = words[i]
            if w.isupper() and len(w) > 1 and w.isalpha():
                v += 0.733 if v > 0 else -0.733
            for j in range(max(0, i - 2), i):
                b = BOOSTERS.get(lows[j])
                if b is not None:
                    v += b if v > 0 else -b
            for j in range(i - 1, max(0, i - 3) - 1, -1):
                if lows[j] in NEGATORS:
                    v *= -0.74
                    break
                if lows[j] in CLAUSE_PUNCT or lows[j] in CONTRAST:
                    break
            out[i] = v
        return out


@lru_cache(maxsize=100_000)
def _is_boundary(word: str) -> bool:
    low = word.lower()
    return low in CONTRAST or low in CLAUSE_PUNCT or (len(low) > 1 and set(low) <= {".", "!", "?"})


def clause_ids(words: list[str]) -> list[int]:
    """Clause number of each token; boundary tokens (punctuation, contrast words) get -1."""
    boundaries = list(map(_is_boundary, words))
    if True not in boundaries:
        return [0] * len(words)
    # A token's clause number counts the boundaries up to it (as ints: the counts start at 0).
    counts = accumulate(boundaries, initial=0)
    next(counts)
    return [-1 if edge else cid for edge, cid in zip(boundaries, counts, strict=True)]


def clause_span(clauses: list[int], c: int) -> tuple[int, int] | None:
    """[a, b): the positions of clause `c` (present in `clauses`) when they are contiguous, as
    `clause_ids` numbers them; None when they are not."""
    a = clauses.index(c)
    b = a + clauses.count(c)
    return (a, b) if clauses[a:b].count(c) == b - a else None


def score_mentions(
    words: list[str],
    spans: list[tuple[int, int]],
    valences: list[float],
    clauses: list[int],
) -> list[ScoredMention]:
    """Polarity of each mention span (token offsets [start, end)) from nearby opinion words."""
    n_spans = len(spans)
    sums = [0.0] * n_spans
    opinions: list[list[str]] = [[] for _ in range(n_spans)]
    # opinion words in a clause
    scoped = [i for i in compress(range(len(valences)), valences) if clauses[i] >= 0]
    span_clauses = (
        [clauses[s] if clauses[s] >= 0 else clauses[min(e - 1, len(clauses) - 1)] for s, e in spans]
        if scoped
        else []
    )
    for i in scoped:
        v = valences[i]
        clause = clauses[i]
        best_d = None
        best: list[int] = []
        for k, (s, e) in enumerate(spans):
            if span_clauses[k] != clause:
                continue
            if s <= i < e:  # inside the mention
                if v > 0 and not _negated(words, i):
                    continue  # a positive word inside the term ("fan noise") is not an opinion
                d = 0
            else:
                d = s - i if i < s else i - e + 1
            if best_d is None or d < best_d:
                best_d, best = d, [k]
            elif d == best_d:
                best.append(k)
        for k in best:
            sums[k] += v / (1.0 + 0.15 * best_d)  # type: ignore[operator]
            if words[i] not in opinions[k]:
                opinions[k].append(words[i])
    # Coordinated mentions ("screen, camera and battery are great") share opinions.
    changed = True
    while changed:
        changed = False
        for k in range(n_spans):
            if opinions[k]:
                continue
            for other in (k + 1, k - 1):
                if 0 <= other < n_spans and opinions[other]:
                    a, b = sorted((k, other))
                    gap = words[spans[a][1] : spans[b][0]]
                    if all(g.lower() in COORDINATORS for g in gap):
                        sums[k] = sums[other]
                        opinions[k] = list(opinions[other])
                        changed = True
                        break
    out: list[ScoredMention] = []
    for k in range(n_spans):
        s = sums[k]
        score = s / math.sqrt(s * s + 4.0) if s else 0.0
        out.append(ScoredMention(round(score, 4), polarity_of(score), opinions[k]))
    return out


def _negated(words: list[str], i: int) -> bool:
    for j in range(i - 1, max(0, i - 3) - 1, -1):
        low = words[j].lower()
        if low in NEGATORS:
            return True
        if low in CLAUSE_PUNCT or low in CONTRAST:
            return False
    return False
