"""pulse-dlq redrives one dead letter of each service against the real local stack (moto over h2c,
OpenSearch), each written by the service's own code, and each is handled where its service says;
nothing loops: what cannot be handled stays in the queue and a second run changes nothing.

- producer: the sink dead-letters a post Kinesis keeps refusing (a valid envelope: re-sent) and an
  event the schema refuses (not an envelope: shown and kept);
- enricher: the processor dead-letters a post its NLP core fails on; after the fix it is re-sent to
  the stream and the (fixed) processor stores it;
- indexer: the processor dead-letters a post OpenSearch refused (its monthly index was blocked for
  writes); after the block is lifted the redrive re-reads the item from the table and indexes it.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from stream_support import adapter_json, stream_records

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "enricher"))

import enricher_posts as posts
from enricher_standin import StandInEnricher

from pulse_common import dlq_cli
from pulse_common.aws import client
from pulse_common.contracts import search
from pulse_common.contracts.dead_letter import DeadLetterWriter
from pulse_common.contracts.envelope import RecordEnvelope, decode
from pulse_common.contracts.items import to_item
from pulse_common.opensearch import opensearch_client

pytestmark = pytest.mark.integration


def kcl_record(seq: int, data: bytes) -> SimpleNamespace:
    return SimpleNamespace(sequence_number=str(seq), sub_sequence_number=0, binary_data=data)


def deliver(processor, records: list) -> None:
    checkpointer = SimpleNamespace(checkpoint=lambda *_a: None)
    processor.initialize(SimpleNamespace(shard_id="shardId-000000000000", sequence_number="TRIM_HORIZON"))
    processor.process_records(SimpleNamespace(records=records, checkpointer=checkpointer,
                                              millis_behind_latest=0))


def queued(stack, capsys) -> list[dict]:
    capsys.readouterr()
    dlq_cli.main(["list", "--json"], stack=stack)
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


class RefusingKinesis:
    """Kinesis that refuses every entry (an error the producer does not retry forever)."""

    def put_records(self, StreamName, Records):  # noqa: N803
        refused = {"ErrorCode": "KMSAccessDeniedException", "ErrorMessage": "key"}
        return {"FailedRecordCount": len(Records), "Records": [refused for _ in Records]}


def producer_letters(stack) -> str:
    """The producer's sink dead-letters a refused post and an event the schema refuses."""
    from pulse_producer.events import Delete, Item, Upsert
    from pulse_producer.sink import KinesisSink

    writer = DeadLetterWriter(client("sqs", stack), stack.dlq_name)
    sink = KinesisSink(RefusingKinesis(), stack.stream_name, dead_letter=writer, max_entry_attempts=2,
                       sleep=lambda _s: None)
    refused = RecordEnvelope.model_validate(posts.upsert(7)).post
    sink.add(Item(event=Upsert(refused), source="replay:posts.jsonl:7"))
    sink.add(Item(event=Delete(id="x:" + "9" * 600, version=1), source="replay:posts.jsonl:8"))
    sink.flush()
    assert sink.dead_lettered == 2
    return refused.id


def enricher_letter(stack) -> str:
    """The enricher's processor dead-letters a post its NLP core fails on (enrich_failed)."""
    from pulse_enricher.processor import build_processor
    from pulse_enricher.settings import EnricherSettings

    processor = build_processor(EnricherSettings(), enricher=StandInEnricher(fail_on="BOOM"),
                                exit_on_failure=False)
    envelope = posts.upsert(8, text="BOOM goes the Nova")
    deliver(processor, [kcl_record(1, posts.encode(envelope))])
    return envelope["id"]


def indexer_letter(stack, search_client) -> tuple[str, int, str]:
    """A post is stored in the table; OpenSearch refuses its document (write-blocked index), so the
    indexer's processor dead-letters it. Returns (post id, version, index)."""
    from pulse_indexer.processor import build_processor
    from pulse_indexer.settings import IndexerSettings

    envelope = RecordEnvelope.model_validate(posts.upsert(9))
    enriched = StandInEnricher().enrich(envelope.post, envelope.ingested_at)
    now = datetime.now(UTC)
    item = to_item(enriched, envelope, enriched_at=now, retention=timedelta(days=30))
    client("dynamodb", stack).put_item(TableName=stack.table_name, Item=item)
    index = search.index_for(stack.opensearch_index_alias, enriched.created_at)
    search_client.indices.create(index=index)
    search_client.indices.put_settings(index=index, body={"index.blocks.write": True})
    stream_record = {
        "eventID": "e1", "eventName": "INSERT", "eventSource": "aws:dynamodb",
        "dynamodb": {"ApproximateCreationDateTime": int(now.timestamp() * 1000), "Keys": {"id": item["id"]},
                     "NewImage": item, "OldImage": {}, "SequenceNumber": "100"},
    }
    processor = build_processor(IndexerSettings(retry_base_s=0.01, retry_cap_s=0.05), exit_on_failure=False)
    deliver(processor, [kcl_record(100, adapter_json(stream_record))])
    return envelope.id, envelope.version, index


def test_one_dead_letter_of_each_service_is_redriven_where_its_service_says_and_nothing_loops(
    isolated_stack, capsys
):
    stack = isolated_stack
    search_client = opensearch_client(stack)
    refused_id = producer_letters(stack)
    failed_id = enricher_letter(stack)
    indexed_id, version, index = indexer_letter(stack, search_client)
    letters = queued(stack, capsys)
    assert sorted((r["service"], r["reason"]) for r in letters) == [
        ("enricher", "enrich_failed"),
        ("indexer", "rejected"),
        ("producer", "invalid_event"),
        ("producer", "put_rejected"),
    ]
    assert stream_records(stack) == []

    # The fixes: OpenSearch takes writes again (the enricher is fixed below, when it reads the stream).
    search_client.indices.put_settings(index=index, body={"index.blocks.write": False})
    assert dlq_cli.main(["redrive"], stack=stack) == 0
    out = capsys.readouterr()
    assert "resent=2 reindexed=1 deleted=0 kept=1 skipped=0" in out.err
    assert "kept" in out.out and "not a valid envelope" in out.out  # the producer's bad event, shown

    # enricher and producer letters went back to the stream, keyed by their post ids ...
    resent = stream_records(stack)
    assert sorted(r["PartitionKey"] for r in resent) == sorted([refused_id, failed_id])
    assert all(isinstance(decode(r["Data"]), RecordEnvelope) for r in resent)  # valid envelopes
    # ... and the fixed enricher stores both, dead-lettering nothing more.
    from pulse_enricher.processor import build_processor
    from pulse_enricher.settings import EnricherSettings

    deliver(build_processor(EnricherSettings(), enricher=StandInEnricher(), exit_on_failure=False),
            [kcl_record(n, r["Data"]) for n, r in enumerate(resent, start=10)])
    stored = client("dynamodb", stack).scan(TableName=stack.table_name)["Items"]
    assert {i["id"]["S"] for i in stored} == {refused_id, failed_id, indexed_id}

    # the indexer letter: the item was re-read from the table and indexed at its version.
    doc = search_client.get(index=index, id=indexed_id)
    assert doc["_version"] == version and doc["_source"]["id"] == indexed_id

    # Only the producer's invalid event is left, and a second run changes nothing.
    assert [(r["service"], r["reason"]) for r in queued(stack, capsys)] == [("producer", "invalid_event")]
    assert dlq_cli.main(["redrive"], stack=stack) == 0
    assert "resent=0 reindexed=0 deleted=0 kept=1 skipped=0" in capsys.readouterr().err
    assert len(stream_records(stack)) == 2 and len(queued(stack, capsys)) == 1
