"""Aspect detection: the tracking-config taxonomy via PhraseMatcher, plus open-vocabulary terms.

Taxonomy terms (aspect name + synonyms) are matched on token lemmas (case- and
inflection-insensitive, word boundaries; hyphenated spellings included), so
product-specific features no dataset knows ("face unlock") keep working. Open-vocabulary
terms come from the trained CRF tagger (`tagger.py`); a tagged span that overlaps a
taxonomy match is folded into the taxonomy aspect.

Word sense (`SenseFilter`): a one-word synonym ("charge", "chip", "support") names a product
feature only when it is used as one. It counts only when the post is about a product (a
tracked brand or a word of its name, another multi-word feature term, a product noun such as
"phone"), and never when the word right before it makes it another thing ("misdemeanor
charge", "tortilla chip"): a plain lower-case noun that is not a product or feature word.
An aspect's own name ("camera") needs no product context, only the same modifier check;
multi-word terms ("battery life", "customer support") are specific enough as they are.

Brand names are never aspects (`BrandWords`): open-vocabulary spans lose tracked names,
aliases, hashtags and mentions at their edges, and vanish when nothing else is left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from pulse_common.tracking import TrackingConfig

from .pipeline import lemmatize


@dataclass(slots=True)
class AspectHit:
    aspect: str
    term: str
    token_start: int
    token_end: int
    start: int
    end: int
    category: str | None
    in_taxonomy: bool


class TaxonomyMatcher:
    def __init__(self, nlp: Language, tracking: TrackingConfig) -> None:
        self._matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._category: dict[str, str | None] = {}
        for aspect in tracking.aspects:
            self._category[aspect.id] = aspect.category
            patterns = []
            for term in aspect.terms:
                patterns.append(nlp(term))
                words = term.split()
                if len(words) > 1:
                    patterns.append(nlp("-".join(words)))
            self._matcher.add(aspect.id, patterns)
        self._strings = nlp.vocab.strings

    def find(self, doc: Doc, text: str | None = None) -> list[AspectHit]:
        """Taxonomy matches, longest first where they overlap; `text` is `doc.text` when known."""
        matches = sorted(self._matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        if matches and text is None:
            text = doc.text
        hits: list[AspectHit] = []
        last_end = -1
        for match_id, start, end in matches:
            if start < last_end:
                continue  # longest match wins ("battery life" over "battery")
            aspect_id = self._strings[match_id]
            # = doc[start:end].text / .start_char / .end_char, without building a Span
            s_char = doc[start].idx
            last = doc[end - 1]
            e_char = last.idx + len(last.text)
            hits.append(
                AspectHit(
                    aspect_id,
                    text[s_char:e_char],  # type: ignore[index]
                    start,
                    end,
                    s_char,
                    e_char,
                    self._category[aspect_id],
                    True,
                )
            )
            last_end = end
        return hits


# Nouns that make a post about a device even when no tracked brand is named.
PRODUCT_NOUNS = frozenset(
    "phone phones smartphone smartphones device devices handset laptop laptops tablet tablets "
    "computer gadget model app apps update firmware android ios iphone pixel galaxy".split()
)
# Words that may stand right before a feature word without changing its sense.
_FUNCTION_WORDS = frozenset(
    "a an the this that these those my your his her its our their whose which what no any some "
    "every each all both either more most less least much many few such same other another own "
    "of in on at by for with from to into onto over under about after before during without "
    "and or but nor so than then as if when while because though although "
    "is are was were be been being am has have had do does did get gets got getting "
    "i you he she it we they me him us them who whom "
    "not n't no never very really so too quite pretty super just only even still also "
    "one two three four five six seven eight nine ten".split()
)
# Modifiers that keep a feature word a feature ("fast charge", "tech support", "new chip").
FEATURE_MODIFIERS = frozenset(
    "tech technical customer after-sales sales phone device battery fast quick slow rapid wireless "
    "wired usb magnetic turbo super front rear back main primary secondary selfie wide ultra "
    "telephoto macro night portrait low full new old latest first last next current whole overall "
    "software firmware system security face fingerprint screen display touch headphone audio "
    "video graphics gaming processor cpu gpu ai neural signal network cell cellular data home "
    "lock power charging charger single dual quad overnight daily".split()
)
_ADJECTIVE_SUFFIXES = (
    "al",
    "ic",
    "ful",
    "less",
    "ous",
    "ive",
    "able",
    "ible",
    "est",
    "ed",
    "ing",
    "ish",
    "ary",
)
_ALNUM_MODEL = re.compile(r"^(?=.*\d)[a-z0-9\-]+$", re.IGNORECASE)


def _words_of(terms: list[str]) -> set[str]:
    out: set[str] = set()
    for term in terms:
        out.update(w for w in re.split(r"[\s\-]+", term.lower()) if w)
    return out


class BrandWords:
    """Tokens that name a tracked brand: names, aliases (each word of a multi-word name's head),
    joined spellings and hashtags, lower-cased."""

    def __init__(self, tracking: TrackingConfig) -> None:
        words: set[str] = set()
        for brand in tracking.brands:
            for term in brand.terms:
                parts = term.lower().split()
                words.add("".join(parts))
                words.add("-".join(parts))
                words.add(parts[0])  # "orbit" alone still names Orbit
                if len(parts) == 1:
                    words.add(parts[0])
            words.update(brand.hashtags)
        self.words = frozenset(w for w in words if w)

    def is_brand_token(self, word: str) -> bool:
        low = word.lower().lstrip("#@")
        return word[:1] in ("#", "@") or low in self.words

    def trim(
        self, words: list[str], start: int, end: int, brand_tokens: frozenset[int] | set[int] = frozenset()
    ) -> tuple[int, int] | None:
        """The span without brand tokens (`brand_tokens`: the brand matcher's token positions),
        hashtags or mentions at its edges; None when nothing else is left or a brand sits inside."""

        def branded(i: int) -> bool:
            return i in brand_tokens or words[i] in ("#", "@") or self.is_brand_token(words[i])

        while start < end and branded(start):
            start += 1
        while end > start and branded(end - 1):
            end -= 1
        if start >= end or not any(w[:1].isalnum() for w in words[start:end]):
            return None
        if any(branded(i) for i in range(start, end)):
            return None  # a brand inside the span ("camera of Orbit phone"): not one feature term
        return start, end


class SenseFilter:
    """Decides whether a one-word taxonomy match is used as a product feature (see module doc)."""

    def __init__(self, tracking: TrackingConfig, brand_words: BrandWords) -> None:
        self.vocabulary = frozenset(
            _words_of([t for a in tracking.aspects for t in a.terms]) | brand_words.words | PRODUCT_NOUNS
        )
        self.brand_words = brand_words
        self.names = frozenset(" ".join(lemmatize(w) for w in a.name.split()) for a in tracking.aspects)

    def changes_sense(self, words: list[str], start: int, valences: list[float]) -> bool:
        """True when the token before `start` turns the term into something else ("tortilla chip")."""
        if start == 0:
            return False
        prev = words[start - 1]
        low = prev.lower()
        if not prev.isalpha() or low in _FUNCTION_WORDS or low in FEATURE_MODIFIERS or low in self.vocabulary:
            return False
        if _ALNUM_MODEL.match(prev) or valences[start - 1] != 0.0:
            return False  # a model number ("A17 chip") or an opinion word ("awful support")
        if prev[0].isupper() and start - 1 > 0 and not prev.isupper():
            return False  # a proper name mid-sentence ("Snapdragon chip")
        if low.endswith("'s") or self.brand_words.is_brand_token(prev):
            return False
        return not low.endswith(_ADJECTIVE_SUFFIXES)

    def needs_context(self, hit: AspectHit, lemma: str) -> bool:
        """A one-word synonym (not the aspect's own name) is only a feature in product talk."""
        return hit.token_end - hit.token_start == 1 and lemma not in self.names

    def product_context(self, words: list[str], has_brand: bool, hits: list[AspectHit]) -> bool:
        if has_brand:
            return True
        if any(h.token_end - h.token_start > 1 for h in hits) or len({h.aspect for h in hits}) > 1:
            return True  # a specific feature term ("battery life") or several features in one post
        brand = self.brand_words.words
        return any((low := w.lower()) in PRODUCT_NOUNS or low in brand for w in words)
