"""The per-shard KCL processor, with fakes for OpenSearch, the dead-letter queue and the KCL's
checkpointer: decode the adapter's stream-record JSON, last write of an id wins, TTL expiries and
empty tombstones skipped, bad records and rejected documents dead-lettered, then the batch's last
sequence number checkpointed (and SHARD_END when the shard ends)."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from amazon_kclpy import kcl

from pulse_common.kcl_batch import BatchContext, Planned, SourceRecord
from pulse_indexer import metrics as m
from pulse_indexer.bulk import BulkOutcome, Failure
from pulse_indexer.processor import BulkSink, IndexRecord, build_processor
from pulse_indexer.settings import IndexerSettings


class FakeWriter:
    def __init__(self, fail_ids=(), error=None):
        self.batches = []
        self.fail_ids = set(fail_ids)
        self.error = error

    def write(self, actions, keep_going=None):
        if self.error:
            raise self.error
        self.batches.append(list(actions))
        outcome = BulkOutcome()
        for action in actions:
            if action.id in self.fail_ids:
                outcome.failed.append(
                    Failure(action, "mapping_conflict", "status 400: mapper_parsing_exception")
                )
            elif action.op == "delete":
                outcome.deleted += 1
            else:
                outcome.indexed += 1
        return outcome


class FakeDlq:
    def __init__(self):
        self.sent = []

    def send(self, messages):
        self.sent.extend(messages)


class FakeCheckpointer:
    def __init__(self, errors=()):
        self.calls = []
        self.errors = list(errors)

    def checkpoint(self, sequence=None, sub=None):
        if self.errors:
            raise kcl.CheckpointError(self.errors.pop(0))
        self.calls.append(sequence)


def item(i, version, created="2026-11-01T00:00:00Z"):
    doc = {"id": f"x:{i}", "created_at": created, "version": version, "text": "t"}
    return {
        "id": {"S": f"x:{i}"},
        "version": {"N": str(version)},
        "created_at": {"S": created},
        "doc": {"S": json.dumps(doc)},
    }


def tombstone(i, version):
    return {"id": {"S": f"x:{i}"}, "version": {"N": str(version)}, "deleted": {"BOOL": True}}


def rec(seq, event, new=None, old=None, ttl=False, created_ms=1_790_000_000_000):
    """A record as the KCL hands it over: data = the adapter's JSON of the stream record
    (absent images as {}, ApproximateCreationDateTime in epoch milliseconds)."""
    body = {
        "eventID": f"e{seq}",
        "eventName": event,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": created_ms,
            "Keys": {"id": (new or old)["id"]},
            "NewImage": new or {},
            "OldImage": old or {},
            "SequenceNumber": str(seq),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    if ttl:
        body["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return SimpleNamespace(
        sequence_number=str(seq), sub_sequence_number=0, binary_data=json.dumps(body).encode()
    )


def processor(writer=None, dlq=None, clock=lambda: 1_790_000_010.0):
    # Every batch checkpointed (the interval is tested in tests/unit/common/test_kcl_batch_checkpoints.py).
    settings = IndexerSettings(
        stack={"table_name": "t", "opensearch_index_alias": "p"}, checkpoint_interval_ms=0
    )
    p = build_processor(
        settings,
        writer=writer or FakeWriter(),
        dead_letters=dlq or FakeDlq(),
        sleep=lambda _s: None,
        clock=clock,
        exit_on_failure=False,
    )
    p.initialize(SimpleNamespace(shard_id="shardId-1", sequence_number="TRIM_HORIZON"))
    return p


def batch(p, records, checkpointer=None):
    checkpointer = checkpointer or FakeCheckpointer()
    p.process_records(SimpleNamespace(records=records, checkpointer=checkpointer, millis_behind_latest=0))
    return checkpointer


def test_a_batch_sends_the_last_write_of_each_id_and_checkpoints_its_last_record():
    writer = FakeWriter()
    p = processor(writer)
    checkpointer = batch(
        p,
        [
            rec(1, "INSERT", new=item(1, 10)),
            rec(2, "MODIFY", new=item(1, 11), old=item(1, 10)),
            rec(3, "INSERT", new=item(2, 5)),
            rec(4, "REMOVE", old=item(2, 5)),
            rec(5, "REMOVE", old=item(1, 11), ttl=True),
        ],
    )
    assert {(a.id, a.op, a.version) for a in writer.batches[0]} == {
        ("x:1", "index", 11),
        ("x:2", "delete", 5),
    }
    assert checkpointer.calls == ["5"]
    assert p.last_checkpointed == "5"
    assert m.SHARD_LAG.labels("shardId-1")._value.get() == pytest.approx(10.0)


def test_bad_records_and_rejected_documents_are_dead_lettered_and_the_batch_still_checkpoints():
    writer, dlq = FakeWriter(fail_ids={"x:3"}), FakeDlq()
    broken = item(9, 1)
    broken["doc"] = {"S": "{oops"}
    not_json = SimpleNamespace(sequence_number="10", sub_sequence_number=0, binary_data=b"\xff{not json")
    checkpointer = batch(
        processor(writer, dlq),
        [
            rec(7, "INSERT", new=broken),
            rec(8, "INSERT", new=item(3, 1)),
            rec(9, "INSERT", new=item(4, 1)),
            not_json,
        ],
    )
    assert sorted((letter.reason, letter.sequence_number) for letter in dlq.sent) == [
        ("invalid_json", "10"),
        ("invalid_json", "7"),
        ("mapping_conflict", "8"),
    ]
    assert all(
        (letter.service, letter.shard_id, letter.source) == ("indexer", "shardId-1", "dynamodb-stream:t")
        for letter in dlq.sent
    )
    conflict = next(letter for letter in dlq.sent if letter.reason == "mapping_conflict")
    assert json.loads(conflict.raw)["dynamodb"]["NewImage"]["id"] == {"S": "x:3"}
    assert conflict.post_id == "x:3"
    assert checkpointer.calls == ["10"]


def test_tombstones_delete_what_was_indexed_and_are_skipped_and_counted_when_nothing_was():
    writer = FakeWriter()
    ttl_before, skipped_before = m.TTL_SKIPPED._value.get(), m.TOMBSTONES_SKIPPED._value.get()
    checkpointer = batch(
        processor(writer),
        [
            rec(1, "MODIFY", new=tombstone(1, 20), old=item(1, 11)),  # a live post deleted
            rec(2, "INSERT", new=tombstone(2, 7)),  # deleted before it was ever stored
            rec(3, "MODIFY", new=tombstone(3, 9), old=tombstone(3, 8)),  # deleted again
            rec(4, "REMOVE", old=tombstone(3, 9), ttl=True),  # the tombstone expired
        ],
    )
    assert [(a.id, a.op, a.version, a.version_type) for a in writer.batches[0]] == [
        ("x:1", "delete", 20, "external_gte")
    ]
    assert m.TOMBSTONES_SKIPPED._value.get() - skipped_before == 2
    assert m.TTL_SKIPPED._value.get() - ttl_before == 1
    assert checkpointer.calls == ["4"]


def test_a_batch_that_cannot_be_written_is_never_checkpointed_and_stops_the_processor():
    p = processor(FakeWriter(error=RuntimeError("credentials rejected")))
    checkpointer = batch(p, [rec(1, "INSERT", new=item(1, 1))])
    assert checkpointer.calls == [] and p.stopped
    assert batch(p, [rec(2, "INSERT", new=item(2, 1))]).calls == []  # redelivered after the restart


def test_a_throttled_checkpoint_is_retried_and_a_lost_shard_stops_the_processor():
    p = processor()
    assert batch(p, [rec(1, "INSERT", new=item(1, 1))], FakeCheckpointer(["ThrottlingException"])).calls == [
        "1"
    ]
    batch(p, [rec(2, "INSERT", new=item(2, 1))], FakeCheckpointer(["ShutdownException"]))
    assert p.stopped and p.last_checkpointed == "1"


def test_the_end_of_a_shard_is_checkpointed_so_its_children_can_start():
    p = processor()
    batch(p, [rec(1, "INSERT", new=item(1, 1))])
    checkpointer = FakeCheckpointer()
    p.shard_ended(SimpleNamespace(checkpointer=checkpointer))
    assert checkpointer.calls == [None] and p.last_checkpointed == "SHARD_END"


def test_shutdown_checkpoints_the_last_durable_record_and_an_empty_batch_reports_no_lag():
    p = processor()
    batch(p, [rec(1, "INSERT", new=item(1, 1)), rec(2, "INSERT", new=item(2, 1))])
    batch(p, [])
    assert m.SHARD_LAG.labels("shardId-1")._value.get() == 0
    checkpointer = FakeCheckpointer()
    p.shutdown_requested(SimpleNamespace(checkpointer=checkpointer))
    assert checkpointer.calls == ["2"]


def test_the_transform_is_pure_per_record_and_the_sink_keeps_each_ids_last_action_in_stream_order():
    transform = IndexRecord("p")
    context = BatchContext("s", datetime.now(UTC))
    records = [
        SourceRecord(r.sequence_number, 0, r.binary_data)
        for r in (
            rec(1, "INSERT", new=item(1, 1)),
            rec(2, "INSERT", new=item(2, 1)),
            rec(3, "MODIFY", new=item(1, 2)),
        )
    ]
    planned = [Planned(r, transform(r, context)) for r in records]
    assert transform.last_created_ms == 1_790_000_000_000
    writer = FakeWriter()
    result = BulkSink(writer).write(planned)
    assert [(a.id, a.version, a.sequence_number) for a in writer.batches[0]] == [
        ("x:2", 1, "2"),
        ("x:1", 2, "3"),
    ]
    assert result.refused == [] and result.counts["indexed"] == 2
