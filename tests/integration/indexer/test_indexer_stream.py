"""The indexer keeps OpenSearch equal to the DynamoDB table: updates, deletes, replays, bad docs."""

from __future__ import annotations

import json

import indexer_data as data
import indexer_helpers  # noqa: F401 - puts tests/fixtures/indexer on sys.path first
import pytest
from indexer_helpers import (
    converged,
    dead_letters,
    expected_state,
    index_state,
    lease_tables,
    leases,
    running_worker,
    settings_for,
    stream_end,
    table_state,
    wait_until,
)

from pulse_common.aws import client
from pulse_common.contracts import search as naming
from pulse_common.contracts.items import encode_doc, from_item
from pulse_common.opensearch import opensearch_client

pytestmark = pytest.mark.integration


def test_ten_thousand_writes_with_updates_and_deletes_leave_opensearch_equal_to_the_table(
    indexer_stack, tmp_path
):
    stack = indexer_stack
    ops = data.workload(10_000, seed=11)  # deletes are tombstones, as the enricher writes them
    assert sum(1 for op, value in ops if op == "put" and data.is_tombstone(value)) > 1000
    dynamodb = client("dynamodb", stack)
    with running_worker(tmp_path) as run:
        # writes land while the worker reads: the first half before it catches up, the rest after
        data.write_ops(dynamodb, stack.table_name, ops[:5000])
        data.write_ops(dynamodb, stack.table_name, ops[5000:])
        expected = table_state(stack)
        assert expected == expected_state(ops)
        wait_until(converged(stack, expected), 180, "OpenSearch to equal the table", interval_s=1)
        assert run.running, run.log_tail()
        # the KCL checkpointed the end of the stream (its lease table, one lease per shard)
        end = stream_end(stack)
        wait_until(
            lambda: [lease["checkpoint"] for lease in leases(stack, settings_for(stack).app_name)] == [end],
            30,
            "the checkpoint at the end of the stream",
        )

    # every document sits in the monthly index of its created_at, readable through the alias
    search = opensearch_client(stack)
    some = search.search(index=stack.opensearch_index_alias, size=50, _source=["created_at"])["hits"]["hits"]
    assert some and all(
        hit["_index"] == naming.index_for(stack.opensearch_index_alias, hit["_source"]["created_at"])
        for hit in some
    )


def _replay(stack, tmp_path):
    """Read the whole stream again with a fresh KCL application (fresh checkpoints): the run, once
    its checkpoint reached the end of the stream."""
    app = f"{stack.table_name}-replay"
    end = stream_end(stack)
    with running_worker(tmp_path, name="replay", PULSE_INDEXER_APPLICATION_NAME=app) as run:
        wait_until(
            lambda: [lease["checkpoint"] for lease in leases(stack, app)] == [end],
            120,
            "the replay to reach the end of the stream",
        )
        conflicts = run.metric("pulse_indexer_docs_conflicts_total")
    for table in lease_tables(app):
        client("dynamodb", stack).delete_table(TableName=table)
    return conflicts


def test_replaying_the_whole_stream_from_trim_horizon_changes_nothing(indexer_stack, tmp_path):
    stack = indexer_stack
    ops = data.workload(2000, seed=12, update_share=0.35, delete_share=0.2, deletes="mixed")
    data.write_ops(client("dynamodb", stack), stack.table_name, ops)
    expected = expected_state(ops)
    with running_worker(tmp_path):
        wait_until(converged(stack, expected), 120, "first pass to be indexed", interval_s=1)
    conflicts = _replay(stack, tmp_path)
    assert index_state(stack) == expected
    assert conflicts >= len(expected)


