"""Pulse NLP core: a pure function from a normalized `Post` to an `EnrichedPost`.

    from pulse_enricher.nlp import Enricher, DuplicateTracker
    enricher = Enricher(tracking_config)                  # loads artifacts once (packaged models/)
    enricher = Enricher(tracking_config, model_dir=path, spacy_model="blank:en")
    enriched = enricher.enrich(post, ingested_at=None)    # pure: no I/O, no state
    enriched = enricher.enrich(post, duplicates=tracker)  # + duplicate_text flag (explicit state)
    enricher.version                                      # "pulse-nlp/2026.11.1+<artifact hash>"

Modules: text (normalization, entities, emojis), lang (language guess), pipeline (spaCy
blank + lemmatizer component), brands / aspects (PhraseMatchers from the tracking config, the
word-sense check of taxonomy synonyms, brand names kept out of aspects), tagger (the CRF that
finds open-vocabulary aspect terms; its features in tagger_features, its word representations
in word_clusters and gazetteer), lexicon (clause-scoped opinion rules), linear_model (the
hashed-feature linear classifier) with post_model / target_model / aspect_model (the three
sentiment levels) and word_vectors (pooled over a target's context), influence (score formula
and spam flags), training / datasets (used by pulse-train and pulse-eval only).
"""

from .enricher import Enricher
from .influence import DuplicateTracker, text_fingerprint

__all__ = ["DuplicateTracker", "Enricher", "text_fingerprint"]
