"""The shard consumer against a scripted stream: resume after the checkpoint, re-acquire expired
iterators, restart from TRIM_HORIZON on trimmed data, and finish a closed shard with SHARD_END.
Plus shard discovery through DescribeStream pages."""

import json

from botocore.exceptions import ClientError
from test_indexer_consumer import FakeDlq, FakeLeases, FakeWriter

from pulse_indexer import metrics as m
from pulse_indexer.consumer import ShardConsumer
from pulse_indexer.leases import SHARD_END, Lease
from pulse_indexer.worker import list_shards


def _error(code):
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetRecords")


def _record(seq):
    doc = {"id": f"x:{seq}", "created_at": "2026-11-01T00:00:00Z", "version": seq}
    image = {
        "id": {"S": f"x:{seq}"},
        "version": {"N": str(seq)},
        "doc": {"S": json.dumps(doc)},
        "created_at": {"S": "2026-11-01T00:00:00Z"},
    }
    return {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(seq), "Keys": {"id": image["id"]}, "NewImage": image},
    }


class ScriptedStream:
    """Records with sequence numbers 1..n in one shard that is closed after the last one."""

    def __init__(self, n, *, page=2, fail=(), trim_before=0):
        self.records = [_record(i) for i in range(1, n + 1)]
        self.page = page
        self.fail = list(fail)  # error codes raised by the next get_records calls
        self.trim_before = trim_before  # sequence numbers below this are trimmed
        self.iterator_requests = []

    def get_shard_iterator(self, StreamArn, ShardId, ShardIteratorType, SequenceNumber=None):  # noqa: N803
        self.iterator_requests.append((ShardIteratorType, SequenceNumber))
        if ShardIteratorType == "TRIM_HORIZON":
            position = self.trim_before
        elif ShardIteratorType == "AFTER_SEQUENCE_NUMBER":
            position = int(SequenceNumber)
            if position < self.trim_before:
                raise _error("TrimmedDataAccessException")
        else:
            position = len(self.records)
        return {"ShardIterator": f"it-{position}"}

    def get_records(self, ShardIterator, Limit):  # noqa: N803
        if self.fail:
            raise _error(self.fail.pop(0))
        position = int(ShardIterator.split("-")[1])
        batch = self.records[position : position + self.page]
        end = position + len(batch)
        return {"Records": batch, "NextShardIterator": None if end >= len(self.records) else f"it-{end}"}


def run_consumer(stream, checkpoint="TRIM_HORIZON"):
    leases, writer = FakeLeases(), FakeWriter()
    lease = Lease(lease_key="l/s", stream_arn="arn", shard_id="s", checkpoint=checkpoint)
    consumer = ShardConsumer(
        lease,
        streams=stream,
        leases=leases,
        writer=writer,
        dlq=FakeDlq(),
        alias="p",
        source="t",
        idle_poll_min_s=0,
        idle_poll_max_s=0,
    )
    consumer.run()  # in this thread: returns when the shard ends
    assert consumer.error is None
    return consumer, leases, writer


def test_a_closed_shard_is_read_to_the_end_and_checkpointed_as_shard_end():
    consumer, leases, writer = run_consumer(ScriptedStream(5))
    assert [a.id for batch in writer.batches for a in batch] == [f"x:{i}" for i in range(1, 6)]
    assert [seq for _key, seq in leases.checkpoints] == ["2", "4", "5", SHARD_END]
    assert consumer.shard_ended


def test_a_restarted_consumer_resumes_after_its_checkpoint():
    stream = ScriptedStream(6)
    _consumer, _leases, writer = run_consumer(stream, checkpoint="3")
    assert stream.iterator_requests[0] == ("AFTER_SEQUENCE_NUMBER", "3")
    assert [a.id for batch in writer.batches for a in batch] == ["x:4", "x:5", "x:6"]


def test_an_expired_iterator_is_reacquired_after_the_last_checkpoint():
    before = m.ITERATOR_EXPIRED._value.get()
    stream = ScriptedStream(4, fail=["ExpiredIteratorException"])
    _consumer, _leases, writer = run_consumer(stream, checkpoint="2")
    assert stream.iterator_requests == [("AFTER_SEQUENCE_NUMBER", "2"), ("AFTER_SEQUENCE_NUMBER", "2")]
    assert [a.id for batch in writer.batches for a in batch] == ["x:3", "x:4"]
    assert m.ITERATOR_EXPIRED._value.get() == before + 1


def test_a_checkpoint_older_than_the_retention_resumes_from_trim_horizon_and_is_counted():
    before = m.TRIMMED._value.get()
    stream = ScriptedStream(6, trim_before=3)
    _consumer, _leases, writer = run_consumer(stream, checkpoint="1")
    assert stream.iterator_requests == [("AFTER_SEQUENCE_NUMBER", "1"), ("TRIM_HORIZON", None)]
    assert [a.id for batch in writer.batches for a in batch] == ["x:4", "x:5", "x:6"]
    assert m.TRIMMED._value.get() == before + 1


def test_shards_are_listed_across_describe_stream_pages():
    class Paged:
        def __init__(self):
            self.calls = []

        def describe_stream(self, **kwargs):
            self.calls.append(kwargs.get("ExclusiveStartShardId"))
            if "ExclusiveStartShardId" not in kwargs:
                return {
                    "StreamDescription": {
                        "Shards": [{"ShardId": "a"}, {"ShardId": "b"}],
                        "LastEvaluatedShardId": "b",
                    }
                }
            return {"StreamDescription": {"Shards": [{"ShardId": "c", "ParentShardId": "a"}]}}

    paged = Paged()
    assert [s["ShardId"] for s in list_shards(paged, "arn")] == ["a", "b", "c"]
    assert paged.calls == [None, "b"]
