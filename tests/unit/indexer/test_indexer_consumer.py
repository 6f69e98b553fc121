"""The shard consumer's batch step, with fakes: the last write of an id wins, TTL expiries are
skipped, bad records and per-document failures are dead-lettered, then the batch is checkpointed."""

import json

import pytest

from pulse_indexer.bulk import BulkOutcome, Failure
from pulse_indexer.consumer import ShardConsumer
from pulse_indexer.leases import Lease, LeaseLost


class FakeWriter:
    def __init__(self, fail_ids=()):
        self.batches = []
        self.fail_ids = set(fail_ids)

    def write(self, actions, keep_going=None):
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


class FakeLeases:
    def __init__(self, lost=False):
        self.checkpoints = []
        self.lost = lost

    def checkpoint(self, key, seq):
        if self.lost:
            raise LeaseLost(key)
        self.checkpoints.append((key, seq))


class FakeDlq:
    def __init__(self):
        self.sent = []

    def send(self, messages):
        self.sent.extend(messages)


def item(i, version, created="2026-11-01T00:00:00Z"):
    doc = {"id": f"x:{i}", "created_at": created, "version": version, "text": "t"}
    return {
        "id": {"S": f"x:{i}"},
        "version": {"N": str(version)},
        "created_at": {"S": created},
        "doc": {"S": json.dumps(doc)},
    }


def rec(seq, event, new=None, old=None, ttl=False):
    r = {"eventName": event, "dynamodb": {"SequenceNumber": str(seq), "Keys": {"id": (new or old)["id"]}}}
    if new:
        r["dynamodb"]["NewImage"] = new
    if old:
        r["dynamodb"]["OldImage"] = old
    if ttl:
        r["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return r


def consumer(writer=None, leases=None, dlq=None):
    lease = Lease(lease_key="label/shard-1", stream_arn="arn", shard_id="shard-1")
    return ShardConsumer(
        lease,
        streams=None,
        leases=leases or FakeLeases(),
        writer=writer or FakeWriter(),
        dlq=dlq or FakeDlq(),
        alias="p",
        source="dynamodb-stream:t",
    )


def test_a_batch_sends_the_last_write_of_each_id_and_checkpoints_its_last_record():
    writer, leases = FakeWriter(), FakeLeases()
    c = consumer(writer, leases)
    c.process(
        [
            rec(1, "INSERT", new=item(1, 10)),
            rec(2, "MODIFY", new=item(1, 11), old=item(1, 10)),
            rec(3, "INSERT", new=item(2, 5)),
            rec(4, "REMOVE", old=item(2, 5)),
            rec(5, "REMOVE", old=item(1, 11), ttl=True),
        ]
    )
    sent = {(a.id, a.op, a.version) for a in writer.batches[0]}
    assert sent == {("x:1", "index", 11), ("x:2", "delete", 5)}
    assert leases.checkpoints == [("label/shard-1", "5")]
    assert c.last_sequence == "5"


def test_bad_records_and_rejected_documents_are_dead_lettered_and_the_batch_still_checkpoints():
    writer, leases, dlq = FakeWriter(fail_ids={"x:3"}), FakeLeases(), FakeDlq()
    broken = item(9, 1)
    broken["doc"] = {"S": "{oops"}
    consumer(writer, leases, dlq).process(
        [
            rec(7, "INSERT", new=broken),
            rec(8, "INSERT", new=item(3, 1)),
            rec(9, "INSERT", new=item(4, 1)),
        ]
    )
    assert sorted((m["reason"], m["sequence_number"]) for m in dlq.sent) == [
        ("invalid_json", "7"),
        ("mapping_conflict", "8"),
    ]
    assert all(m["shard_id"] == "shard-1" and m["source"] == "dynamodb-stream:t" for m in dlq.sent)
    assert leases.checkpoints == [("label/shard-1", "9")]


def test_a_consumer_whose_lease_was_taken_cannot_checkpoint():
    with pytest.raises(LeaseLost):
        consumer(leases=FakeLeases(lost=True)).process([rec(1, "INSERT", new=item(1, 1))])


def tombstone(i, version):
    return {"id": {"S": f"x:{i}"}, "version": {"N": str(version)}, "deleted": {"BOOL": True}}


def test_tombstones_delete_what_was_indexed_and_are_skipped_and_counted_when_nothing_was():
    from pulse_indexer import metrics as m

    writer, leases = FakeWriter(), FakeLeases()
    ttl_before, skipped_before = m.TTL_SKIPPED._value.get(), m.TOMBSTONES_SKIPPED._value.get()
    consumer(writer, leases).process(
        [
            rec(1, "MODIFY", new=tombstone(1, 20), old=item(1, 11)),  # a live post deleted
            rec(2, "INSERT", new=tombstone(2, 7)),  # deleted before it was ever stored
            rec(3, "MODIFY", new=tombstone(3, 9), old=tombstone(3, 8)),  # deleted again
            rec(4, "REMOVE", old=tombstone(3, 9), ttl=True),  # the tombstone expired
        ]
    )
    assert [(a.id, a.op, a.version, a.version_type) for a in writer.batches[0]] == [
        ("x:1", "delete", 20, "external_gte")
    ]
    assert m.TOMBSTONES_SKIPPED._value.get() - skipped_before == 2
    assert m.TTL_SKIPPED._value.get() - ttl_before == 1
    assert leases.checkpoints == [("label/shard-1", "4")]
