"""The reliability suite: failure scenarios run against the real services on the local stack.

Each scenario gets its own stream, table, dead-letter queue, index alias and KCL applications
(the enricher's and the indexer's, unique names), feeds posts through the real producer (or, where the
scenario needs records the producer would never write, straight into Kinesis), injects its
fault, waits until the stores converge and checks them against what the input says they must
hold. It returns one `Result`; `bench/reliability.py` prints

    reliability: <scenario> posts=<n> lost=<n> sink_duplicates=<n> dead_letter=<n> recovered_s=<s>

Definitions (what is counted, precisely):

- **expected state**: from the input alone. For every post id the operation with the highest
  `version` wins (a delete wins a tie), exactly the rule of `pulse_enricher.store.latest_per_id`
  and of OpenSearch external versioning. The expected `Post` of an upsert is what
  `pulse_producer.parsers.parse_line` makes of the input line (or the envelope we put ourselves).
- **posts**: the number of distinct valid post ids in the input (poison records not included).
- **lost**: ids whose expected state is "present" but that are missing from DynamoDB or from
  OpenSearch, plus ids whose expected state is "deleted" but that are still present in either
  (each id counted once). A tombstone (the enricher's record of a delete: `deleted` = true) is not
  a post: "deleted" means no live item, a tombstone is fine; "present" needs a live item.
- **sink_duplicates**: ids stored in a state that a single, in-order delivery of the input could
  not give: (a) an `_id` found in more than one OpenSearch document (across the alias' monthly
  indices), (b) a DynamoDB item whose `version` is not the expected one, whose post fields (every
  field of `Post`, compared after JSON round trip) differ from the expected post, or whose id is
  not in the input at all, (c) an OpenSearch document whose external `_version` differs from the
  DynamoDB item's `version` or whose source differs from the item's `doc` (every field of the
  EnrichedPost except the derived `aspects[].name`). In the replay scenario (6) additionally any
  DynamoDB item or OpenSearch document whose bytes changed at all (`enriched_at` included): a
  replay must be a no-op. Each id counted once. Enrichment itself is not re-computed: the
  enriched fields are compared between the two stores, not against a reference model.
- **dead_letter**: messages in the scenario's dead-letter queue (SQS, approximate count, read
  after convergence).
- **recovered_s**: seconds from the end of the fault (the restart of the killed service, the
  moment OpenSearch is healthy again, the end of the input for the other scenarios) until both
  stores hold the expected state. `-1` when they never did within the scenario's timeout.

Scenarios are sequential and short (a few thousand posts each): the machine has 2 cores.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import random
import statistics
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pulse_common.contracts.items import is_tombstone
from pulse_devstack import procs
from pulse_devstack.paths import CACHE_DIR, LOG_DIR
from pulse_devstack.pipeline import Pipeline, Service, console_script, dead_letter_count
from pulse_devstack.procs import descendants

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "data" / "sample" / "posts.jsonl.gz"

# The indexer's KCL intervals are already short on the local stack (IndexerSettings.local_or).
FAST_INDEXER = {
    "PULSE_INDEXER_RETRY_BASE_S": "0.2",
    "PULSE_INDEXER_RETRY_CAP_S": "3",
    "PULSE_INDEXER_LOG_LEVEL": "WARNING",
}


def log(message: str) -> None:
    print(f"# {time.strftime('%H:%M:%S')} {message}", flush=True, file=__import__("sys").stderr)


# ------------------------------------------------------------------------------------ the world


@dataclass
class Workspace:
    """One scenario's own resources on the shared emulator (and a search node)."""

    name: str
    base_env: dict[str, str]
    log_dir: Path
    opensearch_url: str | None = None  # a private node for scenario 3
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_apps: list[str] = field(default_factory=list)  # more KCL applications to drop at the end
    killed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        s = f"rel-{self.name}-{self.suffix}"
        self.env = {
            **self.base_env,
            "PULSE_STREAM_NAME": s,
            "PULSE_TABLE_NAME": s,
            "PULSE_DLQ_NAME": f"{s}-dlq",
            "PULSE_OPENSEARCH_INDEX_ALIAS": s,
            "PULSE_ENRICHER_APPLICATION_NAME": f"{s}-kcl",
            "PULSE_ENRICHER_WORKER_ID": f"{s}-w1",
            "PULSE_ENRICHER_LOG_LEVEL": "WARNING",
            **FAST_INDEXER,
        }
        if self.opensearch_url:
            self.env["PULSE_OPENSEARCH_URL"] = self.opensearch_url
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pipeline = Pipeline(stack_env=self.env, log_dir=self.log_dir)

    @property
    def stack(self):
        from pulse_common.settings import StackSettings

        keys = ("AWS_ENDPOINT_URL", "AWS_REGION", "STREAM_NAME", "TABLE_NAME", "DLQ_NAME", "OPENSEARCH_URL",
                "OPENSEARCH_INDEX_ALIAS")
        return StackSettings(**{k.lower(): self.env[f"PULSE_{k}"] for k in keys if f"PULSE_{k}" in self.env})

    def create(self, shards: int = 2) -> None:
        from pulse_devstack.resources import ensure_all

        with _env(self.env):
            ensure_all(self.stack, shards=shards, search=True)

    def drop(self) -> None:
        """Delete everything this scenario created (keeps the shared emulator's memory flat)."""
        from botocore.exceptions import ClientError

        from pulse_common.aws import client

        stack = self.stack
        with _env(self.env):
            kinesis, dynamodb, sqs = client("kinesis", stack), client("dynamodb", stack), client("sqs", stack)
            calls: list[Callable[[], Any]] = [
                lambda: kinesis.delete_stream(StreamName=stack.stream_name, EnforceConsumerDeletion=True),
                lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]),
            ]
            app = self.env["PULSE_ENRICHER_APPLICATION_NAME"]
            tables = [t for page in dynamodb.get_paginator("list_tables").paginate()
                      for t in page.get("TableNames", []) if t.startswith(stack.table_name)]
            tables += [stack.table_name, app, f"{app}-CoordinatorState", f"{app}-WorkerMetricStats"]
            for table in set(tables):
                calls.append(lambda t=table: dynamodb.delete_table(TableName=t))
            for call in calls:
                with contextlib.suppress(ClientError):
                    call()
            for app_table in ("-CoordinatorState", "-WorkerMetricStats", ""):
                for name in self.extra_apps:
                    with contextlib.suppress(ClientError):
                        dynamodb.delete_table(TableName=f"{name}{app_table}")
        with contextlib.suppress(Exception):
            base, alias = stack.opensearch_url.rstrip("/"), stack.opensearch_index_alias
            for url in (f"{base}/{alias}-*?expand_wildcards=all", f"{base}/_index_template/{alias}-template"):
                urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=30)

    # -- services ----------------------------------------------------------------------------
    def start_enricher(self, name: str = "enricher", **env: str) -> Service:
        self.killed.discard(name)
        env.setdefault("PULSE_ENRICHER_METRICS_PORT", str(procs.free_port()))
        return self.pipeline.start_enricher(name, **env)

    def start_indexer(self, name: str = "indexer", **env: str) -> Service:
        self.killed.discard(name)
        env.setdefault("PULSE_INDEXER_METRICS_PORT", str(procs.free_port()))
        return self.pipeline.start_indexer(name, **env)

    def kill(self, svc: Service) -> None:
        """kill -9 the service and every process below it (a crash); check_alive ignores it from now on.

        Not `Service.kill()` alone: that signals the service's process group, but `pulse-enricher run`
        starts the KCL daemon (JVM) with start_new_session=True, so the JVM and its per-shard
        processors are in another group and would survive as orphans still holding their leases.
        """
        kill_tree(svc)
        self.killed.add(svc.name)

    def check_alive(self) -> None:
        """Raise if a service died that nobody killed (producers may finish)."""
        for name, svc in self.pipeline.services.items():
            if name.startswith("producer") or name in self.killed:
                continue
            if svc.proc is not None and not svc.running:
                raise procs.StackError(f"{name} exited with {svc.proc.returncode}; see {svc.log_path}:\n"
                                       + procs.tail(svc.log_path))

    def start_producer(self, *args: str, name: str = "producer", **env: str) -> Service:
        env.setdefault("PULSE_PRODUCER_METRICS_PORT", "0")
        return self.pipeline.service(name, [console_script("pulse-producer"), *args], **env).start()


