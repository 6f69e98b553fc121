"""Checking both stores against the expected state; results and options of a scenario."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulse_common.contracts.items import from_item, is_tombstone
from pulse_devstack.paths import LOG_DIR
from pulse_devstack.pipeline import dead_letter_count

from .inputs import Expected
from .world import Workspace, wait_until


@dataclass
class Verdict:
    lost: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    table_items: dict[str, dict] = field(default_factory=dict)  # live posts only
    tombstones: dict[str, dict] = field(default_factory=dict)
    search_docs: dict[str, dict] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.lost and not self.duplicates


def scan_table(stack, *, tombstones: bool = False) -> dict[str, dict]:
    """id -> item of every live post (and of every tombstone too with `tombstones=True`)."""
    from pulse_common.aws import client

    dynamodb = client("dynamodb", stack)
    items: dict[str, dict] = {}
    kwargs: dict[str, Any] = {"TableName": stack.table_name, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            if tombstones or not is_tombstone(item):
                items[item["id"]["S"]] = item
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def scan_search(stack) -> list[dict]:
    from opensearchpy import OpenSearch
    from opensearchpy.exceptions import NotFoundError
    from opensearchpy.helpers import scan

    search = OpenSearch(stack.opensearch_url, timeout=60)
    alias = stack.opensearch_index_alias
    try:
        search.indices.refresh(index=f"{alias}-*")
        return list(scan(search, index=f"{alias}-*", query={"query": {"match_all": {}}}, version=True,
                         size=1000, request_timeout=60))
    except NotFoundError:
        return []


# Post fields the enricher may legitimately rewrite: entities are merged with the ones found in the
# text, the language is detected when missing, a manual "RT @x:" original becomes a retweet. For
# those only "the input's values are kept" is checked (lists: subset; scalars: equal when set).
ENRICHER_REWRITES = ("hashtags", "mentions", "urls", "lang", "post_type")


def _post_fields() -> tuple[str, ...]:
    from pulse_common.schema import Post

    return tuple(f for f in Post.model_fields if f not in ENRICHER_REWRITES)


def _rewrite_ok(stored: dict, want: dict) -> list[str]:
    bad = []
    for f in ("hashtags", "mentions", "urls"):
        have = {str(v).lower() for v in stored.get(f) or []}
        if f == "hashtags":
            wanted = {str(v).lstrip("#").lower() for v in want.get(f) or []}
        else:
            wanted = {str(v).lower() for v in want.get(f) or []}
        if not wanted <= have:
            bad.append(f)
    if want.get("post_type") != "original" and stored.get("post_type") != want.get("post_type"):
        bad.append("post_type")
    return bad


def verify(ws: Workspace, expected: Expected, *, exact: Verdict | None = None) -> Verdict:
    """Compare both stores with the expected state (see the module docstring for the rules)."""
    from pulse_common.schema import Post

    stack = ws.stack
    verdict = Verdict()
    everything = scan_table(stack, tombstones=True)
    items = {k: v for k, v in everything.items() if not is_tombstone(v)}
    hits = scan_search(stack)
    verdict.table_items = items
    verdict.tombstones = {k: v for k, v in everything.items() if is_tombstone(v)}
    seen: dict[str, dict] = {}
    for hit in hits:
        if hit["_id"] in seen:
            verdict.duplicates.add(hit["_id"])
            verdict.notes.append(f"{hit['_id']} in {seen[hit['_id']]['_index']} and {hit['_index']}")
        seen[hit["_id"]] = hit
    verdict.search_docs = seen
    fields = _post_fields()
    for post_id, post in expected.posts.items():
        item, hit = items.get(post_id), seen.get(post_id)
        if post is None:
            if item is not None or hit is not None:
                verdict.lost.add(post_id)
                verdict.notes.append(f"{post_id} should be deleted (v{expected.versions[post_id]}) but is in"
                                     f"{' dynamodb v' + item['version']['N'] if item else ''}"
                                     f"{' opensearch v' + str(hit['_version']) if hit else ''}")
            continue
        if item is None or hit is None:
            verdict.lost.add(post_id)
            verdict.notes.append(f"{post_id} missing from{' dynamodb' if item is None else ''}"
                                 f"{' opensearch' if hit is None else ''}")
            continue
        stored = from_item(item)  # the item codec every reader of the table uses
        version, doc = stored.version, dict(stored.doc)
        if version != post.version:
            verdict.duplicates.add(post_id)
            verdict.notes.append(f"{post_id} dynamodb v{version}, expected v{post.version}")
            continue
        stored_post = json.loads(Post.model_validate(doc).model_dump_json())
        want = json.loads(post.model_dump_json())
        diff = [f for f in fields if stored_post.get(f) != want.get(f)] + _rewrite_ok(stored_post, want)
        if diff:
            verdict.duplicates.add(post_id)
            verdict.notes.append(f"{post_id} dynamodb post fields differ: {diff[:5]}")
            continue
        if int(hit["_version"]) != version:
            verdict.duplicates.add(post_id)
            verdict.notes.append(f"{post_id} opensearch _version {hit['_version']} != dynamodb v{version}")
            continue
        source = hit["_source"]
        diff = [k for k, v in doc.items() if k != "aspects" and source.get(k) != v]
        if diff or len(source.get("aspects") or []) != len(doc.get("aspects") or []):
            verdict.duplicates.add(post_id)
            verdict.notes.append(f"{post_id} opensearch source differs from dynamodb doc: {diff[:5]}")
    for post_id in items.keys() - expected.posts.keys():
        verdict.duplicates.add(post_id)
        verdict.notes.append(f"{post_id} in dynamodb but never in the input")
    for post_id in seen.keys() - expected.posts.keys():
        verdict.duplicates.add(post_id)
        verdict.notes.append(f"{post_id} in opensearch but never in the input")
    if exact is not None:  # replay: nothing may change at all
        for post_id, item in exact.table_items.items():
            if items.get(post_id) != item:
                verdict.duplicates.add(post_id)
                verdict.notes.append(f"{post_id} dynamodb item changed by the replay")
        for post_id, item in exact.tombstones.items():
            if verdict.tombstones.get(post_id) != item:
                verdict.duplicates.add(post_id)
                verdict.notes.append(f"{post_id} dynamodb tombstone changed by the replay")
        for post_id, hit in exact.search_docs.items():
            now = seen.get(post_id)
            if now is None or now["_version"] != hit["_version"] or now["_source"] != hit["_source"]:
                verdict.duplicates.add(post_id)
                verdict.notes.append(f"{post_id} opensearch document changed by the replay")
    return verdict


def counts(ws: Workspace) -> tuple[int, int]:
    from pulse_devstack.pipeline import search_count, table_count

    try:
        return table_count(ws.stack), search_count(ws.stack)
    except Exception:  # noqa: BLE001 - a store down mid-scenario
        return -1, -1


def wait_converged(
    ws: Workspace, expected: Expected, *, since: float, timeout_s: float = 240,
    exact: Verdict | None = None, alive: Callable[[], None] | None = None,
) -> tuple[Verdict, float]:
    """Poll until both stores hold the expected state; (verdict, seconds since `since` or -1)."""
    want = len(expected.present)
    deadline = time.monotonic() + timeout_s
    verdict = Verdict()
    last_full = 0.0
    while True:
        if alive is not None:
            alive()
        table, search = counts(ws)
        now = time.monotonic()
        if (table == want and search == want) or now - last_full > 30 or now > deadline:
            # The stores only move towards the expected state: when the full check (which takes
            # a while on big runs) starting now is clean, they were recovered at `now`.
            verdict = verify(ws, expected, exact=exact)
            last_full = time.monotonic()
            if verdict.clean:
                return verdict, round(now - since, 1)
            if time.monotonic() > deadline:
                return verdict, -1.0
        time.sleep(1.0)


@dataclass
class Result:
    scenario: str
    posts: int
    lost: int
    sink_duplicates: int
    dead_letter: int
    recovered_s: float
    notes: list[str] = field(default_factory=list)
    ok_extra: bool = True  # a scenario-specific check (e.g. soak RSS) passed

    def line(self) -> str:
        return (f"reliability: {self.scenario} posts={self.posts} lost={self.lost} "
                f"sink_duplicates={self.sink_duplicates} dead_letter={self.dead_letter} "
                f"recovered_s={self.recovered_s:g}")

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.sink_duplicates == 0 and self.recovered_s >= 0 and self.ok_extra


def result_of(name: str, ws: Workspace, expected: Expected, verdict: Verdict, recovered: float,
              notes: list[str] | None = None) -> Result:
    dead = -1
    with contextlib.suppress(Exception):
        dead = dead_letter_count(ws.stack)
    return Result(name, len(expected), len(verdict.lost), len(verdict.duplicates), dead, recovered,
                  [*(notes or []), *verdict.notes[:10]])


def converged(
    name: str, ws: Workspace, expected: Expected, *, since: float, notes: list[str], alive: bool = True
) -> Result:
    """Wait until the stores hold the expected state (the services must stay up while `alive`): the
    scenario's result, recovered_s counted from `since`."""
    verdict, recovered = wait_converged(ws, expected, since=since, alive=ws.check_alive if alive else None)
    return result_of(name, ws, expected, verdict, recovered, notes)