def test_an_older_version_arriving_after_a_newer_one_changes_nothing(indexer_stack, tmp_path):
    stack = indexer_stack
    dynamodb = client("dynamodb", stack)
    newer = data.make_doc(1, 2_000)
    older = data.make_doc(1, 1_000)
    older["text"] = "stale text"
    with running_worker(tmp_path) as run:
        data.write_ops(dynamodb, stack.table_name, [("put", data.make_item(newer))])
        wait_until(lambda: index_state(stack) == {"synthetic:1": 2_000}, 60, "the newer version")
        # an out-of-order writer puts the older version after the newer one
        data.write_ops(dynamodb, stack.table_name, [("put", data.make_item(older))])
        wait_until(
            lambda: run.metric("pulse_indexer_docs_conflicts_total") > 0,
            60,
            "the older version to be refused",
        )
    search = opensearch_client(stack)
    search.indices.refresh(index=stack.opensearch_index_alias)
    hit = search.search(
        index=stack.opensearch_index_alias, body={"query": {"ids": {"values": ["synthetic:1"]}}}, version=True
    )["hits"]["hits"][0]
    assert hit["_version"] == 2_000
    assert hit["_source"]["text"] != "stale text"


def test_a_document_with_a_mapping_conflict_goes_to_the_dead_letter_queue_and_the_rest_are_indexed(
    indexer_stack, tmp_path
):
    stack = indexer_stack
    ops = data.workload(300, seed=13, update_share=0, delete_share=0)
    bad_doc = from_item(ops[150][1]).doc
    bad_doc["sentiment"]["score"] = "very positive"  # a float field
    ops[150][1]["doc"] = {"B": encode_doc(json.dumps(bad_doc).encode())}
    broken = {"id": {"S": "synthetic:broken"}, "version": {"N": "1"}, "doc": {"S": "{not json"}}
    data.write_ops(client("dynamodb", stack), stack.table_name, [*ops, ("put", broken)])
    good = expected_state(ops)
    good.pop(bad_doc["id"])
    with running_worker(tmp_path):
        wait_until(lambda: index_state(stack) == good, 90, "the good documents to be indexed")
        letters: list[dict] = []
        wait_until(lambda: len(letters.__iadd__(dead_letters(stack))) >= 2, 30, "two dead letters")
    by_reason = {letter["reason"]: letter for letter in letters}
    assert set(by_reason) == {"mapping_conflict", "invalid_json"}
    conflict = by_reason["mapping_conflict"]
    assert conflict["service"] == "indexer" and conflict["source"] == f"dynamodb-stream:{stack.table_name}"
    assert "mapper_parsing_exception" in conflict["error"] or "sentiment.score" in conflict["error"]
    import base64

    raw = json.loads(base64.b64decode(conflict["raw_b64"]))
    assert raw["dynamodb"]["NewImage"]["id"]["S"] == bad_doc["id"]
    assert conflict["sequence_number"] == raw["dynamodb"]["SequenceNumber"]


def test_reindex_scans_the_table_into_opensearch(indexer_stack):
    from pulse_indexer.migrate import apply_migrations
    from pulse_indexer.reindex import reindex

    stack = indexer_stack
    ops = data.workload(1000, seed=14)
    data.write_ops(client("dynamodb", stack), stack.table_name, ops)
    apply_migrations(stack)
    result = reindex(settings_for(stack), segments=3, progress=False)
    expected = table_state(stack)
    assert result.tombstones > 0 and result.scanned - result.tombstones == len(expected)
    assert index_state(stack) == expected
    # a second run rewrites the same versions (external_gte) and changes nothing
    again = reindex(settings_for(stack), segments=2, progress=False, version_type="external")
    assert again.conflicts == len(expected) and index_state(stack) == expected


