"""Index EnrichedPosts into an alias the way the indexer does (its template, its documents).

For the dashboard's tests, benchmark and `pulse-dashboard seed`. The index template and the
document shape belong to the indexer (`pulse_indexer.migrate.apply_migrations`,
`pulse_indexer.documents`); this module only calls them.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from pulse_common.contracts import search
from pulse_common.schema import EnrichedPost
from pulse_common.settings import StackSettings
from pulse_common.tracking import TrackingConfig

SAMPLE_FILE = Path(__file__).resolve().parents[4] / "data" / "sample" / "posts.jsonl.gz"


def apply_template(stack: StackSettings, *, refresh_interval: str | None = None) -> None:
    from pulse_indexer.migrate import apply_migrations

    apply_migrations(stack, refresh_interval=refresh_interval)


def to_document(post: EnrichedPost) -> dict[str, Any]:
    """The document the indexer writes for this post: its JSON plus the derived fields."""
    return search.post_document(post)


def index_name(stack: StackSettings, post: EnrichedPost) -> str:
    return search.index_for(stack.opensearch_index_alias, post.created_at)


def bulk_index(
    client: OpenSearch,
    stack: StackSettings,
    posts: Iterable[EnrichedPost],
    *,
    chunk: int = 2000,
    refresh: bool = True,
) -> int:
    """Bulk-index posts (external versions) into their monthly indices; return how many were indexed."""
    done = 0
    lines: list[str] = []

    def flush() -> None:
        nonlocal done
        if not lines:
            return
        res = client.bulk(body="\n".join(lines) + "\n", params={"request_timeout": 120})
        if res.get("errors"):
            bad = [i for i in res["items"] if next(iter(i.values())).get("status", 200) >= 300]
            raise RuntimeError(f"bulk index: {len(bad)} failures, first: {bad[:1]}")
        done += len(res["items"])
        lines.clear()

    for post in posts:
        lines.append(
            json.dumps(
                {
                    "index": {
                        "_index": index_name(stack, post),
                        "_id": post.id,
                        "version": post.version,
                        "version_type": "external",
                    }
                }
            )
        )
        lines.append(json.dumps(to_document(post), default=str))
        if len(lines) >= 2 * chunk:
            flush()
    flush()
    if refresh:
        client.indices.refresh(index=f"{stack.opensearch_index_alias}*")
    return done


def sample_posts(
    path: str | Path | None = None, tracking: TrackingConfig | None = None
) -> list[EnrichedPost]:
    """The bundled sample (data/sample/posts.jsonl.gz), parsed by the producer, enriched by the enricher.

    The latest version of each post id wins, deletes remove it: what the pipeline would index.
    """
    from pulse_common.tracking import load_tracking_config
    from pulse_enricher.nlp.enricher import Enricher
    from pulse_producer.events import Upsert
    from pulse_producer.parsers import parse_line

    file = Path(path) if path else SAMPLE_FILE
    tracking = tracking or load_tracking_config()
    posts: dict[str, Any] = {}
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rb") as fh:
        for line in fh:
            for event in parse_line(line):
                if isinstance(event, Upsert):
                    current = posts.get(event.post.id)
                    if current is None or current.version < event.post.version:
                        posts[event.post.id] = event.post
                else:
                    current = posts.get(event.id)
                    if current is not None and current.version < event.version:
                        del posts[event.id]
    enricher = Enricher(tracking)
    return [enricher.enrich(post) for post in posts.values()]


def delete_alias_indices(client: OpenSearch, stack: StackSettings) -> None:
    """Delete the alias's indices (a test's or the benchmark's own; never the shared one)."""
    alias = stack.opensearch_index_alias
    if alias == StackSettings.model_fields["opensearch_index_alias"].default:
        raise ValueError(f"refusing to delete the shared alias {alias!r}")
    indices = client.indices.get(index=search.index_pattern(alias), params={"allow_no_indices": "true"})
    for name in indices:
        client.indices.delete(index=name, params={"ignore_unavailable": "true"})
    try:
        client.indices.delete_index_template(name=search.template_name(alias))
    except NotFoundError:
        pass
