"""Scenarios 6-8 and 10: replay, out-of-order versions, two enrichers, resharding."""

from __future__ import annotations

import contextlib
import json
import random
import time
import urllib.request
from datetime import UTC, datetime

from pulse_common.contracts.items import is_tombstone
from pulse_devstack.pipeline import Service

from .check import (
    Options,
    Result,
    result_of,
    scan_table,
    wait_converged,
    wait_table_at_least,
    workspace,
)
from .inputs import (
    Expected,
    delete_line,
    expected_from_lines,
    put_direct,
    replay_input,
    replay_lines,
    write_lines,
)
from .world import Workspace, log, wait_producer, wait_until


def s6_replay(opts: Options) -> Result:
    """Replay the whole stream from TRIM_HORIZON with fresh checkpoints (new KCL applications for
    the enricher and the indexer): neither store may change at all."""
    ws = workspace("replay", opts)
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

    ws = workspace("out-of-order", opts)
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


def lease_owners(ws: Workspace, app: str) -> dict[str, str]:
    from pulse_common.aws import client

    with contextlib.suppress(Exception):
        items = client("dynamodb", ws.stack).scan(TableName=app)["Items"]
        return {i["leaseKey"]["S"]: i.get("leaseOwner", {}).get("S", "") for i in items}
    return {}


def s8_two_enrichers(opts: Options) -> Result:
    """Two enricher workers share the stream (one lease each); one is killed -9, the other takes over."""
    ws = workspace("two-enrichers", opts)
    try:
        expected, replay = replay_input(ws, opts.posts, f"s8{ws.suffix}")
        app = ws.env["PULSE_ENRICHER_APPLICATION_NAME"]
        ws.start_indexer()
        a = ws.start_enricher("enricher-a", PULSE_ENRICHER_WORKER_ID=f"{app}-a")
        ws.start_enricher("enricher-b", PULSE_ENRICHER_WORKER_ID=f"{app}-b")
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate))
        wait_table_at_least(ws, opts.posts // 3)
        owners = lease_owners(ws, app)
        ws.kill(a)
        killed = time.monotonic()
        log(f"enricher-a killed (-9); lease owners before: {owners}")
        wait_producer(producer)
        verdict, recovered = wait_converged(ws, expected, since=killed, alive=None)
        after = lease_owners(ws, app)
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

    ws = workspace("reshard", opts, shards=1)
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
        wait_until(lambda: any(lease_owners(ws, app).values()), 180, "an enricher to hold the shard", step=1)
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
            owners = lease_owners(ws, app)
            return len({owners.get(child) for child in children} - {None, ""}) == 2

        spread = True
        try:
            wait_until(children_spread, 120, "one child shard per enricher", step=2)
        except TimeoutError:
            spread = False
        owners = lease_owners(ws, app)
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
