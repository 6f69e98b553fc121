"""The enrichment core: a pure function from a normalized `Post` to an `EnrichedPost`.

`Enricher(tracking)` loads every versioned artifact once (spaCy pipeline, lexicons,
trained linear models); `enrich(post)` then does no I/O and keeps no state. The one
stateful signal, duplicate text, needs an explicit `DuplicateTracker` passed in.

The sentiment decisions (post, target, aspect: models and rules) are `sentiment.SentimentScorer`;
this module finds what a post mentions (brands, aspects) and assembles the `EnrichedPost`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
from spacy.tokens import Doc
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from pulse_common.schema import EnrichedPost, Post, Sentiment
from pulse_common.tracking import TrackingConfig

from .artifacts import DEFAULT_MODEL_DIR, version_string
from .aspect_model import AspectSentimentModel
from .aspects import AspectHit, BrandWords, SenseFilter, TaxonomyMatcher
from .brands import BrandHit, BrandMatcher
from .features import fold_tokens
from .influence import DuplicateTracker, flags_for, influence_fields
from .lang import detect_language
from .lexicon import OpinionLexicon, clause_ids
from .pipeline import build_nlp, lemmatize, set_lemmas, token_texts
from .post_model import PostSentimentModel
from .sentiment import NEUTRAL_SCORES, SentimentScorer, clip
from .tagger import AspectTagger
from .target_model import TargetSentimentModel
from .text import (
    extract_emojis,
    extract_hashtags,
    extract_mentions,
    extract_urls,
    is_manual_retweet,
    merge_unique,
    merge_unique_folded,
    merge_urls,
    normalize_text,
)
from .word_clusters import load_word_clusters

SUPPORTED_LANGUAGES = frozenset({"en"})
_SARCASM_RE = re.compile(r"#sarcas(?:m|tic)\b|(?:^|\s)/s\s*$|\byeah,? right\b|#not\s*$", re.IGNORECASE)
# The same alternatives, each searched only when the character it needs is there: '#', '/', or
# "yeah" in any case (y, e, a, h have no case-insensitive equivalents beyond ASCII Y, E, A, H).
_SARCASM_TAG_RE = re.compile(r"#sarcas(?:m|tic)\b|#not\s*$", re.IGNORECASE)
_SARCASM_SLASH_RE = re.compile(r"(?:^|\s)/s\s*$", re.IGNORECASE)
_SARCASM_YEAH_RE = re.compile(r"\byeah,? right\b", re.IGNORECASE)


def is_sarcastic(text: str) -> bool:
    """`_SARCASM_RE.search(text) is not None`, faster on the usual post that has no marker."""
    return (
        ("#" in text and _SARCASM_TAG_RE.search(text) is not None)
        or ("/" in text and _SARCASM_SLASH_RE.search(text) is not None)
        or ("yeah" in text.lower() and _SARCASM_YEAH_RE.search(text) is not None)
    )


class Enricher:
    """Loads artifacts once; `enrich` is pure (same post in, same enriched post out)."""

    def __init__(
        self,
        tracking: TrackingConfig,
        *,
        model_dir: str | Path | None = None,
        spacy_model: str = "blank:en",
        languages: list[str] | None = None,
    ) -> None:
        self.tracking = tracking
        self.model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        self.nlp = build_nlp(spacy_model)
        self._components = list(self.nlp.pipeline)  # called directly: skips Language.__call__ overhead
        # The usual pipeline (tokenizer + pulse_lemmatizer) runs fused: one ORTH array gives the
        # lemmas and the token texts.
        self._fused = self.nlp.pipe_names == ["pulse_lemmatizer"]
        self._tokenizer = self.nlp.tokenizer
        self._set_tracking(tracking)
        self.vader = SentimentIntensityAnalyzer()
        self.lexicon = OpinionLexicon(self.model_dir / "domain_lexicon.json", self.vader)
        clusters = load_word_clusters(self.model_dir)
        self.scorer = SentimentScorer(
            self.vader,
            PostSentimentModel.load(self.model_dir, clusters),
            TargetSentimentModel.load(self.model_dir),
            AspectSentimentModel.load(self.model_dir),
        )
        self.tagger = AspectTagger.load(self.model_dir, clusters)
        self.languages = frozenset(languages or tracking.languages or ["en"]) & SUPPORTED_LANGUAGES
        self.version = version_string(self.model_dir)

    @property
    def post_model(self) -> PostSentimentModel | None:
        return self.scorer.post_model

    @property
    def target_model(self) -> TargetSentimentModel | None:
        return self.scorer.target_model

    @property
    def aspect_model(self) -> AspectSentimentModel | None:
        return self.scorer.aspect_model

    def _set_tracking(self, tracking: TrackingConfig) -> None:
        self.tracking = tracking
        self.brand_matcher = BrandMatcher(self.nlp, tracking)
        self.taxonomy = TaxonomyMatcher(self.nlp, tracking)
        self.brand_words = BrandWords(tracking)
        self.sense = SenseFilter(tracking, self.brand_words)

    def with_tracking(self, tracking: TrackingConfig) -> Enricher:
        """The same models and pipeline with another tracking config (pulse-eval scores each
        target of a target-sentiment file as the one tracked product)."""
        other = copy.copy(self)
        other._set_tracking(tracking)
        return other

    def with_models(
        self,
        *,
        tagger: AspectTagger | None = None,
        aspect_model: AspectSentimentModel | None = None,
        target_model: TargetSentimentModel | None = None,
    ) -> Enricher:
        """The same pipeline with some models replaced (pulse-eval's cross-validation folds)."""
        other = copy.copy(self)
        if tagger is not None:
            other.tagger = tagger
        other.scorer = copy.copy(self.scorer)
        if aspect_model is not None:
            other.scorer.aspect_model = aspect_model
        if target_model is not None:
            other.scorer.target_model = target_model
        return other

    # -- building blocks (also used by pulse-eval, so it scores exactly what production does) --
    def analyze(self, text: str) -> tuple[Doc, list[str], list[float]]:
        # = self.nlp.make_doc(text) (which only adds this length check), one call less
        doc = self._tokenizer(text) if len(text) <= self.nlp.max_length else self.nlp.make_doc(text)
        if self._fused:
            words = token_texts(doc, set_lemmas(doc)) if len(doc) else []
        else:
            for _name, component in self._components:
                doc = component(doc)
            words = [t.text for t in doc]
        return doc, words, self.lexicon.token_valences(words)

    def post_sentiment(
        self,
        text: str,
        words: list[str] | None = None,
        valences: list[float] | None = None,
    ) -> tuple[Sentiment, np.ndarray | None]:
        """Post-level sentiment of a normalized English text (and the class probabilities)."""
        if words is None or valences is None:
            _doc, words, valences = self.analyze(text)
        scores, proba, _feats = self.scorer.post_scores(text, words, valences, fold_tokens(words))
        sentiment = Sentiment(label=scores[0], score=scores[1], confidence=scores[2])
        return sentiment, (np.array(proba) if proba is not None else None)

    def target_sentiment(
        self,
        text: str,
        words: list[str],
        valences: list[float],
        t_start: int,
        t_end: int,
        post_proba: Sequence[float] | None,
        *,
        several_targets: bool = False,
        toks: list[str] | None = None,
        clauses: list[int] | None = None,
        post_feats: dict[int, float] | None = None,
    ) -> Sentiment:
        """Sentiment toward tokens [t_start, t_end) (brand mentions; Dong-2014-style targets).

        The trained target model decides. When the post names several brands ("I love my
        Orbit S5 but the Lumen Pro is garbage") the clause-scoped rules lead instead, with
        the model's signed score as a 0.3-weight prior, as for aspects.
        """
        label, score, confidence = self.scorer.target_scores(
            text, words, valences, t_start, t_end, post_proba, several_targets, toks, clauses, post_feats
        )
        return Sentiment(label=label, score=score, confidence=confidence)

    def extract_aspects(
        self,
        doc: Doc,
        words: list[str],
        valences: list[float],
        text: str | None = None,
        brand_hits: list[BrandHit] | None = None,
    ) -> list[AspectHit]:
        """Taxonomy matches used in their product sense, plus open-vocabulary terms from the
        tagger (taxonomy wins overlaps; brand names, hashtags and mentions are never aspects)."""
        if text is None:
            text = doc.text
        brand_hits = brand_hits or []
        found = self.taxonomy.find(doc, text)
        context: bool | None = None
        hits: list[AspectHit] = []
        rejected: list[AspectHit] = []
        for h in found:
            if h.token_end - h.token_start == 1:
                if self.sense.changes_sense(words, h.token_start, valences):
                    rejected.append(h)
                    continue
                if self.sense.needs_context(h, doc[h.token_start].lemma_):
                    if context is None:
                        context = self.sense.product_context(words, bool(brand_hits), found)
                    if not context:
                        rejected.append(h)
                        continue
            hits.append(h)
        if self.tagger is None:
            return hits
        taken = [0] * len(words)  # 1: a kept taxonomy term, 2: a word not used as a feature
        for h in hits:
            for i in range(h.token_start, h.token_end):
                taken[i] = 1
        for h in rejected:
            for i in range(h.token_start, h.token_end):
                taken[i] = 2
        brand_tokens = {
            i for b in brand_hits if b.token_start >= 0 for i in range(b.token_start, b.token_end)
        }
        added = False
        for start, end in self.tagger.tag_spans(words, valences):
            if any(taken[start:end]):
                continue
            span = self.brand_words.trim(words, start, end, brand_tokens)
            if span is None:
                continue
            start, end = span
            s_char = doc[start].idx
            last = doc[end - 1]
            e_char = last.idx + len(last.text)
            kept = [t for t in doc[start:end] if t.text[0].isalnum() or t.text == "-"]
            name = "".join(lemmatize(t.text) + t.whitespace_ for t in kept).strip()
            hits.append(
                AspectHit(
                    name or text[s_char:e_char].lower(),
                    text[s_char:e_char],
                    start,
                    end,
                    s_char,
                    e_char,
                    None,
                    False,
                )
            )
            added = True
        if added:
            hits.sort(key=lambda h: h.token_start)
        return hits

    # -- the pure function -----------------------------------------------------------------
    def enrich(
        self,
        post: Post,
        ingested_at: datetime | None = None,
        *,
        enriched_at: datetime | None = None,
        duplicates: DuplicateTracker | None = None,
    ) -> EnrichedPost:
        text = normalize_text(post.text)
        urls = merge_urls(post.urls, extract_urls(text))
        mentions = merge_unique_folded(post.mentions, extract_mentions(text))
        hashtags = merge_unique([h.lstrip("#").lower() for h in post.hashtags], extract_hashtags(text))
        emojis = extract_emojis(text)
        lang = detect_language(text, post.lang, declared=post.network == "bluesky")
        post_type = post.post_type
        if post_type == "original" and is_manual_retweet(text):
            post_type = "retweet"

        doc, words, valences = self.analyze(text)
        # Not an opinion: a retweet (the original's), a hidden post (a placeholder or withheld
        # text), an empty text (an image-only post).
        scored = post_type != "retweet" and not post.hidden and bool(words)
        brand_hits = self.brand_matcher.find(doc, hashtags, text)

        influence = influence_fields(post)
        flags = flags_for(post, hashtags, len(words), influence["account_age_days"])
        if post.hidden:
            flags.append("hidden")
        if duplicates is not None and duplicates.seen_before(post.id, text):
            flags.append("duplicate_text")

        # The nested parts are plain dicts: `EnrichedPost.model_validate` below checks and builds
        # them in one call (cheaper than one pydantic model per part, same result).
        sentiment = NEUTRAL_SCORES
        aspects: list[dict] = []
        brands: list[dict] = []
        english = lang in self.languages or lang == "und"
        if not english:
            flags.append("unsupported_language")
        sarcastic = is_sarcastic(text)
        if sarcastic:
            flags.append("sarcasm_marker")

        post_proba = None
        toks: list[str] | None = None
        clauses: list[int] | None = None
        post_feats: dict[int, float] | None = None
        analyzed = scored and english and bool(words)
        if analyzed:
            toks = fold_tokens(words)
            clauses = clause_ids(words)
            sentiment, post_proba, post_feats = self.scorer.post_scores(text, words, valences, toks)
            if sarcastic and sentiment[0] == "positive":
                sentiment = ("negative", -abs(sentiment[1]), sentiment[2] * 0.5)
            aspect_hits = self.extract_aspects(doc, words, valences, text, brand_hits)
            if aspect_hits:
                scored_aspects = self.scorer.aspect_polarities(
                    words,
                    valences,
                    [(h.token_start, h.token_end) for h in aspect_hits],
                    post_proba,
                    clauses,
                    text=text,
                    toks=toks,
                    post_feats=post_feats,
                )
                for hit, res in zip(aspect_hits, scored_aspects, strict=True):
                    polarity, score = res.polarity, res.score
                    if sarcastic and polarity == "positive":
                        polarity, score = "negative", -score
                    aspects.append(
                        {
                            "aspect": hit.aspect,
                            "term": hit.term,
                            "start": hit.start,
                            "end": hit.end,
                            "category": hit.category,
                            "in_taxonomy": hit.in_taxonomy,
                            "polarity": polarity,
                            "score": clip(score),
                            "opinions": res.opinions,
                            "product": _attribute(hit, brand_hits),
                        }
                    )
        several_brands = len({h.brand_id for h in brand_hits}) > 1
        share = post_feats if self.scorer.share_post_feats else None
        for hit in brand_hits:
            brand_sentiment = None
            if analyzed:
                if hit.token_start >= 0:
                    t_start, t_end = hit.token_start, hit.token_end
                else:  # a hashtag: its tokens are '#' + the tag
                    span = (
                        doc.char_span(hit.start, hit.end, alignment_mode="expand")
                        if hit.end > hit.start
                        else None
                    )
                    t_start, t_end = (span.start, span.end) if span is not None else (0, len(words))
                label, score, confidence = self.scorer.target_scores(
                    text, words, valences, t_start, t_end, post_proba, several_brands, toks, clauses, share
                )
                if sarcastic and label == "positive":
                    label, score, confidence = "negative", -score, confidence * 0.5
                brand_sentiment = {"label": label, "score": score, "confidence": confidence}
            brands.append(
                {
                    "id": hit.brand_id,
                    "kind": hit.kind,
                    "term": hit.term,
                    "start": hit.start,
                    "end": hit.end,
                    "sentiment": brand_sentiment,
                }
            )
        products = merge_unique([hit.brand_id for hit in brand_hits])

        data = dict(post.__dict__)
        data.update(
            text_normalized=text,
            lang=lang,
            post_type=post_type,
            hashtags=hashtags,
            mentions=mentions,
            urls=urls,
            emojis=emojis,
            brands=brands,
            products=products,
            sentiment={"label": sentiment[0], "score": sentiment[1], "confidence": sentiment[2]},
            aspects=aspects,
            influence=influence,
            flags=flags,
            scored=scored,
            enrichment_version=self.version,
            ingested_at=ingested_at,
            enriched_at=enriched_at,
        )
        return EnrichedPost.model_validate(data)


def _attribute(hit: AspectHit, brand_hits: list[BrandHit]) -> str | None:
    """The brand an aspect belongs to: the only brand, else the nearest one in the text."""
    ids = {b.brand_id for b in brand_hits}
    if not ids:
        return None
    if len(ids) == 1:
        return next(iter(ids))
    best, best_d = None, None
    for b in brand_hits:
        if b.token_start < 0:
            continue
        d = abs(b.token_start - hit.token_start)
        if b.token_start > hit.token_start:
            d += 2  # prefer a brand named before the feature ("Nova's camera", "Orbit S5: battery")
        if best_d is None or d < best_d:
            best, best_d = b.brand_id, d
    return best
