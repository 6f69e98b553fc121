"""The dead letter: one frozen type, one body, one byte budget, one writer that never drops a letter."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.exceptions import ClientError

from pulse_common.contracts.dead_letter import (
    MAX_MESSAGE_BYTES,
    RAW_BUDGET,
    DeadLetter,
    DeadLetterWriter,
    batches,
)


def letter(raw: bytes, reason: str = "invalid_json", seq: str = "1", service="enricher") -> DeadLetter:
    return DeadLetter(service=service, reason=reason, error="bad", shard_id="shardId-000000000001",
                      sequence_number=seq, raw=raw, source="kinesis:unit-posts")


def test_a_dead_letter_carries_who_refused_it_why_where_from_and_its_raw_bytes():
    body = json.loads(letter(b"\xff{not json").body())
    assert body["reason"] == "invalid_json" and body["service"] == "enricher"
    assert body["shard_id"] == "shardId-000000000001" and body["sequence_number"] == "1"
    assert base64.b64decode(body["raw_b64"]) == b"\xff{not json"
    assert body["raw_truncated"] is False and body["error"] == "bad" and body["at"].endswith("Z")


def test_a_letter_reads_back_as_the_letter_that_was_written():
    written = DeadLetter(service="indexer", reason="mapping_conflict", error="status 400", source="s",
                         raw=b'{"x": 1}', shard_id="sh", sequence_number="9", post_id="x:1")
    read = DeadLetter.from_body(written.body())
    assert (read.service, read.reason, read.raw, read.post_id, read.sequence_number) == (
        "indexer", "mapping_conflict", b'{"x": 1}', "x:1", "9")
    assert not read.truncated and read.at


def test_raw_bytes_beyond_the_budget_are_cut_and_say_so_in_every_service():
    for service in ("producer", "enricher", "indexer"):
        body = letter(b"x" * 2_000_000, service=service).body()
        assert len(body) < MAX_MESSAGE_BYTES
        parsed = json.loads(body)
        assert parsed["raw_truncated"] is True and parsed["raw_bytes"] == 2_000_000
        assert len(base64.b64decode(parsed["raw_b64"])) == RAW_BUDGET
        assert DeadLetter.from_body(body).truncated


def test_a_body_from_no_known_service_is_not_a_dead_letter():
    with pytest.raises(ValueError):
        DeadLetter.from_body(json.dumps({"reason": "x", "raw_b64": ""}))


def test_letters_are_sent_in_batches_sqs_accepts():
    big = [(letter(b"x"), "x" * 100_000) for _ in range(7)]
    assert all(sum(len(body) for _l, body in b) < MAX_MESSAGE_BYTES for b in batches(big))
    small = [(letter(b"x"), "x") for _ in range(25)]
    assert [len(b) for b in batches(small)] == [10, 10, 5]


class RefusingSqs:
    """An SQS that fails whole calls, then refuses some entries, before it takes everything."""

    def __init__(self, failed_calls: int, refused_rounds: int) -> None:
        self.failed_calls = failed_calls
        self.refused_rounds = refused_rounds
        self.stored: list[str] = []

    def get_queue_url(self, QueueName):  # noqa: N803
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message_batch(self, QueueUrl, Entries):  # noqa: N803
        if self.failed_calls:
            self.failed_calls -= 1
            raise ClientError(
                {"Error": {"Code": "ServiceUnavailable"}, "ResponseMetadata": {"HTTPStatusCode": 503}},
                "SendMessageBatch",
            )
        if self.refused_rounds:
            self.refused_rounds -= 1
            refused, taken = Entries[:1], Entries[1:]
        else:
            refused, taken = [], Entries
        self.stored += [e["MessageBody"] for e in taken]
        return {"Successful": [{"Id": e["Id"]} for e in taken],
                "Failed": [{"Id": e["Id"], "Code": "InternalError", "SenderFault": False} for e in refused]}


def test_the_writer_blocks_with_backoff_until_sqs_has_every_letter_and_never_drops_one():
    sqs = RefusingSqs(failed_calls=3, refused_rounds=4)
    sent, sleeps, retries = [], [], []
    writer = DeadLetterWriter(
        sqs, "q", sleep=sleeps.append, on_sent=sent.append, on_retry=lambda: retries.append(1)
    )
    letters = [letter(b"{", seq=str(i)) for i in range(12)]
    writer.send(letters)
    assert sorted(json.loads(b)["sequence_number"] for b in sqs.stored) == sorted(str(i) for i in range(12))
    assert sorted(sent, key=lambda x: int(x.sequence_number)) == letters
    assert len(sleeps) == len(retries) == 7
