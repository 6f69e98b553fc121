"""pulse-seed: index EnrichedPosts into an alias the way the pipeline does, without running it.

  pulse-seed [--posts N] [--days D]   N synthetic EnrichedPost-shaped posts over D days (synthetic.py)
  pulse-seed --sample                 the bundled sample, parsed by the producer, enriched by the enricher

For demos of the dashboard without the pipeline, and for the dashboard's tests and benchmark. It needs
the producer's parser, the enricher's NLP core and the indexer's template, so it lives here, above the
services (the dashboard image has none of them). The documents and their indices are the contract's
(`pulse_common.contracts.search`); the template is the indexer's (`pulse_indexer.migrate`).
Settings: PULSE_OPENSEARCH_URL, PULSE_OPENSEARCH_INDEX_ALIAS, PULSE_TRACKING_CONFIG.
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
from pulse_devstack.paths import REPO_ROOT

SAMPLE_FILE = REPO_ROOT / "data" / "sample" / "posts.jsonl.gz"


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
    from pulse_enricher.nlp import Enricher
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


def main(argv: list[str] | None = None) -> int:
    import argparse

    from pulse_common.opensearch import opensearch_client
    from pulse_common.tracking import load_tracking_config
    from pulse_devstack import synthetic

    parser = argparse.ArgumentParser(
        prog="pulse-seed", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=5000, help="synthetic posts (default 5000)")
    parser.add_argument("--days", type=float, default=14.0, help="the range they span (default 14)")
    parser.add_argument("--sample", action="store_true", help="the bundled sample, enriched, instead")
    args = parser.parse_args(argv)
    stack = StackSettings()
    tracking = load_tracking_config(stack.tracking_config)
    apply_template(stack)
    if args.sample:
        docs = sample_posts(tracking=tracking)
    else:
        docs = synthetic.generate(args.posts, tracking, days=args.days)
    n = bulk_index(opensearch_client(stack, timeout_s=120), stack, docs)
    print(f"indexed {n} {'sample' if args.sample else 'synthetic'} posts into {stack.opensearch_index_alias}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