def kill_tree(svc: Service) -> None:
    """SIGKILL a service's process, every descendant and every process group among them, at once."""
    if svc.proc is None:
        return
    pids = [svc.proc.pid, *descendants(svc.proc.pid)]
    groups = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            groups.add(os.getpgid(pid))
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    for group in groups - {os.getpgrp()}:
        with contextlib.suppress(OSError):
            os.killpg(group, 9)
    svc.proc.wait(timeout=10)
    wait_until(lambda: not any(procs.pid_alive(p) for p in pids), 10, f"{svc.name}'s processes to die",
               step=0.1)


@contextlib.contextmanager
def _env(env: dict[str, str]):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_producer(svc: Service, timeout_s: float = 900) -> dict:
    """Wait for a finite producer run; its JSON summary (from its log) or raise."""
    assert svc.proc is not None
    svc.proc.wait(timeout=timeout_s)
    summary = {}
    for line in svc.log_path.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"put"' in line:
            with contextlib.suppress(ValueError):
                summary = json.loads(line)
    if svc.proc.returncode != 0:
        raise procs.StackError(f"producer exited {svc.proc.returncode}: {procs.tail(svc.log_path)}")
    return summary


# ----------------------------------------------------------------------------------- the inputs


def sample_docs() -> list[dict]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Expected:
    """What the stores must hold at the end: id -> expected post (None: deleted)."""

    posts: dict[str, Any] = field(default_factory=dict)  # id -> Post | None
    versions: dict[str, int] = field(default_factory=dict)
    deleted_at: dict[str, int] = field(default_factory=dict)

    def apply_upsert(self, post) -> None:
        have = self.versions.get(post.id)
        if have is None or post.version > have:
            self.posts[post.id], self.versions[post.id] = post, post.version

    def apply_delete(self, post_id: str, version: int) -> None:
        have = self.versions.get(post_id)
        if have is None or version >= have:
            self.posts[post_id], self.versions[post_id] = None, version

    @property
    def present(self) -> dict[str, Any]:
        return {k: v for k, v in self.posts.items() if v is not None}

    def __len__(self) -> int:
        return len(self.posts)


def replay_lines(count: int, tag: str, *, start: int = 0, docs: list[dict] | None = None) -> list[str]:
    """`count` X v2 lines built from the sample with fresh ids `<tag><n>` (the sample's texts)."""
    docs = docs or sample_docs()
    lines = []
    for i in range(start, start + count):
        doc = json.loads(json.dumps(docs[i % len(docs)]))
        native = f"{tag}{i:07d}"
        doc["data"]["id"] = native
        doc["data"]["conversation_id"] = native
        doc["data"]["edit_history_tweet_ids"] = [native]
        lines.append(json.dumps(doc, separators=(",", ":")))
    return lines


def delete_line(native_id: str, version_ms: int) -> str:
    return json.dumps({"delete": {"status": {"id_str": native_id, "user_id_str": "1"},
                                  "timestamp_ms": str(version_ms)}})


