"""`Insights`: every dashboard view over one alias. Each view is a module of `pulse_dashboard.views`
(the request bodies it builds and the responses it shapes are pure functions); this class holds the
OpenSearch client, the alias and the tracking config and hands each view its search call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opensearchpy import OpenSearch

from pulse_common.tracking import TrackingConfig
from pulse_dashboard.filters import Filters
from pulse_dashboard.views import (
    alerts,
    aspects,
    emerging,
    influencers,
    meta,
    overview,
    posts,
    share_of_voice,
    timeline,
)
from pulse_dashboard.views.common import brand_names


class Insights:
    def __init__(
        self,
        client: OpenSearch,
        alias: str,
        tracking: TrackingConfig,
        *,
        timeout_s: float = 10.0,
        sample_docs: int = emerging.SAMPLE_DOCS,
    ):
        self.client = client
        self.sample_docs = sample_docs
        self.alias = alias
        self.tracking = tracking
        self.timeout = f"{int(timeout_s * 1000)}ms"

    def search(self, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        """One search of the alias, bounded by the server-side timeout (and a client one just above)."""
        return self.client.search(
            index=self.alias,
            body=body,
            params={"timeout": self.timeout, **params},
            request_timeout=float(self.timeout[:-2]) / 1000 + 2,
        )

    def brand_names(self) -> dict[str, str]:
        return brand_names(self.tracking)

    def meta(self) -> dict[str, Any]:
        return meta.run(self.search, self.tracking)

    def overview(self, f: Filters) -> dict[str, Any]:
        return overview.run(self.search, f, self.tracking)

    def timeline(self, f: Filters, interval: str | None = None) -> dict[str, Any]:
        return timeline.run(self.search, f, self.tracking, interval)

    def aspects(self, f: Filters, *, quotes: int = 2, trend: bool = True, size: int = 30) -> dict[str, Any]:
        return aspects.run(self.search, f, self.tracking, quotes=quotes, trend=trend, size=size)

    def share_of_voice(self, f: Filters) -> dict[str, Any]:
        return share_of_voice.run(self.search, f, self.tracking)

    def influencers(self, f: Filters, *, limit: int = 10, candidates: int = 600) -> dict[str, Any]:
        return influencers.run(self.search, f, limit=limit, candidates=candidates)

    def emerging(self, f: Filters, *, size: int = 15) -> dict[str, Any]:
        return emerging.run(self.search, f, self.tracking, size=size, sample_docs=self.sample_docs)

    def alerts(self, f: Filters, **options: Any) -> dict[str, Any]:
        """`options`: interval, limit, threshold, min_count (views.alerts.run)."""
        return alerts.run(self.search, f, self.tracking, **options)

    def search_posts(self, query: dict[str, Any], **options: Any) -> dict[str, Any]:
        """`options`: page, size, sort, highlight (views.posts.search_posts)."""
        return posts.search_posts(self.search, query, **options)

    def live(self, f: Filters, *, after: str | None, size: int = 20) -> dict[str, Any]:
        return posts.live(self.search, f, after=after, size=size)

    def scan_posts(self, query: dict[str, Any], *, limit: int, batch: int = 1000) -> Iterator[dict[str, Any]]:
        return posts.scan_posts(self.search, query, limit=limit, batch=batch)
