"""Issue 16 through every store: real payloads (and compliance events in X's documented shapes)
go through the producer's parser, the enricher's processor (DynamoDB) and the indexer's processor
(OpenSearch), on the real local stack; then what the dashboard can see is counted the way every
dashboard search counts (`visibility.visible_only`).

The compliance events are X's documentation examples with their example ids replaced by ids of
posts stored here (named synthetic below): the documented ids belong to no post in these files.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from real_payloads import cassette_bodies, document, lines
from stream_support import adapter_json

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "enricher"))

from enricher_standin import StandInEnricher

from pulse_common.aws import client
from pulse_common.contracts.items import from_item, is_tombstone
from pulse_common.contracts.visibility import visible_only
from pulse_common.opensearch import opensearch_client
from pulse_producer.events import Refused, record_bytes
from pulse_producer.parsers import parse_line

pytestmark = pytest.mark.integration

SHARD = "shardId-000000000000"


def _deliver(processor, payloads: list[bytes], first_seq: int) -> int:
    records = [SimpleNamespace(sequence_number=str(first_seq + i), sub_sequence_number=0, binary_data=data)
               for i, data in enumerate(payloads)]
    processor.process_records(SimpleNamespace(records=records, checkpointer=SimpleNamespace(
        checkpoint=lambda *_a: None), millis_behind_latest=0))
    return first_seq + len(payloads)



class Pipeline:
    """The enricher's and the indexer's processors, fed by hand: parsed events -> table -> index."""

    def __init__(self, stack) -> None:
        from pulse_enricher.processor import build_processor as enricher
        from pulse_enricher.settings import EnricherSettings
        from pulse_indexer.processor import build_processor as indexer
        from pulse_indexer.settings import IndexerSettings

        self.stack = stack
        self.enricher = enricher(EnricherSettings(), enricher=StandInEnricher(), exit_on_failure=False)
        self.indexer = indexer(IndexerSettings(retry_base_s=0.01, retry_cap_s=0.05), exit_on_failure=False)
        for processor in (self.enricher, self.indexer):
            processor.initialize(SimpleNamespace(shard_id=SHARD, sequence_number="TRIM_HORIZON"))
        self.streams = client("dynamodbstreams", stack)
        arn = client("dynamodb", stack).describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.kinesis_seq = 1
        self.stream_seq = 1
        self.search = opensearch_client(stack)

    def send(self, events: list) -> None:
        forwarded = [e for e in events if not isinstance(e, Refused)]
        self.kinesis_seq = _deliver(self.enricher, [record_bytes(e) for e in forwarded], self.kinesis_seq)
        records = []
        while True:
            page = self.streams.get_records(ShardIterator=self.iterator, Limit=1000)
            self.iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
            records += page["Records"]
        as_json = []
        for record in records:
            ddb = dict(record["dynamodb"])
            moment = ddb.get("ApproximateCreationDateTime")
            if isinstance(moment, datetime):
                ddb["ApproximateCreationDateTime"] = int(moment.timestamp() * 1000)
            as_json.append(adapter_json({**record, "dynamodb": ddb}))
        self.stream_seq = _deliver(self.indexer, as_json, self.stream_seq)
        self.search.indices.refresh(index=f"{self.stack.opensearch_index_alias}-*")

    def visible_ids(self) -> set[str]:
        body = visible_only({"query": {"match_all": {}}, "size": 1000, "_source": False})
        hits = self.search.search(index=self.stack.opensearch_index_alias, body=body)["hits"]["hits"]
        return {hit["_id"] for hit in hits}

    def indexed(self, post_id: str) -> dict | None:
        body = {"query": {"ids": {"values": [post_id]}}, "size": 1}
        hits = self.search.search(index=self.stack.opensearch_index_alias, body=body)["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    def dead_letter_reasons(self) -> list[str]:
        sqs = client("sqs", self.stack)
        url = sqs.get_queue_url(QueueName=self.stack.dlq_name)["QueueUrl"]
        reasons = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60,
                                              MessageAttributeNames=["All"]).get("Messages", []):
            reasons += [json.loads(m["Body"]).get("reason", "?") for m in messages]
        return reasons

    def item(self, post_id: str) -> dict | None:
        return client("dynamodb", self.stack).get_item(
            TableName=self.stack.table_name, Key={"id": {"S": post_id}}, ConsistentRead=True).get("Item")


def _parse(name: str) -> list:
    return [e for line in lines(name) for e in parse_line(line)]


def _compliance(name: str, post_id: str, event_at: str | None = None) -> list:
    """An X documentation example, its example tweet id replaced by a stored post's (synthetic),
    and its event time when given (X's drop and undrop examples share one)."""
    doc = json.loads(document(f"x_compliance/v2_stream/{name}.json"))
    (body,) = doc["data"].values()
    body["tweet"]["id"] = post_id.removeprefix("x:")
    if event_at:
        body["event_at"] = event_at
    return parse_line(json.dumps(doc))


def test_hidden_deleted_and_edited_posts_leave_every_view_and_undo_restores_what_is_stored(isolated_stack):
    pipeline = Pipeline(isolated_stack)
    (page,) = cassette_bodies("x_v2/tweepy/test_client_search_recent_tweets.yaml")
    search_page = parse_line(page)
    search_ids = [e.post.id for e in search_page]
    pipeline.send(search_page + _parse("twarc2/withheld_first3.jsonl") + _parse("twarc2/edited_before.jsonl")
                  + _parse("twarc2/edited_after.jsonl"))
    withheld = ["x:1388424788171841537", "x:25712847277"]
    newest, old = "x:1576994789110992896", "x:1576994746135764992"
    visible = pipeline.visible_ids()
    assert set(search_ids) | {"x:506695756406095872", newest} == visible
    assert pipeline.indexed(withheld[0])["hidden"] == ["withheld"]  # stored and indexed, never shown
    assert is_tombstone(pipeline.item(old)) and pipeline.indexed(old) is None  # the edit's older id

    dropped, deleted = search_ids[0], search_ids[1]
    pipeline.send(_compliance("03_drop", dropped) + _compliance("00_delete", deleted))
    assert pipeline.visible_ids() == visible - {dropped, deleted}
    assert from_item(pipeline.item(dropped)).hidden == ("dropped",)
    assert is_tombstone(pipeline.item(deleted)) and pipeline.indexed(deleted) is None

    # A replay of the same file and the same drop changes nothing; a later collection keeps the drop.
    pipeline.send(search_page + _compliance("03_drop", dropped))
    assert pipeline.visible_ids() == visible - {dropped, deleted}

    # An undo older than the drop changes nothing; a later one shows the post again.
    pipeline.send(_compliance("04_undrop", dropped, "2022-12-22T00:00:00.000Z"))
    assert dropped not in pipeline.visible_ids()
    pipeline.send(_compliance("04_undrop", dropped, "2022-12-24T00:00:00.000Z"))
    assert pipeline.visible_ids() == visible - {deleted}
    assert pipeline.indexed(dropped)["hidden"] == []


def _user_event(name: str, user_id: str, event_at: str) -> list:
    """An X documentation example of a user event, for a user of these files (synthetic id and time)."""
    doc = json.loads(document(f"x_compliance/v2_stream/{name}.json"))
    (body,) = doc["data"].values()
    body["user"]["id"] = user_id
    body["event_at"] = event_at
    return parse_line(json.dumps(doc))


def test_a_user_level_event_reaches_stored_and_later_posts_and_its_undo_restores_them(isolated_stack):
    pipeline = Pipeline(isolated_stack)
    pipeline.send(_parse("twarc2/edited_before.jsonl"))  # @wongmjane's edited tweet (author 337119125)
    newest = "x:1576994789110992896"
    assert pipeline.visible_ids() == {newest}
    pipeline.send(_user_event("09_user_protect", "337119125", "2022-10-04T00:00:00.000Z"))
    assert pipeline.visible_ids() == set() and pipeline.indexed(newest)["hidden"] == ["protected"]
    pipeline.send(_parse("twarc2/quoted_edit.jsonl"))  # another author: shown
    assert pipeline.visible_ids() == {"x:1576995594388000768"}
    pipeline.send(_parse("twarc2/edited_after.jsonl"))  # a later collection of the protected user's post
    assert newest not in pipeline.visible_ids()
    pipeline.send(_user_event("10_user_unprotect", "337119125", "2022-10-05T00:00:00.000Z"))
    assert pipeline.visible_ids() == {newest, "x:1576995594388000768"}
    assert pipeline.dead_letter_reasons() == []  # the user's state items are no posts to index
