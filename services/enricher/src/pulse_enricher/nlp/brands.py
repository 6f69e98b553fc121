"""Product and competitor detection from the tracking config.

Terms (name + aliases) are matched with a spaCy PhraseMatcher on token lemmas, so the
match is case- and inflection-insensitive and respects token (word) boundaries:
"Nova 12" never matches inside "Nova 123" or "Nova12x". Hyphenated and joined spellings
of multi-word terms are added ("Nova-12"). A brand's `exclude` terms ("Nova 12 Lite")
veto any of its matches that lie inside them. Hashtags are matched on the post's
hashtags (case-insensitive, exact tag).
"""

from __future__ import annotations

from typing import NamedTuple

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from pulse_common.tracking import TrackingConfig


class BrandHit(NamedTuple):  # immutable like a frozen dataclass, but cheap to build
    brand_id: str
    kind: str
    term: str
    start: int  # character offsets in the normalized text
    end: int
    token_start: int
    token_end: int


def _variants(term: str) -> list[str]:
    words = term.split()
    out = [term]
    if len(words) > 1:
        out.append("-".join(words))
    return out


class BrandMatcher:
    def __init__(self, nlp: Language, tracking: TrackingConfig) -> None:
        self._matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._exclude = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._kind: dict[str, str] = {}
        self._hashtags: dict[str, str] = {}
        self._has_exclude: set[int] = set()
        for brand in tracking.brands:
            kind = tracking.brand_kind(brand.id)
            self._kind[brand.id] = kind
            patterns = [nlp(v) for term in brand.terms for v in _variants(term)]
            self._matcher.add(brand.id, patterns)
            if brand.exclude:
                self._exclude.add(brand.id, [nlp(v) for term in brand.exclude for v in _variants(term)])
                self._has_exclude.add(nlp.vocab.strings.add(brand.id))  # match ids are the key hashes
            for tag in brand.hashtags:
                self._hashtags.setdefault(tag.lower(), brand.id)
            # A hashtag spelling of a one-token alias ("#Nova12") is the same mention.
            for term in brand.terms:
                self._hashtags.setdefault("".join(term.lower().split()), brand.id)
        self._strings = nlp.vocab.strings

    def find(self, doc: Doc, hashtags: list[str], text: str | None = None) -> list[BrandHit]:
        if text is None:
            text = doc.text
        matches = self._matcher(doc)
        excluded: dict[str, list[tuple[int, int]]] = {}
        if matches and any(m[0] in self._has_exclude for m in matches):
            for match_id, start, end in self._exclude(doc):
                excluded.setdefault(self._strings[match_id], []).append((start, end))
        hits: list[BrandHit] = []
        for match_id, start, end in matches:
            brand_id = self._strings[match_id]
            if any(s <= start and end <= e for s, e in excluded.get(brand_id, ())):
                continue
            # = doc[start:end].text / .start_char / .end_char, without building a Span
            s_char = doc[start].idx
            last = doc[end - 1]
            e_char = last.idx + len(last.text)
            hits.append(
                BrandHit(brand_id, self._kind[brand_id], text[s_char:e_char], s_char, e_char, start, end)
            )
        # Keep the longest match where spans of the same brand overlap.
        hits.sort(key=lambda h: (h.token_start, -(h.token_end - h.token_start)))
        kept: list[BrandHit] = []
        for hit in hits:
            if kept and hit.token_start < kept[-1].token_end:
                continue
            kept.append(hit)
        low = text.lower()
        for tag in hashtags:
            brand_id = self._hashtags.get(tag.lower())
            if brand_id is None:
                continue
            pos = low.find("#" + tag.lower())
            if pos < 0:
                kept.append(BrandHit(brand_id, self._kind[brand_id], "#" + tag, 0, 0, -1, -1))
                continue
            end = pos + len(tag) + 1
            if any(h.brand_id == brand_id and h.start <= pos + 1 and h.end >= end for h in kept):
                continue  # "#Nova12": already matched as the alias right after the '#'
            kept.append(BrandHit(brand_id, self._kind[brand_id], text[pos:end], pos, end, -1, -1))
        kept.sort(key=lambda h: h.start)
        return kept
