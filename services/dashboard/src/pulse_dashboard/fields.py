"""The indexed field names the dashboard queries, in one place.

They follow `mappings/posts.template.json` (mapping_version 1) and the derived fields of
`pulse_common.contracts.search.derive`; tests/unit/dashboard checks every name here exists there.
"""

from __future__ import annotations

CREATED_AT = "created_at"
INGESTED_AT = "ingested_at"
NETWORK = "network"
LANG = "lang"
PRODUCTS = "products"
PRODUCTS_PREFIX = "products.search"
HASHTAGS = "hashtags"
HASHTAGS_PREFIX = "hashtags.search"
TEXT = "text"
TEXT_TERMS = "text.std"  # standard analyzer (not stemmed): what significant_text reads
SENTIMENT_LABEL = "sentiment.label"
SENTIMENT_SCORE = "sentiment.score"
SCORED = "scored"
FLAGS = "flags"
AUTHOR_ID = "author.id"
AUTHOR_USERNAME = "author.username"
AUTHOR_FOLLOWERS = "author.followers"
AUTHOR_NAME_RAW = "author.name.raw"
AUTHOR_VERIFIED = "author.verified"
INFLUENCE_SCORE = "influence.score"
INFLUENCE_ENGAGEMENT = "influence.engagement"

ASPECTS = "aspects"
ASPECT_NAME = "aspects.name"
ASPECT_NAME_PREFIX = "aspects.name.search"
ASPECT_POLARITY = "aspects.polarity"
ASPECT_SCORE = "aspects.score"
ASPECT_PRODUCT = "aspects.product"
ASPECT_OPINIONS = "aspects.opinions"
ASPECT_TERM = "aspects.term"
ASPECT_IN_TAXONOMY = "aspects.in_taxonomy"

# Full-text search may only ever touch these fields (simple_query_string `fields`).
SEARCH_FIELDS = ("text", "hashtags", "author.username", "aspect_names")

# What a post row returns to the page / CSV (never the whole _source).
POST_SOURCE = [
    "id",
    "network",
    "created_at",
    "text",
    "lang",
    "author.username",
    "author.name",
    "author.id",
    "author.followers",
    "author.verified",
    "engagement",
    "hashtags",
    "products",
    "sentiment",
    "aspects.name",
    "aspects.polarity",
    "aspects.term",
    "aspects.product",
    "influence.score",
    "flags",
    "post_type",
    "urls",
]
