from __future__ import annotations

import base64
import json

import enricher_posts as posts
import pytest
from amazon_kclpy import messages
from amazon_kclpy.checkpoint_error import CheckpointError
from enricher_standin import StandInEnricher

from pulse_common.aws import client
from pulse_common.contracts.dead_letter import DeadLetterWriter
from pulse_common.kcl_batch import KclBatchProcessor
from pulse_enricher.processor import StoreSink, build_processor
from pulse_enricher.settings import EnricherSettings
from pulse_enricher.store import PostStore


class FakeCheckpointer:
    def __init__(self, errors: list[str] | None = None, log: list | None = None) -> None:
        self.errors = list(errors or [])
        self.calls: list[tuple] = []
        self.log = log if log is not None else []

    def checkpoint(self, sequence_number=None, sub_sequence_number=None):
        self.calls.append((sequence_number, sub_sequence_number))
        self.log.append(("checkpoint", sequence_number))
        if self.errors:
            raise CheckpointError(self.errors.pop(0))


def record(seq: int, data: bytes, key: str = "k") -> messages.Record:
    return messages.Record({
        "sequenceNumber": str(seq), "subSequenceNumber": 0, "approximateArrivalTimestamp": 1_700_000_000_000,
        "partitionKey": key, "data": base64.b64encode(data).decode(),
    })


def deliver(processor: KclBatchProcessor, recs: list, checkpointer: FakeCheckpointer, behind: int = 0):
    message = messages.ProcessRecordsInput(
        {"records": recs, "millisBehindLatest": behind, "action": "processRecords"}
    )
    message.dispatch(checkpointer, processor)


def init(processor: KclBatchProcessor, shard: str = "shardId-000000000000") -> None:
    messages.InitializeInput({"action": "initialize", "shardId": shard, "sequenceNumber": "TRIM_HORIZON",
                              "subSequenceNumber": 0}).dispatch(None, processor)


@pytest.fixture
def make_processor(aws):
    def build(**kwargs):
        settings = EnricherSettings(retry_base_s=0.001, retry_cap_s=0.002)
        store = kwargs.pop("store", None) or PostStore(client("dynamodb", aws), aws.table_name,
                                                       sleep=lambda _s: None)
        dlq = DeadLetterWriter(client("sqs", aws), aws.dlq_name, sleep=lambda _s: None)
        processor = build_processor(settings, enricher=kwargs.pop("enricher", StandInEnricher()), store=store,
                                    dead_letters=dlq, sleep=lambda _s: None)
        init(processor)
        return processor
    return build


def table_ids(stack) -> set[str]:
    items = client("dynamodb", stack).scan(TableName=stack.table_name)["Items"]
    return {i["id"]["S"] for i in items}


def dead_letters(stack) -> list[dict]:
    sqs = client("sqs", stack)
    url = sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]
    bodies = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies += [json.loads(m["Body"]) for m in got]


