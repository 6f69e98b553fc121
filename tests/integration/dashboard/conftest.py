"""The bundled sample, enriched by the enricher, indexed through the indexer's template into a test
alias on the real local OpenSearch; the dashboard API in-process over it; and every indexed
document read back with `scan`, so each test can recount what the API reports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_index import EMERGING_SAMPLE_ALL, SampleIndex


@pytest.fixture(scope="session")
def sample_index(local_stack) -> Iterator[SampleIndex]:
    index = SampleIndex.create(local_stack.opensearch_url, prefix="t-dash")
    try:
        yield index
    finally:
        index.drop()


@pytest.fixture(scope="session")
def api(sample_index: SampleIndex):
    from fastapi.testclient import TestClient

    # emerging topics read every foreground post of the sample (so their counts can be recounted)
    with TestClient(sample_index.app(emerging_sample_docs=EMERGING_SAMPLE_ALL)) as client:
        yield client


@pytest.fixture(scope="session")
def docs(sample_index: SampleIndex) -> list[dict]:
    return sample_index.scan()


@pytest.fixture(scope="session")
def window(docs: list[dict]) -> dict[str, str]:
    """A since/until covering every sample post, whole UTC days (the sample is historical, not "now")."""

    def day(value: str) -> datetime:
        return (
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            .astimezone(UTC)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )

    since = day(min(d["created_at"] for d in docs))
    until = day(max(d["created_at"] for d in docs)) + timedelta(days=1)
    return {"since": since.strftime("%Y-%m-%dT%H:%M:%SZ"), "until": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
