"""Scenarios 1-5: a service killed, OpenSearch down, Kinesis throttling, poison records."""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from datetime import UTC, datetime

from pulse_devstack import procs
from pulse_devstack.paths import CACHE_DIR
from pulse_devstack.pipeline import dead_letter_count

from .check import (
    Options,
    Result,
    converged,
    counts,
    result_of,
    wait_converged,
    wait_search_at_least,
    wait_table_at_least,
    workspace,
)
from .inputs import expected_from_lines, put_direct, replay_input, replay_lines, write_lines
from .ordering import lease_owners
from .world import log, wait_producer, wait_until


def s1_enricher_kill(opts: Options) -> Result:
    """kill -9 the enricher daemon (JVM, and every per-shard processor) mid-batch, restart."""
    ws = workspace("enricher-kill", opts)
    try:
        expected, replay = replay_input(ws, opts.posts, f"s1{ws.suffix}")
        ws.start_indexer()
        enricher = ws.start_enricher()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate))
        wait_table_at_least(ws, opts.posts // 3)
        table_at_kill = counts(ws)[0]
        ws.kill(enricher)
        log(f"enricher killed (-9, whole process tree) with {table_at_kill} items written")
        time.sleep(3)
        restarted = time.monotonic()
        ws.start_enricher()
        wait_producer(producer)
        return converged("enricher_kill", ws, expected, since=restarted,
                         notes=[f"killed at {table_at_kill}/{opts.posts} items"])
    finally:
        ws.pipeline.stop()
        ws.drop()


def s2_indexer_kill(opts: Options) -> Result:
    """Two indexer workers; kill -9 one while the other runs; later kill -9 both; restart one."""
    ws = workspace("indexer-kill", opts)
    try:
        expected, replay = replay_input(ws, opts.posts, f"s2{ws.suffix}")
        a = ws.start_indexer("indexer-a")
        b = ws.start_indexer("indexer-b")
        ws.start_enricher()
        # The input starts once the enricher's KCL holds both shard leases: otherwise a backlog
        # builds while the JVM starts and reaches the indexers in one burst, before any kill.
        app = ws.env["PULSE_ENRICHER_APPLICATION_NAME"]
        wait_until(lambda: len([o for o in lease_owners(ws, app).values() if o]) >= 2, 180,
                   "the enricher to hold its leases", step=1)
        # Slower input: the kills must land while posts are still flowing.
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate / 6))
        wait_search_at_least(ws, opts.posts // 5)
        ws.kill(a)
        at_a = counts(ws)[1]
        log(f"indexer-a killed (-9), search has {at_a} docs; indexer-b alone for a while")
        time.sleep(8)  # longer than the KCL's failover time (5 s locally): b takes a's shards over
        wait_search_at_least(ws, min(opts.posts, at_a + opts.posts // 10))
        at_both = counts(ws)[1]
        ws.kill(b)
        log(f"indexer-b killed (-9) too, search has {at_both} docs; 5 s with no indexer")
        time.sleep(5)
        restarted = time.monotonic()
        ws.start_indexer("indexer-c")
        wait_producer(producer)
        return converged("indexer_kill", ws, expected, since=restarted, alive=False,
                         notes=[f"indexer-a killed at {at_a}, both at {at_both}/{opts.posts} docs"])
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
        ws = workspace("opensearch-down", opts, opensearch_url=url)
        expected, replay = replay_input(ws, opts.posts, f"s3{ws.suffix}")
        ws.start_indexer()
        ws.start_enricher()
        producer = ws.start_producer("replay", str(replay), "--rate", str(opts.rate / 2))
        wait_search_at_least(ws, opts.posts // 5)
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
        return converged("opensearch_down", ws, expected, since=back,
                         notes=[f"stopped at {at_stop} docs, down {back - stopped:.0f}s (restart included)"])
    finally:
        if ws is not None:
            ws.pipeline.stop()
            ws.drop()
        with contextlib.suppress(Exception):
            opensearch.stop_node(node.pid, timeout_s=30)


def s4_producer_throttling(opts: Options) -> Result:
    """30 % of put_records entries failed (ProvisionedThroughputExceeded) by the fault proxy."""
    from pulse_devstack.fault_proxy import FaultProxy, PutRecordsThrottle

    ws = workspace("producer-throttling", opts)
    rule = PutRecordsThrottle(0.3)
    try:
        expected, replay = replay_input(ws, opts.posts, f"s4{ws.suffix}")
        ws.start_indexer()
        ws.start_enricher()
        with FaultProxy(ws.env["PULSE_AWS_ENDPOINT_URL"], rules=[rule], seed=4) as proxy:
            producer = ws.start_producer("replay", str(replay), PULSE_AWS_ENDPOINT_URL=proxy.url)
            summary = wait_producer(producer)
        done = time.monotonic()
        log(f"producer summary {summary}; proxy failed {rule.injected} entries")
        return converged("producer_throttling", ws, expected, since=done,
                         notes=[f"{rule.injected} put_records entries failed by the proxy; "
                                f"producer {summary}"])
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
    ws = workspace("poison", opts)
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