def test_a_batch_with_poison_stores_the_good_posts_dead_letters_the_rest_and_checkpoints_its_end(
    aws, make_processor
):
    processor = make_processor()
    recs, seq = [], 0
    for i in range(20):
        seq += 1
        recs.append(record(seq, posts.encode(posts.upsert(i))))
        if i % 4 == 0:
            seq += 1
            recs.append(record(seq, posts.poison(i // 4)[1]))
    checkpointer = FakeCheckpointer()
    deliver(processor, recs, checkpointer)
    assert table_ids(aws) == {f"synthetic:{1_000_000 + i}" for i in range(20)}
    letters = dead_letters(aws)
    assert len(letters) == 5
    for letter in letters:
        assert letter["reason"] and letter["shard_id"] == "shardId-000000000000"
        assert letter["service"] == "enricher" and letter["source"] == "kinesis:unit-posts"
        assert base64.b64decode(letter["raw_b64"]) in {r.binary_data for r in recs}
        assert {"sequence_number", "error", "at"} <= set(letter)
    assert checkpointer.calls == [(str(seq), 0)]


def test_a_post_the_nlp_core_cannot_enrich_is_dead_lettered_and_the_batch_goes_on(aws, make_processor):
    processor = make_processor(enricher=StandInEnricher(fail_on="BOOM"))
    recs = [record(1, posts.encode(posts.upsert(1, text="BOOM"))), record(2, posts.encode(posts.upsert(2)))]
    checkpointer = FakeCheckpointer()
    deliver(processor, recs, checkpointer)
    assert table_ids(aws) == {"synthetic:1000002"}
    assert [letter["reason"] for letter in dead_letters(aws)] == ["enrich_failed"]
    assert checkpointer.calls == [("2", 0)]


class OutageStore:
    """A store whose DynamoDB is down for the first `down` calls (then delegates)."""

    def __init__(self, real: PostStore, log: list, down: int) -> None:
        self.real, self.log, self.down = real, log, down

    def apply(self, ops):
        self.log.append(("write", len(ops)))
        return self.real.apply(ops)


def test_the_checkpoint_never_passes_a_post_that_is_not_yet_written(aws, make_processor):
    from botocore.exceptions import EndpointConnectionError

    real_client = client("dynamodb", aws)
    failures = {"left": 5}

    class DownThenUp:
        def __getattr__(self, name):
            attr = getattr(real_client, name)
            if name in {"batch_get_item", "batch_write_item"}:
                def call(**kwargs):
                    if failures["left"] > 0:
                        failures["left"] -= 1
                        raise EndpointConnectionError(endpoint_url="http://dynamodb")
                    return attr(**kwargs)
                return call
            return attr

    log: list = []
    real_store = PostStore(DownThenUp(), aws.table_name, sleep=lambda _s: log.append(("sleep",)))
    store = OutageStore(real_store, log, 0)
    processor = make_processor(store=store)
    checkpointer = FakeCheckpointer(log=log)
    deliver(processor, [record(i, posts.encode(posts.upsert(i))) for i in range(1, 11)], checkpointer)
    assert failures["left"] == 0
    assert log.count(("sleep",)) == 5
    assert log[-1] == ("checkpoint", "10")  # only after the write went through
    assert len(table_ids(aws)) == 10


class BrokenStore:
    def apply(self, ops):
        raise TypeError("a bug")


def test_an_unexpected_failure_exits_the_processor_without_checkpointing(aws, make_processor):
    processor = make_processor(store=BrokenStore())
    processor.exit_on_failure = True
    checkpointer = FakeCheckpointer()
    with pytest.raises(SystemExit) as exited:
        deliver(processor, [record(1, posts.encode(posts.upsert(1)))], checkpointer)
    assert exited.value.code == 70 and checkpointer.calls == []


def test_a_processor_that_failed_never_checkpoints_again(aws, make_processor):
    processor = make_processor(store=BrokenStore())
    processor.exit_on_failure = False
    checkpointer = FakeCheckpointer()
    deliver(processor, [record(1, posts.encode(posts.upsert(1)))], checkpointer)
    processor.sink = StoreSink(PostStore(client("dynamodb", aws), aws.table_name))
    deliver(processor, [record(2, posts.encode(posts.upsert(2)))], checkpointer)
    assert checkpointer.calls == [] and processor.stopped and table_ids(aws) == set()


def test_a_throttled_checkpoint_is_retried(aws, make_processor):
    processor = make_processor()
    checkpointer = FakeCheckpointer(errors=["ThrottlingException", "ThrottlingException"])
    deliver(processor, [record(7, posts.encode(posts.upsert(1)))], checkpointer)
    assert checkpointer.calls == [("7", 0)] * 3 and not processor.stopped


@pytest.mark.parametrize("error", ["ShutdownException", "InvalidStateException"])
def test_a_shutdown_or_invalid_state_checkpoint_error_stops_the_processor(aws, make_processor, error):
    processor = make_processor()
    checkpointer = FakeCheckpointer(errors=[error])
    deliver(processor, [record(7, posts.encode(posts.upsert(1)))], checkpointer)
    assert checkpointer.calls == [("7", 0)] and processor.stopped
    deliver(processor, [record(8, posts.encode(posts.upsert(2)))], checkpointer)
    assert checkpointer.calls == [("7", 0)]


def test_shard_end_checkpoints_so_children_can_start(make_processor):
    processor = make_processor()
    checkpointer = FakeCheckpointer()
    messages.ShardEndedInput({"action": "shardEnded"}).dispatch(checkpointer, processor)
    assert checkpointer.calls == [(None, None)]


def test_shutdown_requested_checkpoints_the_last_durable_record(make_processor):
    processor = make_processor()
    checkpointer = FakeCheckpointer()
    deliver(processor, [record(3, posts.encode(posts.upsert(1)))], checkpointer)
    messages.ShutdownRequestedInput({"action": "shutdownRequested"}).dispatch(checkpointer, processor)
    assert checkpointer.calls == [("3", 0), ("3", 0)]


def test_after_the_lease_is_lost_nothing_is_written_or_checkpointed(aws, make_processor):
    processor = make_processor()
    messages.LeaseLostInput({"action": "leaseLost"}).dispatch(None, processor)
    checkpointer = FakeCheckpointer()
    deliver(processor, [record(3, posts.encode(posts.upsert(1)))], checkpointer)
    assert checkpointer.calls == [] and table_ids(aws) == set()


def test_an_empty_poll_only_updates_how_far_behind_the_shard_is(make_processor):
    from prometheus_client import REGISTRY

    processor = make_processor()
    checkpointer = FakeCheckpointer()
    deliver(processor, [], checkpointer, behind=1234)
    assert checkpointer.calls == []
    value = REGISTRY.get_sample_value(
        "pulse_enricher_millis_behind_latest", {"shard": "shardId-000000000000"}
    )
    assert value == 1234


def test_redelivered_records_are_counted_and_not_written_again(aws, make_processor):
    from prometheus_client import REGISTRY

    before = REGISTRY.get_sample_value("pulse_enricher_redelivered_total") or 0
    processor = make_processor()
    recs = [record(i, posts.encode(posts.upsert(i))) for i in range(1, 6)]
    deliver(processor, recs, FakeCheckpointer())
    deliver(processor, recs, FakeCheckpointer())
    assert REGISTRY.get_sample_value("pulse_enricher_redelivered_total") - before == 5
