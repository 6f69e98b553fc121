"""Aspect detection: the tracking-config taxonomy via PhraseMatcher, plus open-vocabulary terms.

Taxonomy terms (aspect name + synonyms) are matched on token lemmas (case- and
inflection-insensitive, word boundaries; hyphenated spellings included), so
product-specific features no dataset knows ("face unlock") keep working. Open-vocabulary
terms come from the trained BIO tagger (`tagger.py`); a tagged span that overlaps a
taxonomy match is folded into the taxonomy aspect.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from pulse_common.tracking import TrackingConfig


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
