"""Sentiment at three levels, as the Enricher decides it: the post, a target (a brand mention)
and an aspect term.

The trained models decide; the clause-scoped lexicon rules (lexicon.py) stand in for a model
that is absent, lead when a post names several brands (the model's signed score as a prior),
and win over the aspect model when the aspect's own negated opinion words clearly disagree.
Scores come out clipped, as `Sentiment` wants them.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .aspect_model import AspectSentimentModel, PostContext
from .features import fold_tokens, lexicon_dense, mark_negation
from .lexicon import ScoredMention, clause_ids, polarity_of, score_mentions
from .linear_model import LABELS, first_argmax
from .post_model import PostSentimentModel
from .target_model import TargetSentimentModel

ASPECT_PRIOR_WITH_OPINIONS = 0.3
ASPECT_PRIOR_ALONE = 1.0

Scores = tuple[str, float, float]  # a Sentiment's (label, score, confidence)
NEUTRAL_SCORES: Scores = ("neutral", 0.0, 0.0)


class SentimentScorer:
    """The post, target and aspect models (each may be None: the rules, or VADER for a post,
    stand in). The target and aspect models read the post model's feature columns when both
    hash alike."""

    def __init__(
        self,
        vader: SentimentIntensityAnalyzer,
        post_model: PostSentimentModel | None,
        target_model: TargetSentimentModel | None,
        aspect_model: AspectSentimentModel | None,
    ) -> None:
        self.vader = vader
        self.post_model = post_model
        self.target_model = target_model
        self.aspect_model = aspect_model
        self.share_post_feats = (
            post_model is not None
            and target_model is not None
            and post_model.model.bits == target_model.model.bits
        )
        self.share_aspect_feats = (
            post_model is not None
            and aspect_model is not None
            and post_model.model.bits == aspect_model.model.bits
        )

    def post_scores(
        self, text: str, words: list[str], valences: list[float], toks: list[str]
    ) -> tuple[Scores, list[float] | None, dict[int, float] | None]:
        """(label, score, confidence) — clipped, as `Sentiment` wants them — probabilities, features."""
        if not words:
            return NEUTRAL_SCORES, None, None
        if self.post_model is None:
            compound = self.vader.polarity_scores(text)["compound"]
            return _scores(polarity_of(compound, 0.05), compound, abs(compound)), None, None
        feats = self.post_model.features(words, valences, text, toks, lexicon_dense(valences, toks, text))
        proba = self.post_model.model.probs(feats)
        k = first_argmax(proba)
        return _scores(LABELS[k], float(proba[2] - proba[0]), float(proba[k])), proba, feats

    def target_scores(
        self,
        text: str,
        words: list[str],
        valences: list[float],
        t_start: int,
        t_end: int,
        post_proba: Sequence[float] | None,
        several_targets: bool,
        toks: list[str] | None,
        clauses: list[int] | None,
        post_feats: dict[int, float] | None,
    ) -> Scores:
        """(label, score, confidence) toward tokens [t_start, t_end) (see `Enricher.target_sentiment`)."""
        if clauses is None:
            clauses = clause_ids(words)
        rule = score_mentions(words, [(t_start, t_end)], valences, clauses)[0]
        if self.target_model is None:
            return _scores(rule.polarity, rule.score, abs(rule.score))
        if post_feats is None and self.share_post_feats:
            post_feats = self.post_model.features(words, valences, text, toks)  # type: ignore[union-attr]
        label, score, confidence = self.target_model.predict(
            words, valences, text, t_start, t_end, post_proba, toks, clauses, None, post_feats, rule
        )
        if several_targets and rule.opinions:
            score = clip(rule.score + ASPECT_PRIOR_WITH_OPINIONS * score)
            label, confidence = polarity_of(score), abs(score)
        return _scores(label, score, confidence)

    def aspect_polarities(
        self,
        words: list[str],
        valences: list[float],
        spans: list[tuple[int, int]],
        post_proba: Sequence[float] | None = None,
        clauses: list[int] | None = None,
        *,
        text: str | None = None,
        toks: list[str] | None = None,
        post_feats: dict[int, float] | None = None,
    ) -> list[ScoredMention]:
        """Polarity of each aspect span (negative / neutral / positive).

        The trained aspect model decides (SemEval-2014 laptop and restaurant terms: the
        aspect's clause and ±3-token window with negation marks, the clause-scoped opinion
        rules of lexicon.py as features, the post model's probabilities); its score is
        p(positive) − p(negative). The opinion words listed are the rules' (what the decision
        rests on). Without the model: the rules, plus the post-level model's signed score as a
        prior (weight 0.3 when the aspect has opinion words of its own, 1.0 when it has none).
        """
        if clauses is None:
            clauses = clause_ids(words)
        scored = score_mentions(words, spans, valences, clauses)
        if self.aspect_model is not None and text is not None:
            if toks is None:
                toks = fold_tokens(words)
            out = []
            if post_feats is None and self.post_model is not None:
                post_feats = self.post_model.features(words, valences, text, toks)
            share = post_feats if self.share_aspect_feats else None
            negated = mark_negation(toks)
            ctx = PostContext(words, valences, text, toks, clauses, post_proba, share, negated)
            # The clauses holding a negated opinion word (once per post, not per aspect).
            negated_clauses = {
                clauses[i] for i in compress(range(len(valences)), valences) if negated[i].endswith("_NEG")
            }
            for (start, end), rule in zip(spans, scored, strict=True):
                p = self.aspect_model.probs(ctx, start, end, len(spans), rule)
                c = clauses[start]
                out.append(_combine(p, rule, c >= 0 and c in negated_clauses))
            return out
        if post_proba is None:
            return scored
        prior = float(post_proba[2] - post_proba[0])
        out = []
        for res in scored:
            score = clip(
                res.score + (ASPECT_PRIOR_WITH_OPINIONS if res.opinions else ASPECT_PRIOR_ALONE) * prior
            )
            out.append(ScoredMention(round(score, 4), polarity_of(score), res.opinions))
        return out


RULE_OVERRIDE = 0.4  # a negated opinion rule this strong wins over a disagreeing model


def _combine(proba: list[float], rule: ScoredMention, negated_opinion: bool) -> ScoredMention:
    """The aspect model's verdict, unless the aspect's own negated opinion words clearly say
    otherwise ("no lag at all", "not bad": the rules flip the negated word; the review-trained
    weights often read the problem word alone)."""
    k = first_argmax(proba)
    label, score = LABELS[k], proba[2] - proba[0]
    if negated_opinion and abs(rule.score) >= RULE_OVERRIDE and label != rule.polarity:
        label, score = rule.polarity, (score + rule.score) / 2
        if polarity_of(score) != label:
            score = rule.score
    return ScoredMention(round(clip(score), 4), label, rule.opinions)


def _scores(label: str, score: float, confidence: float) -> Scores:
    return label, clip(score), _clip01(confidence)


def clip(x: float) -> float:
    """Into [-1, 1]."""
    y = float(x)  # = max(-1.0, min(1.0, y)): min keeps 1.0 unless y < 1.0, max keeps -1.0 unless m > -1.0
    m = y if y < 1.0 else 1.0
    return m if m > -1.0 else -1.0


def _clip01(x: float) -> float:
    y = float(x)  # = max(0.0, min(1.0, y)), as in `clip`
    m = y if y < 1.0 else 1.0
    return m if m > 0.0 else 0.0