def expected_from_lines(lines: Iterable[str], expected: Expected | None = None) -> Expected:
    from pulse_producer.events import Delete, Upsert
    from pulse_producer.parsers import ParseError, parse_line

    expected = expected or Expected()
    for line in lines:
        try:
            events = parse_line(line)
        except ParseError:
            continue
        for event in events:
            if isinstance(event, Upsert):
                expected.apply_upsert(event.post)
            elif isinstance(event, Delete):
                expected.apply_delete(event.id, event.version)
    return expected


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def put_direct(ws: Workspace, records: list[tuple[bytes, str]]) -> None:
    """put_records in order (chunks of 500), re-putting failed entries before the next chunk."""
    from pulse_common.aws import client
    from pulse_common.retry import RetryPolicy

    kinesis = client("kinesis", ws.stack)
    for start in range(0, len(records), 500):
        pending = [{"Data": d, "PartitionKey": k[:256]} for d, k in records[start:start + 500]]
        delays = RetryPolicy(base_s=0.05, cap_s=1.0).delays()
        for _attempt in range(50):
            if not pending:
                break
            response = kinesis.put_records(StreamName=ws.stack.stream_name, Records=pending)
            pending = [e for e, r in zip(pending, response["Records"], strict=True) if "ErrorCode" in r]
            if pending:
                time.sleep(next(delays))
        if pending:
            raise RuntimeError(f"{len(pending)} records could not be put")


# ------------------------------------------------------------------------------------- the check


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
        version = int(item["version"]["N"])
        doc = json.loads(item["doc"]["S"])
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


def wait_until(check: Callable[[], bool], timeout_s: float, what: str, step: float = 0.5) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step)
    raise TimeoutError(f"timed out after {timeout_s:.0f}s waiting for {what}")


# ------------------------------------------------------------------------------------ results


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


def _workspace(name: str, opts: Options, shards: int = 2, **kw: Any) -> Workspace:
    ws = Workspace(name, opts.base_env, opts.log_root / f"{name}-{time.strftime('%H%M%S')}", **kw)
    ws.create(shards=shards)
    return ws


def _wait_table_at_least(ws: Workspace, n: int, timeout_s: float = 300,
                         alive: Callable | None = None) -> None:
    def check() -> bool:
        if alive:
            alive()
        return counts(ws)[0] >= n

    wait_until(check, timeout_s, f"{n} items in {ws.stack.table_name}")


def _wait_search_at_least(ws: Workspace, n: int, timeout_s: float = 300) -> None:
    wait_until(lambda: counts(ws)[1] >= n, timeout_s, f"{n} documents in {ws.stack.opensearch_index_alias}")


# ---------------------------------------------------------------------------------- scenarios


