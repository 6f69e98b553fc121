"""Test and benchmark support: a throw-away alias on a real OpenSearch, seeded the indexer's way.

Used by tests/integration/dashboard, tests/browser and bench/bench_dashboard.py. Each SampleIndex
owns a unique alias (`<prefix>-<hex>`): its monthly indices and its template are deleted by drop().
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from pulse_common.opensearch import opensearch_client
from pulse_common.schema import EnrichedPost
from pulse_common.settings import StackSettings
from pulse_common.tracking import load_tracking_config
from pulse_devstack import seed

# Emerging topics over the sample read every foreground post with this sampler size, so tests can
# recount their numbers exactly (the service default samples fewer, for speed).
EMERGING_SAMPLE_ALL = 2000


@dataclass
class SampleIndex:
    stack: StackSettings
    client: OpenSearch
    count: int = 0

    @classmethod
    def create(
        cls,
        opensearch_url: str,
        *,
        prefix: str = "t-dash",
        posts: Iterable[EnrichedPost] | None = None,
        refresh_interval: str | None = None,
    ) -> SampleIndex:
        """A new alias with the indexer's template, holding `posts` (default: the enriched sample)."""
        alias = f"{prefix}-{uuid.uuid4().hex[:10]}"
        stack = StackSettings(opensearch_url=opensearch_url, opensearch_index_alias=alias)
        index = cls(stack=stack, client=opensearch_client(stack, timeout_s=120))
        seed.apply_template(stack, refresh_interval=refresh_interval)
        docs = posts if posts is not None else seed.sample_posts()
        index.count = seed.bulk_index(index.client, stack, docs, chunk=5000)
        return index

    @property
    def alias(self) -> str:
        return self.stack.opensearch_index_alias

    def env(self) -> dict[str, str]:
        return {"PULSE_OPENSEARCH_URL": self.stack.opensearch_url, "PULSE_OPENSEARCH_INDEX_ALIAS": self.alias}

    def app(self, **settings: Any):
        from pulse_dashboard.app import create_app
        from pulse_dashboard.settings import DashboardSettings

        return create_app(
            DashboardSettings(stack=self.stack, **settings),
            client=self.client,
            tracking=load_tracking_config(),
        )

    def scan(self) -> list[dict[str, Any]]:
        """Every indexed document's _source (read back from OpenSearch, not from what was sent)."""
        return [
            hit["_source"] for hit in scan(self.client, index=self.alias, query={"query": {"match_all": {}}})
        ]

    def drop(self) -> None:
        seed.delete_alias_indices(self.client, self.stack)
