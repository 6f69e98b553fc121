from __future__ import annotations

import base64
import json

import enricher_posts as posts
import pytest

from pulse_common.aws import client
from pulse_enricher import dlq_cli
from pulse_enricher.dlq import RAW_LIMIT, DeadLetter, DeadLetterQueue, _batches


def letter(raw: bytes, reason: str = "invalid_json", seq: str = "1") -> DeadLetter:
    return DeadLetter(reason=reason, error="bad", shard_id="shardId-000000000001", sequence_number=seq,
                      raw=raw, source="kinesis:unit-posts")


def test_a_dead_letter_carries_reason_origin_and_raw_bytes():
    body = json.loads(letter(b"\xff{not json").body())
    assert body["reason"] == "invalid_json" and body["service"] == "enricher"
    assert body["shard_id"] == "shardId-000000000001" and body["sequence_number"] == "1"
    assert base64.b64decode(body["raw_b64"]) == b"\xff{not json"
    assert body["raw_truncated"] is False and body["error"] == "bad" and body["at"].endswith("Z")


def test_raw_bytes_too_big_for_sqs_are_truncated_and_say_so():
    body = letter(b"x" * 2_000_000).body()
    assert len(body) < 256 * 1024
    parsed = json.loads(body)
    assert parsed["raw_truncated"] is True and parsed["raw_bytes"] == 2_000_000
    assert len(base64.b64decode(parsed["raw_b64"])) == RAW_LIMIT


def test_messages_are_sent_in_batches_sqs_accepts():
    entries = [{"Id": str(i), "MessageBody": "x" * 100_000} for i in range(7)]
    assert all(sum(len(e["MessageBody"]) for e in b) < 256 * 1024 for b in _batches(entries))
    small = [{"Id": str(i), "MessageBody": "x"} for i in range(25)]
    assert [len(b) for b in _batches(small)] == [10, 10, 5]


def send(aws, letters):
    DeadLetterQueue(client("sqs", aws), aws.dlq_name, sleep=lambda _s: None).send(letters)


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