def s1_enricher_kill(opts: Options) -> Result:
    """kill -9 the enricher daemon (JVM, and every per-shard processor) mid-batch, restart."""
    ws = _workspace("enricher-kill", opts)
    try:
        lines = replay_lines(opts.posts, f"s1{ws.suffix}")
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        ws.start_indexer()
        enricher = ws.start_enricher()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate))
        _wait_table_at_least(ws, opts.posts // 3)
        table_at_kill = counts(ws)[0]
        ws.kill(enricher)
        log(f"enricher killed (-9, whole process tree) with {table_at_kill} items written")
        time.sleep(3)
        restarted = time.monotonic()
        ws.start_enricher()
        wait_producer(producer)
        verdict, recovered = wait_converged(ws, expected, since=restarted, alive=ws.check_alive)
        return result_of("enricher_kill", ws, expected, verdict, recovered,
                         [f"killed at {table_at_kill}/{opts.posts} items"])
    finally:
        ws.pipeline.stop()
        ws.drop()


def s2_indexer_kill(opts: Options) -> Result:
    """Two indexer workers; kill -9 one while the other runs; later kill -9 both; restart one."""
    ws = _workspace("indexer-kill", opts)
    try:
        lines = replay_lines(opts.posts, f"s2{ws.suffix}")
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        a = ws.start_indexer("indexer-a")
        b = ws.start_indexer("indexer-b")
        ws.start_enricher()
        # The input starts once the enricher's KCL holds both shard leases: otherwise a backlog
        # builds while the JVM starts and reaches the indexers in one burst, before any kill.
        app = ws.env["PULSE_ENRICHER_APPLICATION_NAME"]
        wait_until(lambda: len([o for o in _lease_owners(ws, app).values() if o]) >= 2, 180,
                   "the enricher to hold its leases", step=1)
        # Slower input: the kills must land while posts are still flowing.
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate / 6))
        _wait_search_at_least(ws, opts.posts // 5)
        ws.kill(a)
        at_a = counts(ws)[1]
        log(f"indexer-a killed (-9), search has {at_a} docs; indexer-b alone for a while")
        time.sleep(8)  # longer than the KCL's failover time (5 s locally): b takes a's shards over
        _wait_search_at_least(ws, min(opts.posts, at_a + opts.posts // 10))
        at_both = counts(ws)[1]
        ws.kill(b)
        log(f"indexer-b killed (-9) too, search has {at_both} docs; 5 s with no indexer")
        time.sleep(5)
        restarted = time.monotonic()
        ws.start_indexer("indexer-c")
        wait_producer(producer)
        verdict, recovered = wait_converged(ws, expected, since=restarted)
        return result_of("indexer_kill", ws, expected, verdict, recovered,
                         [f"indexer-a killed at {at_a}, both at {at_both}/{opts.posts} docs"])
    finally:
        ws.pipeline.stop()
        ws.drop()


def s3_opensearch_down(opts: Options, down_s: float = 60.0) -> Result:
    """OpenSearch (a private node) down for 60 s mid-run; the indexer must catch up, nothing lost."""
    from pulse_devstack import opensearch

    http_port, transport_port = procs.free_port(), procs.free_port()
    home = opts.log_root / f"opensearch-{uuid.uuid4().hex[:6]}"
    node_log = home.with_suffix(".log")
    url = f"http://127.0.0.1:{http_port}"

    def start_node():
        proc = opensearch.start_node(cache_dir=CACHE_DIR / "opensearch", home=home, http_port=http_port,
                                     transport_port=transport_port, log_path=node_log, heap_mb=384)
        opensearch.wait_healthy(url, timeout_s=240, log_path=node_log, proc=proc)
        return proc

    node = start_node()
    ws = None
    try:
        ws = _workspace("opensearch-down", opts, opensearch_url=url)
        lines = replay_lines(opts.posts, f"s3{ws.suffix}")
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        ws.start_indexer()
        ws.start_enricher()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate / 2))
        _wait_search_at_least(ws, opts.posts // 5)
        at_stop = counts(ws)[1]
        opensearch.stop_node(node.pid, timeout_s=30)
        stopped = time.monotonic()
        log(f"private OpenSearch stopped with {at_stop} docs; down for {down_s:.0f}s")
        while time.monotonic() - stopped < down_s:
            ws.check_alive()
            time.sleep(1)
        node = start_node()
        back = time.monotonic()
        log(f"OpenSearch back after {back - stopped:.0f}s")
        wait_producer(producer)
        verdict, recovered = wait_converged(ws, expected, since=back, alive=ws.check_alive)
        return result_of("opensearch_down", ws, expected, verdict, recovered,
                         [f"stopped at {at_stop} docs, down {back - stopped:.0f}s (restart included)"])
    finally:
        if ws is not None:
            ws.pipeline.stop()
            ws.drop()
        with contextlib.suppress(Exception):
            opensearch.stop_node(node.pid, timeout_s=30)


def s4_producer_throttling(opts: Options) -> Result:
    """30 % of put_records entries failed (ProvisionedThroughputExceeded) by the fault proxy."""
    from pulse_devstack.fault_proxy import FaultProxy, PutRecordsThrottle

    ws = _workspace("producer-throttling", opts)
    rule = PutRecordsThrottle(0.3)
    try:
        lines = replay_lines(opts.posts, f"s4{ws.suffix}")
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        ws.start_indexer()
        ws.start_enricher()
        with FaultProxy(ws.env["PULSE_AWS_ENDPOINT_URL"], rules=[rule], seed=4) as proxy:
            producer = ws.start_producer("replay", str(replay), PULSE_AWS_ENDPOINT_URL=proxy.url)
            summary = wait_producer(producer)
        done = time.monotonic()
        log(f"producer summary {summary}; proxy failed {rule.injected} entries")
        verdict, recovered = wait_converged(ws, expected, since=done, alive=ws.check_alive)
        return result_of("producer_throttling", ws, expected, verdict, recovered,
                         [f"{rule.injected} put_records entries failed by the proxy; producer {summary}"])
    finally:
        ws.pipeline.stop()
        ws.drop()


POISON_KINDS = 18


def poison_records(tag: str, count: int) -> list[tuple[bytes, str]]:
    """Every kind of malformed Kinesis record the enricher can meet."""
    now = datetime.now(UTC).isoformat()
    good_post = {"id": f"x:{tag}p", "network": "x", "native_id": f"{tag}p", "created_at": now, "text": "hi",
                 "author": {"id": "x:1"}, "version": 1}
    kinds: list[bytes] = [
        b"\xff\xfe\xfd not utf-8",
        b'{"op": "upsert", "id": "x:1"',  # truncated JSON
        b"[1, 2, 3]",
        b'"a string"',
        b"",
        b"NaN",
        json.dumps({"op": "upsert", "id": f"x:{tag}a", "version": 1, "ingested_at": now}).encode(),  # no post
        json.dumps({"op": "explode", "id": f"x:{tag}b", "version": 1, "ingested_at": now}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}c", "version": -5, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}c"}}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}mismatch", "version": 1, "ingested_at": now,
                    "post": good_post}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}d", "version": 1, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}d", "text": "x" * 30_000}}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}e", "version": 1, "ingested_at": "yesterday",
                    "post": {**good_post, "id": f"x:{tag}e"}}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}f", "version": 1, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}f", "network": "myspace"}}).encode(),
        json.dumps({"op": "upsert", "id": f"x:{tag}g", "version": 1, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}g", "author": None}}).encode(),
        b'{"op":"delete","id":"x","version":1,"ingested_at":"' + now.encode() + b'"}',  # id too short
        json.dumps({"op": "upsert", "id": f"x:{tag}h", "version": 1, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}h",
                             "engagement": {"likes": 10**25}}}).encode(),
        b"\x1f\x8b\x08\x00 gzip-looking",
        json.dumps({"op": "upsert", "id": f"x:{tag}i", "version": 1, "ingested_at": now,
                    "post": {**good_post, "id": f"x:{tag}i", "geo": {"lat": 500, "lon": 0}}}).encode(),
    ]
    assert len(kinds) == POISON_KINDS
    out = []
    for i in range(count):
        data = kinds[i % len(kinds)]
        if not data:
            data = b" "  # Kinesis refuses empty data; a lone space is invalid JSON
        out.append((data, f"poison-{tag}-{i}"))
    return out


