"""Loaders for the trained artifacts. Each returns None when its artifact is absent,
so the Enricher degrades to lexicon rules (VADER) instead of failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

POST_MODEL = "post_sentiment.npz.gz"
TARGET_MODEL = "target_sentiment.npz.gz"
ASPECT_TAGGER = "aspect_tagger.npz.gz"


class PostSentimentModel:
    @classmethod
    def load(cls, model_dir: Path, vader: Any) -> PostSentimentModel | None:
        path = model_dir / POST_MODEL
        if not path.exists():
            return None
        raise NotImplementedError

    def predict(self, text: str) -> tuple[str, float, float]:
        raise NotImplementedError


class TargetSentimentModel:
    @classmethod
    def load(cls, model_dir: Path, vader: Any) -> TargetSentimentModel | None:
        path = model_dir / TARGET_MODEL
        if not path.exists():
            return None
        raise NotImplementedError

    def predict(self, text: str, start: int, end: int) -> tuple[str, float, float]:
        raise NotImplementedError


class AspectTagger:
    @classmethod
    def load(cls, model_dir: Path) -> AspectTagger | None:
        path = model_dir / ASPECT_TAGGER
        if not path.exists():
            return None
        raise NotImplementedError

    def spans(self, doc: Any) -> list[tuple[int, int]]:
        raise NotImplementedError