def test_writes_while_the_worker_runs_become_searchable_with_their_derived_fields(indexer_stack, tmp_path):
    stack = indexer_stack
    doc = data.make_doc(42, 5, created_at=None)
    doc["hashtags"] = ["CameraFail"]
    doc["geo"] = {"lat": 52.5, "lon": 13.4}
    with running_worker(tmp_path):
        data.write_ops(client("dynamodb", stack), stack.table_name, [("put", data.make_item(doc))])
        wait_until(lambda: "synthetic:42" in index_state(stack), 60, "the post to be searchable")
    search = opensearch_client(stack)
    hits = search.search(
        index=stack.opensearch_index_alias, body={"query": {"match": {"hashtags.search": "camerAF"}}}
    )["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["synthetic:42"]
    source = hits[0]["_source"]
    assert source["location"] == {"lat": 52.5, "lon": 13.4}
    names = [a["aspect"] for a in doc["aspects"]]
    assert source["aspect_names"] == list(dict.fromkeys(names))
    assert [a["name"] for a in source["aspects"]] == names


@pytest.mark.parametrize("delete", ["remove", "tombstone"])
def test_a_post_deleted_and_recreated_with_the_next_version_is_searchable_even_after_a_replay(
    indexer_stack, delete, tmp_path
):
    stack = indexer_stack
    dynamodb = client("dynamodb", stack)
    # removed outright: the next version re-creates it; a tombstone has a version of its own
    again_version = 5_001 if delete == "remove" else 5_002
    first, again = data.make_doc(7, 5_000), data.make_doc(7, again_version)
    gone = ("delete", "synthetic:7")
    if delete == "tombstone":
        gone = ("put", data.make_tombstone("synthetic:7", 5_001))
    with running_worker(tmp_path):
        data.write_ops(dynamodb, stack.table_name, [("put", data.make_item(first))])
        wait_until(lambda: index_state(stack) == {"synthetic:7": 5_000}, 60, "the first version")
        data.write_ops(dynamodb, stack.table_name, [gone])
        wait_until(lambda: index_state(stack) == {}, 60, "the delete")
        data.write_ops(dynamodb, stack.table_name, [("put", data.make_item(again))])
        wait_until(lambda: index_state(stack) == {"synthetic:7": again_version}, 60, "the re-created post")
    _replay(stack, tmp_path)
    assert index_state(stack) == table_state(stack) == {"synthetic:7": again_version}


def test_stream_shards_that_close_are_read_to_their_end_before_their_children(indexer_stack, tmp_path):
    """The KCL's shard lineage through the adapter: the table's stream closes its shard every 700
    records (the emulator's tag; AWS closes stream shards on its own), so 3,000 writes span five
    shards; every closed shard ends with a SHARD_END checkpoint and OpenSearch equals the table."""
    from pulse_devstack.aws_emulator import STREAM_SHARD_RECORDS_TAG

    stack = indexer_stack
    dynamodb = client("dynamodb", stack)
    arn = dynamodb.describe_table(TableName=stack.table_name)["Table"]["TableArn"]
    dynamodb.tag_resource(ResourceArn=arn, Tags=[{"Key": STREAM_SHARD_RECORDS_TAG, "Value": "700"}])
    ops = data.workload(3000, seed=15)
    app = settings_for(stack).app_name
    with running_worker(tmp_path) as run:
        data.write_ops(dynamodb, stack.table_name, ops[:1500])
        data.write_ops(dynamodb, stack.table_name, ops[1500:])
        expected = expected_state(ops)
        wait_until(converged(stack, expected), 180, "OpenSearch to equal the table", interval_s=1)
        streams = client("dynamodbstreams", stack)
        stream = dynamodb.describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]
        closed = [s["ShardId"] for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
        assert len(shards) >= 5 and len(closed) == len(shards) - 1

        def parents_ended() -> bool:
            checkpoints = {lease["leaseKey"]: lease.get("checkpoint") for lease in leases(stack, app)}
            # a finished parent's lease is SHARD_END, or already cleaned up once its children started
            return all(checkpoints.get(shard, "SHARD_END") == "SHARD_END" for shard in closed)

        wait_until(parents_ended, 60, "every closed shard checkpointed at SHARD_END")
        assert run.running, run.log_tail()
