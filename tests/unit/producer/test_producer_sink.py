"""The batched Kinesis sink: limits, partial failures, throttling backpressure, dead letters."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from producer_fakes import FakeDeadLetter, FakeKinesis

from pulse_common.contracts.envelope import RecordEnvelope
from pulse_common.schema import Author, Post
from pulse_producer.events import Delete, Item, Upsert
from pulse_producer.sink import MAX_RECORD_BYTES, KinesisSink, SinkError, partition_key


def _post(n: int, text: str = "the Nova 12 camera is great", post_id: str | None = None) -> Post:
    return Post(
        id=post_id or f"synthetic:{n}",
        network="synthetic",
        native_id=str(n),
        created_at=datetime(2026, 11, 20, tzinfo=UTC),
        text=text,
        author=Author(id="synthetic:u1"),
        version=1_795_000_000_000 + n,
    )


def _items(count: int, **kw) -> list[Item]:
    return [Item(event=Upsert(_post(n, **kw)), source=f"test:{n}") for n in range(count)]


def _sink(kinesis, dead_letter=None, sleeps=None, **kw) -> KinesisSink:
    return KinesisSink(
        kinesis,
        "stream",
        dead_letter=dead_letter if dead_letter is not None else FakeDeadLetter(),
        sleep=(sleeps.append if sleeps is not None else (lambda _s: None)),
        rng=random.Random(1),
        **kw,
    )


def test_batches_never_exceed_500_records():
    kinesis = FakeKinesis()
    sink = _sink(kinesis)
    for item in _items(1234):
        sink.add(item)
    sink.flush()
    assert kinesis.calls == [500, 500, 234] and sink.put == 1234


def test_batches_never_exceed_five_mebibytes():
    kinesis = FakeKinesis()
    sink = _sink(kinesis)
    for item in _items(250, text="x" * 24_000):  # ~6 MB in all
        sink.add(item)
    sink.flush()
    assert sum(kinesis.calls) == 250 and len(kinesis.calls) == 2
    assert max(kinesis.call_bytes) <= 5 * 1024 * 1024


def test_only_the_failed_entries_of_a_partial_failure_are_resent_until_all_are_in():
    rng = random.Random(7)
    kinesis = FakeKinesis(
        fail_entry=lambda _c, _i, _r: "ProvisionedThroughputExceededException" if rng.random() < 0.3 else None
    )
    sleeps: list[float] = []
    sink = _sink(kinesis, sleeps=sleeps)
    for item in _items(500):
        sink.add(item)
    sink.flush()
    ids = [RecordEnvelope.model_validate_json(r["Data"]).id for r in kinesis.records]
    assert sorted(ids) == sorted(f"synthetic:{n}" for n in range(500)) and len(ids) == 500  # no duplicates
    assert (
        kinesis.calls[0] == 500
        and kinesis.calls[1] < 200
        and kinesis.calls == sorted(kinesis.calls, reverse=True)
    )
    assert len(sleeps) == len(kinesis.calls) - 1 and sink.failed == 0


def test_throttling_blocks_with_capped_backoff_and_never_drops():
    kinesis = FakeKinesis(
        fail_entry=lambda call, _i, _r: "ProvisionedThroughputExceededException" if call < 12 else None
    )
    sleeps: list[float] = []
    sink = _sink(kinesis, sleeps=sleeps, retry_base_s=0.01, retry_cap_s=0.5, max_entry_attempts=3)
    for item in _items(10):
        sink.add(item)
    sink.flush()
    assert sink.put == 10 and sink.dead_lettered == 0 and len(kinesis.calls) == 13
    assert len(sleeps) == 12 and max(sleeps) <= 0.5


def test_entries_failing_with_another_code_are_dead_lettered_after_max_attempts():
    kinesis = FakeKinesis(fail_entry=lambda _c, i, _r: "KMSAccessDeniedException" if i == 0 else None)
    dead = FakeDeadLetter()
    sink = _sink(kinesis, dead_letter=dead, max_entry_attempts=3)
    for item in _items(3):
        sink.add(item)
    sink.flush()
    assert sink.put == 2 and sink.dead_lettered == 1 and dead.letters[0]["reason"] == "put_rejected"


def test_a_record_over_one_mebibyte_goes_to_the_dead_letter_queue_with_a_reason():
    kinesis = FakeKinesis()
    dead = FakeDeadLetter()
    sink = _sink(kinesis, dead_letter=dead)
    huge = _post(1).model_copy(update={"hashtags": ["h" * 1000] * 1100})
    sink.add(Item(event=Upsert(huge), source="test:huge"))
    sink.add(_items(1)[0])
    sink.flush()
    assert sink.dead_lettered == 1 and sink.put == 1
    (letter,) = dead.letters
    assert letter["reason"] == "record_too_large" and letter["source"] == "test:huge"
    assert len(letter["raw"]) > MAX_RECORD_BYTES


def test_an_event_the_schema_refuses_is_dead_lettered_and_the_next_post_still_goes_out():
    kinesis = FakeKinesis()
    dead = FakeDeadLetter()
    sink = _sink(kinesis, dead_letter=dead)
    # A Jetstream delete whose DID makes the id longer than the schema's 512 characters.
    sink.add(Item(event=Delete(id="bluesky:did:plc:" + "x" * 600 + "/rkey", version=9), source="test:long"))
    sink.add(_items(1)[0])
    sink.flush()
    assert (sink.dead_lettered, sink.put, sink.failed) == (1, 1, 0)
    (letter,) = dead.letters
    assert letter["reason"] == "invalid_event" and letter["source"] == "test:long"
    assert "512" in letter["error"] or "at most" in letter["error"]


def test_deletes_travel_as_delete_envelopes_keyed_by_the_post_id():
    kinesis = FakeKinesis()
    sink = _sink(kinesis)
    sink.add(Item(event=Delete(id="x:42", version=7, reason="compliance"), source="t"))
    sink.flush()
    (record,) = kinesis.records
    envelope = RecordEnvelope.model_validate_json(record["Data"])
    assert (record["PartitionKey"], envelope.op, envelope.id, envelope.version, envelope.reason) == (
        "x:42",
        "delete",
        "x:42",
        7,
        "compliance",
    )


def test_an_id_longer_than_kinesis_allows_gets_a_stable_hashed_partition_key():
    long_id = "bluesky:did:web:" + "a" * 300 + "/rkey"
    assert partition_key(long_id) == partition_key(long_id) and len(partition_key(long_id)) <= 256
    assert partition_key("x:1") == "x:1"


def test_retryable_call_errors_are_retried_and_a_missing_stream_is_fatal():
    kinesis = FakeKinesis()
    kinesis.call_errors = [EndpointConnectionError(endpoint_url="http://x")]
    sink = _sink(kinesis)
    sink.add(_items(1)[0])
    sink.flush()
    assert sink.put == 1 and len(kinesis.calls) == 2
    missing = ClientError(
        {
            "Error": {"Code": "ResourceNotFoundException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        "PutRecords",
    )
    kinesis.call_errors = [missing]
    sink.add(_items(1)[0])
    with pytest.raises(SinkError, match="does not exist"):
        sink.flush()
    assert sink.failed == 1


def test_acknowledgements_run_in_order_after_the_whole_batch_is_in():
    order: list[int] = []
    kinesis = FakeKinesis(fail_entry=lambda call, i, _r: "InternalFailure" if call == 0 and i == 0 else None)
    sink = _sink(kinesis)
    for n in range(3):
        sink.add(Item(event=Upsert(_post(n)), source="t", on_sent=lambda n=n: order.append(n)))
    sink.flush()
    assert order == [0, 1, 2]
