"""Pulse NLP core: `Enricher(tracking).enrich(post)` -> EnrichedPost (pure, no I/O)."""

from .enricher import Enricher
from .influence import DuplicateTracker, text_fingerprint

__all__ = ["DuplicateTracker", "Enricher", "text_fingerprint"]
