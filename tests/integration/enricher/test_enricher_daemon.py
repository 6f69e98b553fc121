"""Acceptance of the enricher (issue 5) with the real KCL daemon on the local stack."""

from __future__ import annotations

import random

import enricher_posts as posts
import pytest
from enricher_harness import Pipeline, wait_until

from pulse_common.contracts.items import from_item

pytestmark = pytest.mark.integration


def post_records(ids: range) -> list[tuple[bytes, str]]:
    return [(posts.encode(posts.upsert(i)), f"synthetic:{1_000_000 + i}") for i in ids]


def test_ten_thousand_posts_with_two_hundred_poison_records_land_exactly_once(pipeline: Pipeline):
    pipeline.seed_leases()
    valid = post_records(range(9_800))
    poison = [posts.poison(k) for k in range(196)]
    records = list(valid)
    rng = random.Random(5)
    for _kind, data, key in poison:
        records.insert(rng.randrange(len(records)), (data, key))
    pipeline.put(records[:5000])
    for k in range(4):  # a 2 MB post: bigger than Kinesis' classic 1 MiB limit, so put alone
        pipeline.put_one(posts.encode(posts.upsert(800_000 + k, text="é" * 1_000_000)), f"huge-{k}")
    pipeline.put(records[5000:])

    run = pipeline.start_enricher()
    wait_until(pipeline.caught_up, timeout_s=240, what="checkpoints at the last record of each shard",
               pipeline=pipeline, every_s=2)

    items = pipeline.items()
    assert set(items) == {key for _data, key in valid}
    letters = pipeline.dead_letters()
    assert len(letters) == 200
    assert all(letter["reason"] and letter["shard_id"].startswith("shardId-") and letter["sequence_number"]
               for letter in letters)
    reasons = {letter["reason"] for letter in letters}
    expected = {"invalid_json", "invalid_utf8", "invalid_envelope", "text_too_long", "record_too_large"}
    assert expected <= reasons
    assert pipeline.checkpoints() == {shard: str(seq) for shard, seq in pipeline.last_sequence.items()}
    metrics = run.metrics()
    assert metrics['pulse_enricher_records_total{outcome="written"}'] == 9_800
    assert metrics['pulse_enricher_records_total{outcome="dead_lettered"}'] == 200
    doc = from_item(items["synthetic:1000042"]).doc
    assert doc["enrichment_version"] and doc["sentiment"]["label"] in {"negative", "neutral", "positive"}


def test_kill_9_mid_run_then_restart_loses_nothing_and_rewrites_nothing(pipeline: Pipeline):
    pipeline.seed_leases()
    pipeline.put(post_records(range(10_000)))
    first = pipeline.start_enricher(PULSE_ENRICHER_MAX_RECORDS="500")
    wait_until(lambda: pipeline.count() >= 5_000, timeout_s=180, what="about half of the posts",
               pipeline=pipeline, every_s=0.5)
    first.kill9()
    stored_at_kill = pipeline.count()
    assert stored_at_kill < 10_000

    second = pipeline.start_enricher(PULSE_ENRICHER_MAX_RECORDS="500")
    wait_until(pipeline.caught_up, timeout_s=180, what="the restarted daemon to catch up", pipeline=pipeline)

    assert pipeline.count() == 10_000
    events = pipeline.table_stream_events()
    kinds = [event["eventName"] for event in events]
    assert kinds.count("INSERT") == 10_000 and kinds.count("MODIFY") == 0 and kinds.count("REMOVE") == 0
    metrics = second.metrics()
    written = metrics.get('pulse_enricher_records_total{outcome="written"}', 0)
    redelivered = metrics["pulse_enricher_redelivered_total"]
    assert written + stored_at_kill == 10_000
    print(f"kill -9 at {stored_at_kill} stored; redelivered after restart: {redelivered:.0f}")


def test_sigterm_checkpoints_what_is_stored_and_a_restart_redelivers_at_most_one_batch_per_shard(
    pipeline: Pipeline,
):
    pipeline.seed_leases()
    pipeline.put(post_records(range(3_000)))
    env = {"PULSE_ENRICHER_MAX_RECORDS": "200", "PULSE_ENRICHER_LOG_LEVEL": "INFO"}
    first = pipeline.start_enricher(**env)
    wait_until(lambda: pipeline.count() >= 600, timeout_s=180, what="some progress", pipeline=pipeline,
               every_s=0.5)
    assert first.terminate() == 0
    log = first.log_path.read_text()
    assert "shutdown requested" in log

    # The checkpoint of each shard is exactly the last stored record: nothing stored is left
    # unacknowledged, nothing unstored is acknowledged.
    checkpoints = {shard: int(seq) for shard, seq in pipeline.checkpoints().items() if seq.isdigit()}
    stored = set(pipeline.items())
    assert stored and len(stored) < 3_000
    for key, (shard, seq) in pipeline.position.items():
        assert (key in stored) == (seq <= checkpoints.get(shard, -1)), (key, shard, seq, checkpoints)

    second = pipeline.start_enricher(**env)
    wait_until(pipeline.caught_up, timeout_s=180, what="the restarted daemon to catch up", pipeline=pipeline)
    assert pipeline.count() == 3_000
    redelivered = second.metrics()["pulse_enricher_redelivered_total"]
    assert redelivered <= 2 * 200


def test_an_older_version_never_overwrites_a_newer_one_and_a_delete_leaves_a_tombstone(pipeline: Pipeline):
    pipeline.seed_leases()

    def up(i: int, version: int, text: str) -> tuple[bytes, str]:
        return posts.encode(posts.upsert(i, version=version, text=text)), f"synthetic:{1_000_000 + i}"

    def gone(i: int, version: int) -> tuple[bytes, str]:
        return posts.encode(posts.delete(i, version=version)), f"synthetic:{1_000_000 + i}"

    run = pipeline.start_enricher()
    pipeline.put([up(1, 2_000, "Nova 12 newer text"), up(2, 1_000, "Nova 12 to be deleted"),
                  up(3, 3_000, "Nova 12 survives an older delete")])
    wait_until(pipeline.caught_up, timeout_s=120, what="the first versions", pipeline=pipeline)
    pipeline.put([up(1, 1_000, "Nova 12 older text"), gone(2, 2_000), gone(3, 2_500)])
    wait_until(pipeline.caught_up, timeout_s=60, what="the out-of-order versions", pipeline=pipeline)
    # an upsert older than the applied delete, arriving after it (a later batch): refused
    pipeline.put([up(2, 1_500, "Nova 12 must stay deleted")])
    wait_until(pipeline.caught_up, timeout_s=60, what="the upsert older than the delete", pipeline=pipeline)

    items = pipeline.items()
    assert set(items) == {"synthetic:1000001", "synthetic:1000003"}
    assert from_item(items["synthetic:1000001"]).doc["text"] == "Nova 12 newer text"
    assert items["synthetic:1000001"]["version"]["N"] == "2000"
    assert items["synthetic:1000003"]["version"]["N"] == "3000"
    tombstones = pipeline.items(tombstones=True)
    assert set(tombstones) == {"synthetic:1000002"}
    assert tombstones["synthetic:1000002"]["version"]["N"] == "2000"
    assert tombstones["synthetic:1000002"]["deleted"] == {"BOOL": True}
    assert pipeline.count() == 2
    metrics = run.metrics()
    assert metrics['pulse_enricher_records_total{outcome="stale"}'] == 2
    assert metrics['pulse_enricher_records_total{outcome="deleted"}'] == 1
    assert metrics['pulse_enricher_records_total{outcome="delete_noop"}'] == 1