@dataclass
class Options:
    posts: int = 3000
    rate: float = 600.0  # producer pace for the fault scenarios: the fault lands mid-run
    soak_minutes: float = 20.0
    soak_rate: float = 300.0
    log_root: Path = LOG_DIR / "reliability"
    # out_of_order: also send upserts older than an already applied delete (they must not resurrect
    # the post); False keeps every delete after all of its id's upserts.
    older_after_delete: bool = True
    converge_timeout_s: float = 240.0  # how long the stores may take to reach the expected state
    base_env: dict[str, str] = field(default_factory=dict)


def workspace(name: str, opts: Options, shards: int = 2, **kw: Any) -> Workspace:
    ws = Workspace(name, opts.base_env, opts.log_root / f"{name}-{time.strftime('%H%M%S')}", **kw)
    ws.create(shards=shards)
    return ws


def wait_table_at_least(ws: Workspace, n: int, timeout_s: float = 300,
                         alive: Callable | None = None) -> None:
    def check() -> bool:
        if alive:
            alive()
        return counts(ws)[0] >= n

    wait_until(check, timeout_s, f"{n} items in {ws.stack.table_name}")


def wait_search_at_least(ws: Workspace, n: int, timeout_s: float = 300) -> None:
    wait_until(lambda: counts(ws)[1] >= n, timeout_s, f"{n} documents in {ws.stack.opensearch_index_alias}")
