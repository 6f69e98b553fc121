"""The one post schema every service shares.

A `Post` is what the producer normalizes every source into (X v1.1, X v2, twarc,
Bluesky Jetstream, synthetic). It travels through Kinesis inside a `RecordEnvelope`
(`pulse_common.contracts.envelope`). The enricher turns it into an `EnrichedPost`, which is
what DynamoDB stores and OpenSearch indexes.

The post id is the key everywhere: "<network>:<native id>".
`version` only grows for a given id (milliseconds of the observation) and decides
which write wins in DynamoDB and OpenSearch (`version_type=external`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_common.dates import bounded_utc

Network = Literal["x", "bluesky", "synthetic"]
PostType = Literal["original", "reply", "quote", "retweet"]
Polarity = Literal["negative", "neutral", "positive"]

# Kinesis records are at most 1 MiB; a post text far beyond any network's limit is poison.
MAX_TEXT_CHARS = 25_000
# Counts are stored as OpenSearch `long` (signed 64-bit): anything larger is poison, not data.
MAX_COUNT = 2**63 - 1
MAX_ID_CHARS = 512  # a post id, "<network>:<native id>"
# A version is stored where counts are (DynamoDB N, OpenSearch `long` external version): same bound.
MAX_VERSION = MAX_COUNT


def as_utc(value: datetime) -> datetime:
    """Every date of the schema: in UTC and within pulse_common.dates' range (else a ValidationError)."""
    return bounded_utc(value)


class SchemaModel(BaseModel):
    """Every model of the schema (and the record envelope): unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=False)


class Author(SchemaModel):
    id: str
    username: str | None = None
    name: str | None = None
    followers: int = Field(default=0, ge=0, le=MAX_COUNT)
    following: int = Field(default=0, ge=0, le=MAX_COUNT)
    posts_count: int = Field(default=0, ge=0, le=MAX_COUNT)
    listed: int = Field(default=0, ge=0, le=MAX_COUNT)
    verified: bool = False
    created_at: datetime | None = None

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None


class Engagement(SchemaModel):
    likes: int = Field(default=0, ge=0, le=MAX_COUNT)
    reposts: int = Field(default=0, ge=0, le=MAX_COUNT)
    replies: int = Field(default=0, ge=0, le=MAX_COUNT)
    quotes: int = Field(default=0, ge=0, le=MAX_COUNT)

    @property
    def total(self) -> int:
        return self.likes + self.reposts + self.replies + self.quotes


class GeoPoint(SchemaModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Post(SchemaModel):
    id: str = Field(min_length=3, max_length=MAX_ID_CHARS)
    network: Network
    native_id: str
    created_at: datetime
    text: str = Field(max_length=MAX_TEXT_CHARS)
    lang: str | None = None
    author: Author
    post_type: PostType = "original"
    referenced_id: str | None = None  # the original of a reply / quote / retweet
    conversation_id: str | None = None
    engagement: Engagement = Field(default_factory=Engagement)
    hashtags: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    urls: list[str] = Field(default_factory=list)
    geo: GeoPoint | None = None
    source_format: str = "unknown"  # x_v1, x_v2, twarc2, jetstream, synthetic
    version: int = Field(ge=0, le=MAX_VERSION)  # ms timestamp of the observation; only grows per id

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)


class Sentiment(SchemaModel):
    label: Polarity
    score: float = Field(ge=-1.0, le=1.0)  # signed: <0 negative, >0 positive
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)


class BrandMention(SchemaModel):
    id: str  # product id from the tracking config
    kind: Literal["product", "competitor"]
    term: str  # surface form as written
    start: int = 0
    end: int = 0
    sentiment: Sentiment | None = None  # target-level sentiment toward this brand


class AspectMention(SchemaModel):
    aspect: str  # canonical name: taxonomy id, or the lower-cased lemma of an open-vocabulary term
    term: str  # surface form as written
    start: int = 0
    end: int = 0
    category: str | None = None
    in_taxonomy: bool = True
    polarity: Polarity
    score: float = Field(ge=-1.0, le=1.0)
    opinions: list[str] = Field(default_factory=list)  # the opinion words that decided the polarity
    product: str | None = None  # brand id this aspect is attributed to, when one is clear


class Influence(SchemaModel):
    score: float = Field(ge=0.0)  # documented in the enricher's nlp/influence.py
    followers: int = 0
    following: int = 0
    verified: bool = False
    account_age_days: int | None = None
    engagement: int = 0


class EnrichedPost(Post):
    text_normalized: str = ""
    emojis: list[str] = Field(default_factory=list)
    brands: list[BrandMention] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)  # ids of every tracked brand mentioned
    sentiment: Sentiment
    aspects: list[AspectMention] = Field(default_factory=list)
    influence: Influence
    flags: list[str] = Field(default_factory=list)  # spam / bot signals; never a reason to drop
    scored: bool = True  # False for retweets: engagement of the original, not a new opinion
    enrichment_version: str
    ingested_at: datetime | None = None
    enriched_at: datetime | None = None
