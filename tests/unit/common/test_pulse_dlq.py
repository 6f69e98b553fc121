"""pulse-dlq on moto in-process: listing does not consume, show prints one letter, and a redrive
sends enricher and producer letters back to the stream only when they are whole, valid envelopes,
keeps the rest, and never handles a letter written while it runs. (The indexer route, which needs
OpenSearch, runs against the real stack: tests/integration/pipeline/test_dead_letter_redrive.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import enricher_posts as posts
import pytest
from stream_support import stream_records

from pulse_common import dlq_cli
from pulse_common.aws import client
from pulse_common.contracts.dead_letter import RAW_BUDGET, DeadLetter, DeadLetterWriter
from pulse_common.redrive import DeadLetterQueue, Redriver, redrive


def letter(raw: bytes, reason: str = "invalid_json", seq: str = "1", service="enricher") -> DeadLetter:
    return DeadLetter(service=service, reason=reason, error="bad", shard_id="shardId-000000000001",
                      sequence_number=seq, raw=raw, source="kinesis:unit-posts")


def send(aws, letters):
    DeadLetterWriter(client("sqs", aws), aws.dlq_name, sleep=lambda _s: None).send(letters)


def stream_data(aws) -> list[bytes]:
    return [record["Data"] for record in stream_records(aws)]


def listed(capsys) -> list[dict]:
    capsys.readouterr()
    dlq_cli.main(["list", "--json"])
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_pulse_dlq_lists_without_consuming(aws, capsys: pytest.CaptureFixture):
    send(aws, [letter(b"{", seq=str(i)) for i in range(12)])
    assert dlq_cli.main(["list"]) == 0
    assert dlq_cli.main(["list", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 24
    assert json.loads(out[-1])["reason"] == "invalid_json" and json.loads(out[-1])["service"] == "enricher"


def test_pulse_dlq_shows_one_letter_with_its_raw_text(aws, capsys: pytest.CaptureFixture):
    send(aws, [letter(b'{"op": "up', reason="invalid_json")])
    message_id = listed(capsys)[0]["id"]
    assert dlq_cli.main(["show", message_id]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["raw_text"] == '{"op": "up' and shown["id"] == message_id and shown["error"] == "bad"
    assert dlq_cli.main(["show", "no-such-id"]) == 1


def test_a_redrive_resends_valid_envelopes_and_keeps_poison_and_truncated_records(aws, capsys):
    good = posts.encode(posts.upsert(5))
    valid_from_the_producer = posts.encode(posts.upsert(6))
    send(aws, [
        letter(good, reason="enrich_failed"),
        letter(b"y" * (RAW_BUDGET + 10), reason="text_too_long"),
        letter(b"{not json", reason="invalid_json", seq="2"),
        letter(valid_from_the_producer, reason="put_rejected", service="producer"),
        letter(b"Upsert(post=...)", reason="invalid_event", service="producer"),
    ])
    assert dlq_cli.main(["redrive"]) == 0
    out = capsys.readouterr()
    assert sorted(stream_data(aws)) == sorted([good, valid_from_the_producer])
    assert "resent=2 reindexed=0 deleted=0 kept=3 skipped=0" in out.err
    assert sorted(r["reason"] for r in listed(capsys)) == ["invalid_event", "invalid_json", "text_too_long"]
    # A second run finds the kept letters again and writes nothing: no loop.
    assert dlq_cli.main(["redrive"]) == 0
    assert "resent=0 reindexed=0 deleted=0 kept=3 skipped=0" in capsys.readouterr().err
    assert len(stream_data(aws)) == 2


def test_a_redrive_selects_by_service_and_a_dry_run_changes_nothing(aws, capsys):
    send(aws, [letter(posts.encode(posts.upsert(1)), reason="enrich_failed"),
               letter(posts.encode(posts.upsert(2)), reason="put_rejected", service="producer")])
    assert dlq_cli.main(["redrive", "--dry-run"]) == 0
    assert stream_data(aws) == [] and len(listed(capsys)) == 2
    assert dlq_cli.main(["redrive", "--service", "producer"]) == 0
    assert "resent=1 reindexed=0 deleted=0 kept=0 skipped=1" in capsys.readouterr().err
    assert [r["service"] for r in listed(capsys)] == ["enricher"]


def test_a_redrive_never_handles_a_letter_written_after_it_started(aws):
    send(aws, [letter(posts.encode(posts.upsert(1)), reason="enrich_failed")])
    queue = DeadLetterQueue(client("sqs", aws), aws.dlq_name)
    long_ago = lambda: datetime.now(UTC) - timedelta(hours=1)  # noqa: E731 - the run "started" before it
    outcomes = list(redrive(queue, Redriver(aws), now=long_ago))
    assert outcomes == [] and stream_data(aws) == []
    assert len(queue.receive(None)) == 1  # still there, released for the next run