def s5_poison(opts: Options) -> Result:
    """1 % poison: malformed lines in the replay (producer skips them) and malformed Kinesis
    records of every kind (the enricher dead-letters them); every valid post still arrives."""
    ws = _workspace("poison", opts)
    try:
        tag = f"s5{ws.suffix}"
        lines = replay_lines(opts.posts, tag)
        expected = expected_from_lines(lines)
        bad_lines = ["{not json", "\x00\x01", '{"data": {"id": null}}', '{"unknown": "shape"}', "[]",
                     '{"data":{"id":"1","text":5,"author_id":"2","created_at":"x"}}']
        per = max(1, opts.posts // 100)
        mixed = list(lines)
        rng = random.Random(5)
        for i in range(per // 2):
            mixed.insert(rng.randrange(len(mixed)), bad_lines[i % len(bad_lines)])
        replay = write_lines(ws.log_dir / "input.jsonl", mixed)
        poison = poison_records(tag, max(per - per // 2, POISON_KINDS))
        ws.start_indexer()
        ws.start_enricher()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate))
        time.sleep(2)
        put_direct(ws, poison[: len(poison) // 2])
        summary = wait_producer(producer)
        put_direct(ws, poison[len(poison) // 2:])
        done = time.monotonic()
        verdict, recovered = wait_converged(ws, expected, since=done, alive=ws.check_alive)
        wait_until(lambda: dead_letter_count(ws.stack) >= len(poison), 60,
                   "every poison record dead-lettered")
        result = result_of("poison", ws, expected, verdict, recovered,
                           [f"{per // 2} malformed lines (producer skipped {summary.get('skipped')}), "
                            f"{len(poison)} poison records put into Kinesis"])
        if result.dead_letter != len(poison):
            result.ok_extra = False
            result.notes.append(f"dead_letter {result.dead_letter} != {len(poison)} poison records")
        return result
    finally:
        ws.pipeline.stop()
        ws.drop()


def s6_replay(opts: Options) -> Result:
    """Replay the whole stream from TRIM_HORIZON with fresh checkpoints (new KCL applications for
    the enricher and the indexer): neither store may change at all."""
    ws = _workspace("replay", opts)
    try:
        tag = f"s6{ws.suffix}"
        lines = replay_lines(opts.posts, tag)
        # Some deletes of earlier posts, later in the stream (versions after the posts' own).
        rng = random.Random(6)
        for i in rng.sample(range(opts.posts), opts.posts // 20):
            lines.append(delete_line(f"{tag}{i:07d}", 1_900_000_000_000 + i))
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        ws.start_indexer()
        ws.start_enricher()
        ws.run_summary = wait_producer(ws.start_producer("replay", str(replay), "--rate", str(opts.rate * 2)))
        before, _ = wait_converged(ws, expected, since=time.monotonic(), alive=ws.check_alive)
        if not before.clean:
            return result_of("replay", ws, expected, before, -1, ["the first pass never converged"])
        ws.pipeline.stop()
        log("first pass converged; replaying from TRIM_HORIZON with fresh checkpoints")
        fresh_app = f"{ws.env['PULSE_ENRICHER_APPLICATION_NAME']}-replay"
        ws.extra_apps.append(fresh_app)
        restarted = time.monotonic()
        ws.start_enricher("enricher-replay", PULSE_ENRICHER_APPLICATION_NAME=fresh_app)
        # A new KCL application for the indexer too: fresh lease tables, fresh checkpoints.
        ws.start_indexer("indexer-replay",
                         PULSE_INDEXER_APPLICATION_NAME=f"{ws.stack.table_name}-indexer-replay")
        # Sentinels at the end of every shard: when all are searchable, the replay is through.
        sentinels = replay_lines(8, f"{tag}z")
        expected_from_lines(sentinels, expected)
        from pulse_producer.events import record_bytes
        from pulse_producer.parsers import parse_line

        put_direct(ws, [(record_bytes(ev), ev.id) for line in sentinels for ev in parse_line(line)])
        sentinel_ids = [ev.id for line in sentinels for ev in parse_line(line)]
        wait_until(lambda: all(i in _search_ids(ws, sentinel_ids) for i in sentinel_ids), 300,
                   "the replay to reach the sentinels")
        time.sleep(3)  # the last batch's bulk request and a refresh
        before.table_items = {k: v for k, v in before.table_items.items()}
        verdict, _ = wait_converged(ws, expected, since=restarted, exact=before, timeout_s=30)
        recovered = round(time.monotonic() - restarted, 1) if verdict.clean else -1
        return result_of("replay", ws, expected, verdict, recovered,
                         ["recovered_s = time for the fresh consumers to re-read the whole stream"])
    finally:
        ws.pipeline.stop()
        ws.drop()


def _search_ids(ws: Workspace, ids: list[str]) -> set[str]:
    from opensearchpy import OpenSearch

    search = OpenSearch(ws.stack.opensearch_url, timeout=30)
    try:
        search.indices.refresh(index=f"{ws.stack.opensearch_index_alias}-*")
        res = search.search(index=f"{ws.stack.opensearch_index_alias}-*",
                            body={"query": {"ids": {"values": ids}}, "size": len(ids), "_source": False})
    except Exception:  # noqa: BLE001
        return set()
    return {h["_id"] for h in res["hits"]["hits"]}


def s7_out_of_order(opts: Options) -> Result:
    """Every id gets 2-4 versions and some deletes, put in shuffled order across separate rounds
    (separate batches): the highest version wins everywhere and OpenSearch equals DynamoDB."""
    from pulse_common.contracts.envelope import RecordEnvelope
    from pulse_common.schema import Engagement, Post
    from pulse_producer.parsers import parse_line

    ws = _workspace("out-of-order", opts)
    try:
        tag = f"s7{ws.suffix}"
        ids = max(10, opts.posts // 3)
        rng = random.Random(7)
        base_posts = [ev.post for line in replay_lines(ids, tag) for ev in parse_line(line)]
        expected = Expected()
        rounds: list[list[tuple[bytes, str]]] = [[] for _ in range(5)]
        now = datetime.now(UTC)
        deletes = resurrections = 0
        for post in base_posts:
            v0 = post.version
            ops: list[tuple[str, int]] = [("upsert", v0 + k * 1000) for k in range(rng.randint(2, 4))]
            roll = rng.random()
            if roll < 0.15:  # deleted last
                ops.append(("delete", ops[-1][1] + 500))
                deletes += 1
            elif roll < 0.25:  # deleted, then an OLDER version arrives later (must not resurrect)
                ops.append(("delete", v0 + 10_000))
                resurrections += 1
            if not opts.older_after_delete and roll < 0.25:  # upserts shuffled, the delete last
                ups = ops[:-1]
                rng.shuffle(ups)
                ops = [*ups, ops[-1]]
            elif 0.15 <= roll < 0.25:  # the delete, then an older upsert after it
                ups = ops[:-1]
                rng.shuffle(ups)
                ops = [*ups[:-1], ops[-1], ups[-1]]
            else:
                rng.shuffle(ops)
            for r, (op, version) in enumerate(ops):
                if op == "upsert":
                    p = Post.model_validate({**post.model_dump(), "version": version,
                                             "engagement": Engagement(likes=version - v0).model_dump()})
                    env = RecordEnvelope(op="upsert", id=p.id, version=version, ingested_at=now, post=p)
                    expected.apply_upsert(p)
                else:
                    env = RecordEnvelope(op="delete", id=post.id, version=version, ingested_at=now,
                                         reason="user_delete")
                    expected.apply_delete(post.id, version)
                rounds[r].append((env.model_dump_json().encode(), post.id))
        ws.start_indexer()
        ws.start_enricher()
        newest: dict[str, tuple[int, str]] = {}  # id -> (highest version so far, op)
        for records in rounds:
            rng.shuffle(records)
            put_direct(ws, records)
            # Wait until the enricher applied this round (every op that is now the newest of its id
            # is visible in DynamoDB), so the next round arrives in later KCL batches: an older
            # version or a delete meets the stored state, not a batch-local de-duplication.
            visible: dict[str, tuple[int, str]] = {}
            for data, post_id in records:
                env = json.loads(data)
                have = newest.get(post_id)
                if have is None or env["version"] > have[0] or (
                        env["version"] == have[0] and env["op"] == "delete"):
                    newest[post_id] = visible[post_id] = (env["version"], env["op"])

            def applied(visible=visible) -> bool:
                # upsert: that live version is stored; delete: its tombstone, or something newer
                stored = {k: (int(item["version"]["N"]), is_tombstone(item))
                          for k, item in scan_table(ws.stack, tombstones=True).items()}
                return all(
                    stored.get(i) == (v, op == "delete") or (op == "delete" and stored.get(i, (-1,))[0] > v)
                    for i, (v, op) in visible.items())

            wait_until(applied, 180, "a round to be applied", step=1.0)
            time.sleep(1)
        done = time.monotonic()
        verdict, recovered = wait_converged(ws, expected, since=done, alive=ws.check_alive,
                                            timeout_s=opts.converge_timeout_s)
        deleted = {i for i, p in expected.posts.items() if p is None}
        resurrected = verdict.lost & deleted
        only_one = {i for i in expected.posts
                    if (i in verdict.table_items) != (i in verdict.search_docs)}
        return result_of("out_of_order", ws, expected, verdict, recovered,
                         [f"{ids} ids, {sum(map(len, rounds))} records in 5 rounds, {deletes} deleted last, "
                          f"{resurrections} deleted then sent an older version",
                          f"{len(deleted)} ids end deleted; {len(resurrected)} of them are present again "
                          f"(an older upsert after the delete); {len(only_one)} ids are in only one store"])
    finally:
        ws.pipeline.stop()
        ws.drop()


def _lease_owners(ws: Workspace, app: str) -> dict[str, str]:
    from pulse_common.aws import client

    with contextlib.suppress(Exception):
        items = client("dynamodb", ws.stack).scan(TableName=app)["Items"]
        return {i["leaseKey"]["S"]: i.get("leaseOwner", {}).get("S", "") for i in items}
    return {}


def s8_two_enrichers(opts: Options) -> Result:
    """Two enricher workers share the stream (one lease each); one is killed -9, the other takes over."""
    ws = _workspace("two-enrichers", opts)
    try:
        lines = replay_lines(opts.posts, f"s8{ws.suffix}")
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        app = ws.env["PULSE_ENRICHER_APPLICATION_NAME"]
        ws.start_indexer()
        a = ws.start_enricher("enricher-a", PULSE_ENRICHER_WORKER_ID=f"{app}-a")
        ws.start_enricher("enricher-b", PULSE_ENRICHER_WORKER_ID=f"{app}-b")
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate))
        _wait_table_at_least(ws, opts.posts // 3)
        owners = _lease_owners(ws, app)
        ws.kill(a)
        killed = time.monotonic()
        log(f"enricher-a killed (-9); lease owners before: {owners}")
        wait_producer(producer)
        verdict, recovered = wait_converged(ws, expected, since=killed, alive=None)
        after = _lease_owners(ws, app)
        balanced = len(set(owners.values())) == 2
        notes = [f"leases before the kill {owners}", f"after {after}",
                 "balanced (one lease each)" if balanced else "NOT balanced before the kill"]
        return result_of("two_enrichers", ws, expected, verdict, recovered, notes)
    finally:
        ws.pipeline.stop()
        ws.drop()


def _metric_sum(svc: Service, env_key: str, prefix: str) -> float:
    """The sum of the samples starting with `prefix` on a running service's /metrics."""
    port = svc.env[env_key]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        lines = resp.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(prefix))


def s10_reshard(opts: Options) -> Result:
    """Scale-out: the Kinesis stream goes from 1 to 2 shards (UpdateShardCount) mid-run with two
    enrichers and two indexers running. Every id is written twice (a newer version later), so ids
    whose first version is in the parent and whose second is in a child need the parent finished
    first. Checks, besides lost/duplicates: no enricher ever met a version older than the one stored
    (`records_total{outcome="stale"}` = 0 on both: per-id order held), the parent ended, and the two
    child shards went one to each enricher."""
    from pulse_common.aws import client
    from pulse_common.contracts.envelope import RecordEnvelope
    from pulse_common.schema import Engagement, Post
    from pulse_producer.parsers import parse_line

    ws = _workspace("reshard", opts, shards=1)
    try:
        tag = f"s10{ws.suffix}"
        ids = max(20, opts.posts // 2)
        now = datetime.now(UTC)
        base_posts = [ev.post for line in replay_lines(ids, tag) for ev in parse_line(line)]
        expected = Expected()

        def envelope(post, bump: int) -> tuple[bytes, str]:
            p = Post.model_validate({**post.model_dump(), "version": post.version + bump,
                                     "engagement": Engagement(likes=bump).model_dump()})
            expected.apply_upsert(p)
            env = RecordEnvelope(op="upsert", id=p.id, version=p.version, ingested_at=now, post=p)
            return env.model_dump_json().encode(), p.id

        # Chunk k holds the first versions of ids in chunk k and the second versions of chunk k - 2.
        chunk = max(10, ids // 20)
        groups = [base_posts[i:i + chunk] for i in range(0, ids, chunk)]
        rounds = [[envelope(post, 0) for post in group] for group in groups]
        for k, group in enumerate(groups):
            rounds[min(k + 2, len(rounds) - 1)] += [envelope(post, 1000) for post in group]
        app = ws.env["PULSE_ENRICHER_APPLICATION_NAME"]
        ws.start_indexer("indexer-a")
        ws.start_indexer("indexer-b")
        enrichers = [ws.start_enricher(f"enricher-{w}", PULSE_ENRICHER_WORKER_ID=f"{app}-{w}") for w in "ab"]
        wait_until(lambda: any(_lease_owners(ws, app).values()), 180, "an enricher to hold the shard", step=1)
        kinesis = client("kinesis", ws.stack)
        split_at = len(rounds) // 2
        for k, records in enumerate(rounds):
            if k == split_at:
                kinesis.update_shard_count(StreamName=ws.stack.stream_name, TargetShardCount=2,
                                           ScalingType="UNIFORM_SCALING")
                log(f"stream resharded 1 -> 2 after {k} of {len(rounds)} rounds")
            put_direct(ws, records)
            time.sleep(chunk / max(1.0, opts.rate))
        done = time.monotonic()
        shards = kinesis.list_shards(StreamName=ws.stack.stream_name)["Shards"]
        parent = next(sh["ShardId"] for sh in shards if "ParentShardId" not in sh)
        children = sorted(sh["ShardId"] for sh in shards if sh.get("ParentShardId") == parent)
        verdict, recovered = wait_converged(ws, expected, since=done, alive=ws.check_alive)

        def children_spread() -> bool:
            owners = _lease_owners(ws, app)
            return len({owners.get(child) for child in children} - {None, ""}) == 2

        spread = True
        try:
            wait_until(children_spread, 120, "one child shard per enricher", step=2)
        except TimeoutError:
            spread = False
        owners = _lease_owners(ws, app)
        def outcome(name: str) -> float:
            key = f'pulse_enricher_records_total{{outcome="{name}"}}'
            return sum(_metric_sum(svc, "PULSE_ENRICHER_METRICS_PORT", key) for svc in enrichers)

        stale, written = outcome("stale"), outcome("written")
        # a finished parent's lease says SHARD_END, or is gone (cleaned up once its children started)
        parent_done = _lease_checkpoint(ws, app, parent) in (None, "SHARD_END")
        result = result_of("reshard", ws, expected, verdict, recovered, [
            f"{ids} ids x 2 versions in {len(rounds)} rounds; 1 -> 2 shards before round {split_at}",
            f"parent {parent} ended: {parent_done}; children {children} held by "
            f"{[owners.get(c) for c in children]} ({'one each' if spread else 'NOT one each'})",
            f"enrichers wrote {written:.0f} versions, met {stale:.0f} older than stored (per-id order)",
        ])
        if stale or not spread or not parent_done or len(children) != 2:
            result.ok_extra = False
        return result
    finally:
        ws.pipeline.stop()
        ws.drop()


def _lease_checkpoint(ws: Workspace, app: str, lease_key: str) -> str | None:
    from pulse_common.aws import client

    with contextlib.suppress(Exception):
        item = client("dynamodb", ws.stack).get_item(TableName=app, Key={"leaseKey": {"S": lease_key}},
                                                     ConsistentRead=True).get("Item")
        return item["checkpoint"]["S"] if item else None
    return None


# ------------------------------------------------------------------------------------ the soak


def tree_rss_mb(pid: int) -> float:
    """Sum of the RSS of a service's process and all its descendants (the enricher's JVM and its
    per-shard processors are in their own process group, so a group would miss them)."""
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def _epoch(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()


def stage_summary(stages: list[tuple[float, float]]) -> str:
    """'ingested->enriched p50 a p95 b; enriched->searchable p50 c p95 d' (seconds)."""
    if not stages:
        return "no stage timings"

    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(q * len(values)))]

    first, second = [s[0] for s in stages], [s[1] for s in stages]
    return (f"ingested->enriched p50 {pct(first, 0.5):.2f}s p95 {pct(first, 0.95):.2f}s; "
            f"enriched->searchable p50 {pct(second, 0.5):.2f}s p95 {pct(second, 0.95):.2f}s")


class FreshnessProbe(threading.Thread):
    """Polls OpenSearch for sampled ids (in input order); latency = first seen - ingested_at.

    `ingested_at` is set by the producer when the post enters its batch (before the put), so
    this over-estimates the put → searchable time by at most the producer's linger (100 ms).
    Resolution: the poll interval (0.25 s) plus the search call itself.
    """

    def __init__(self, url: str, alias: str, ids: list[str], interval_s: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.url, self.alias, self.interval_s = url, alias, interval_s
        self.pending = list(ids)
        self.latencies: list[tuple[float, float]] = []  # (seen at, latency s)
        # Where the time went, per found id: ingested -> enriched, enriched -> seen in a search.
        self.stages: list[tuple[float, float]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        from opensearchpy import OpenSearch

        search = OpenSearch(self.url, timeout=10)
        while not self.stop_event.is_set() and self.pending:
            window = self.pending[:300]
            try:
                res = search.search(index=f"{self.alias}-*", body={
                    "query": {"ids": {"values": window}}, "size": len(window),
                    "_source": ["ingested_at", "enriched_at"]},
                    ignore_unavailable=True, allow_no_indices=True)
                now = time.time()
                found = {}
                for hit in res["hits"]["hits"]:
                    ingested = _epoch(hit["_source"]["ingested_at"])
                    found[hit["_id"]] = now - ingested
                    enriched = hit["_source"].get("enriched_at")
                    if enriched:
                        self.stages.append((_epoch(enriched) - ingested, now - _epoch(enriched)))
                if found:
                    self.latencies += [(now, lat) for lat in found.values()]
                    self.pending = [i for i in self.pending if i not in found]
            except Exception:  # noqa: BLE001 - not there yet
                pass
            self.stop_event.wait(self.interval_s)

    def p(self, q: float, since: float = 0.0) -> float | None:
        values = sorted(lat for at, lat in self.latencies if at >= since)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


def s9_soak(opts: Options) -> Result:
    """`soak_minutes` at `soak_rate` posts/s through all three services; RSS of every service
    (process group: the enricher's JVM and processors included) must grow < 10 % after warm-up,
    freshness p95 (put → searchable, sampled ids) must stay within 3 s."""
    ws = _workspace("soak", opts)
    try:
        seconds = opts.soak_minutes * 60
        total = int(seconds * opts.soak_rate)
        tag = f"s9{ws.suffix}"
        lines = replay_lines(total, tag)
        expected = expected_from_lines(lines)
        replay = write_lines(ws.log_dir / "input.jsonl", lines)
        sampled = [f"x:{tag}{i:07d}" for i in range(0, total, 20)]
        services = {"indexer": ws.start_indexer(), "enricher": ws.start_enricher()}
        time.sleep(10)  # the JVM and the processors start before the load
        probe = FreshnessProbe(ws.stack.opensearch_url, ws.stack.opensearch_index_alias, sampled)
        started = time.monotonic()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.soak_rate))
        services["producer"] = producer
        probe.start()
        warmup = max(60.0, seconds / 4)
        samples: dict[str, list[tuple[float, float]]] = {k: [] for k in services}
        while producer.running:
            ws.check_alive()
            for name, svc in services.items():
                if svc.proc is not None and svc.running:
                    samples[name].append((time.monotonic() - started, tree_rss_mb(svc.proc.pid)))
            time.sleep(5)
        wait_producer(producer)
        done = time.monotonic()
        verdict, recovered = wait_converged(ws, expected, since=done, timeout_s=300)
        probe.stop_event.set()
        notes, ok = [], True
        warm_end = time.time() - (time.monotonic() - started) + warmup
        for name, series in samples.items():
            after = [rss for t, rss in series if t >= warmup]
            if len(after) < 4:
                notes.append(f"{name}: too few samples after warm-up")
                continue
            first = statistics.median(after[: max(2, len(after) // 5)])
            last = statistics.median(after[-max(2, len(after) // 5):])
            growth = (last - first) / first * 100
            notes.append(f"rss {name}: after warm-up {first:.0f} MB -> end {last:.0f} MB ({growth:+.1f} %), "
                         f"max {max(after):.0f} MB")
            if growth >= 10:
                ok = False
        p95_all, p95_warm, p50 = probe.p(0.95), probe.p(0.95, since=warm_end), probe.p(0.5, since=warm_end)
        notes.append(f"freshness (put -> searchable, {len(probe.latencies)} sampled ids): "
                     f"p50 {p50 and round(p50, 2)} s, p95 {p95_warm and round(p95_warm, 2)} s after warm-up, "
                     f"p95 {p95_all and round(p95_all, 2)} s overall")
        if p95_warm is None or p95_warm > 3.0:
            ok = False
            notes.append("freshness p95 target (<= 3 s) MISSED")
        result = result_of("soak", ws, expected, verdict, recovered, notes)
        result.ok_extra = ok
        return result
    finally:
        ws.pipeline.stop()
        ws.drop()


SCENARIOS: dict[str, Callable[[Options], Result]] = {
    "enricher_kill": s1_enricher_kill,
    "indexer_kill": s2_indexer_kill,
    "opensearch_down": s3_opensearch_down,
    "producer_throttling": s4_producer_throttling,
    "poison": s5_poison,
    "replay": s6_replay,
    "out_of_order": s7_out_of_order,
    "two_enrichers": s8_two_enrichers,
    "reshard": s10_reshard,
    "soak": s9_soak,
}

__all__ = ["SCENARIOS", "Expected", "Options", "Result", "Verdict", "Workspace", "timedelta", "verify"]
