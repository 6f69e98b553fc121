from __future__ import annotations

import json

import enricher_posts as posts
import pytest

from pulse_common.aws import client
from pulse_common.contracts.dead_letter import RAW_BUDGET as RAW_LIMIT
from pulse_common.contracts.dead_letter import DeadLetter, DeadLetterWriter
from pulse_enricher import dlq_cli


def letter(raw: bytes, reason: str = "invalid_json", seq: str = "1") -> DeadLetter:
    return DeadLetter(service="enricher", reason=reason, error="bad", shard_id="shardId-000000000001",
                      sequence_number=seq, raw=raw, source="kinesis:unit-posts")


def send(aws, letters):
    DeadLetterWriter(client("sqs", aws), aws.dlq_name, sleep=lambda _s: None).send(letters)


def test_pulse_dlq_lists_without_consuming(aws, capsys: pytest.CaptureFixture):
    send(aws, [letter(b"{", seq=str(i)) for i in range(12)])
    assert dlq_cli.main(["list"]) == 0
    assert dlq_cli.main(["list", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 24
    assert json.loads(out[-1])["reason"] == "invalid_json"


def test_pulse_dlq_shows_one_message_with_its_raw_text(aws, capsys: pytest.CaptureFixture):
    send(aws, [letter(b'{"op": "up', reason="invalid_json")])
    dlq_cli.main(["list", "--json"])
    message_id = json.loads(capsys.readouterr().out.splitlines()[0])["id"]
    assert dlq_cli.main(["show", message_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["raw_text"] == '{"op": "up' and shown["id"] == message_id
    assert dlq_cli.main(["show", "no-such-id"]) == 1


def test_pulse_dlq_redrives_fixed_records_into_the_stream_and_keeps_truncated_ones(aws, capsys):
    good = posts.encode(posts.upsert(5))
    send(aws, [letter(good, reason="enrich_failed"), letter(b"y" * (RAW_LIMIT + 10), reason="text_too_long")])
    assert dlq_cli.main(["redrive"]) == 0
    kinesis = client("kinesis", aws)
    data = []
    for shard in kinesis.list_shards(StreamName=aws.stream_name)["Shards"]:
        it = kinesis.get_shard_iterator(StreamName=aws.stream_name, ShardId=shard["ShardId"],
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        data += [r["Data"] for r in kinesis.get_records(ShardIterator=it)["Records"]]
    assert data == [good]
    capsys.readouterr()
    dlq_cli.main(["list", "--json"])
    remaining = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["reason"] for r in remaining] == ["text_too_long"]
