"""The tracking config: which products, competitors and features a team follows.

Shared by the producer (X stream rules, Bluesky keyword filter) and the enricher
(product and aspect detection). Loaded from YAML and validated; a bad file gives
one clear error naming the file and the field.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

_ID = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")


class TrackingConfigError(ValueError):
    """The tracking config file is missing or invalid."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Brand(_Model):
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    hashtags: list[str] = Field(default_factory=list)
    # Terms that contain an alias but are another product ("Nova 12" vs "Nova 12 Lite").
    exclude: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("ids are lower-case letters, digits, '_' or '-'")
        return value

    @field_validator("hashtags")
    @classmethod
    def _strip_hash(cls, value: list[str]) -> list[str]:
        return [tag.lstrip("#").lower() for tag in value]

    @property
    def terms(self) -> list[str]:
        """Every surface form that names this brand: its name and aliases."""
        seen: dict[str, None] = {}
        for term in [self.name, *self.aliases]:
            seen.setdefault(term, None)
        return list(seen)


class Aspect(_Model):
    id: str
    name: str
    category: str | None = None
    synonyms: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("ids are lower-case letters, digits, '_' or '-'")
        return value

    @property
    def terms(self) -> list[str]:
        seen: dict[str, None] = {}
        for term in [self.name, *self.synonyms]:
            seen.setdefault(term.lower(), None)
        return list(seen)


class TrackingConfig(_Model):
    products: list[Brand] = Field(min_length=1)
    competitors: list[Brand] = Field(default_factory=list)
    aspects: list[Aspect] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=lambda: ["en"])
    exclude_retweets: bool = False

    @model_validator(mode="after")
    def _unique_ids(self) -> TrackingConfig:
        brand_ids = [b.id for b in self.brands]
        if len(brand_ids) != len(set(brand_ids)):
            raise ValueError(f"product and competitor ids must be unique: {brand_ids}")
        aspect_ids = [a.id for a in self.aspects]
        if len(aspect_ids) != len(set(aspect_ids)):
            raise ValueError(f"aspect ids must be unique: {aspect_ids}")
        return self

    @property
    def brands(self) -> list[Brand]:
        return [*self.products, *self.competitors]

    def brand_kind(self, brand_id: str) -> str:
        return "product" if any(b.id == brand_id for b in self.products) else "competitor"

    def keywords(self) -> list[str]:
        """Every term and hashtag worth listening for, for stream rules and local filters."""
        words: dict[str, None] = {}
        for brand in self.brands:
            for term in brand.terms:
                words.setdefault(term, None)
            for tag in brand.hashtags:
                words.setdefault(f"#{tag}", None)
        return list(words)


DEFAULT_TRACKING_PATH = Path(__file__).resolve().parents[3] / "config" / "tracking.yaml"


def load_tracking_config(path: str | Path | None = None) -> TrackingConfig:
    """Load and validate a tracking config; raise TrackingConfigError with a clear message."""
    file = Path(path) if path else DEFAULT_TRACKING_PATH
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TrackingConfigError(f"tracking config not found: {file}") from exc
    except yaml.YAMLError as exc:
        raise TrackingConfigError(f"tracking config {file} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TrackingConfigError(f"tracking config {file} must be a mapping at the top level")
    try:
        return TrackingConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise TrackingConfigError(f"tracking config {file} is invalid: {problems}") from exc
