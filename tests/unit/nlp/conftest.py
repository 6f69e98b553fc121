"""NLP test fixtures: one Enricher (models loaded once) for the whole session."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pulse_common.schema import Author, Engagement, Post
from pulse_common.tracking import TrackingConfig, load_tracking_config


@pytest.fixture(scope="session")
def tracking() -> TrackingConfig:
    return load_tracking_config()


@pytest.fixture(scope="session")
def enricher(tracking: TrackingConfig):
    from pulse_enricher.nlp import Enricher

    return Enricher(tracking)


@pytest.fixture
def make_post() -> Callable[..., Post]:
    counter = iter(range(1, 1_000_000))

    def make(text: str, **overrides: object) -> Post:
        n = next(counter)
        author = overrides.pop("author", None) or Author(
            id="u1",
            username="alice",
            name="Alice",
            followers=1_500,
            following=300,
            posts_count=4_000,
            created_at=datetime(2019, 5, 1, tzinfo=UTC),
        )
        fields: dict[str, object] = {
            "id": f"x:{n}",
            "network": "x",
            "native_id": str(n),
            "created_at": datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
            "text": text,
            "author": author,
            "engagement": Engagement(likes=3, reposts=1),
            "version": 1_000 + n,
        }
        fields.update(overrides)
        return Post(**fields)

    return make
