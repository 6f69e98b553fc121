"""One hostile post cannot stop ingestion: dates no clock can hold, versions no store can hold, or
any exception at all from one message, are that message's alone (counted, skipped or dead-lettered),
never a lost connection to reconnect to and read again forever. Dates are refused with a clear 400 in
the dashboard API."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from producer_fakes import FakeClock, FakeJetstream, FakeXServer, jetstream_source

from pulse_common.contracts.envelope import INVALID_ENVELOPE, Poison, decode
from pulse_common.dates import EARLIEST, DateOutOfRange, bounded_utc
from pulse_common.tracking import load_tracking_config
from pulse_producer.events import Upsert, record_bytes
from pulse_producer.parsers import parse_line
from pulse_producer.sources import UNEXPECTED_ERROR, bluesky
from pulse_producer.sources.bluesky import JetstreamSource
from pulse_producer.sources.replay import ReplaySource
from pulse_producer.sources.x_stream import XStreamError, XStreamSource

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "producer"
# What anyone can put in a Bluesky record's createdAt: valid ISO 8601, not representable in UTC.
YEAR_1 = "0001-01-01T00:00:00+01:00"
YEAR_9999 = "9999-12-31T23:59:59-01:00"


def _jetstream_frame(time_us: int, created_at: str, rkey: str) -> str:
    doc = json.loads((FIXTURES / "jetstream.jsonl").read_text().splitlines()[0])  # a tracked Nova post
    doc["time_us"] = time_us
    doc["commit"]["rkey"] = rkey
    doc["commit"]["record"]["createdAt"] = created_at
    return json.dumps(doc)


def _jetstream(server: FakeJetstream, cursor_file: Path) -> JetstreamSource:
    return jetstream_source(server, cursor_file, rewind_s=0, save_interval_s=0)


def test_bluesky_posts_dated_year_1_or_9999_are_skipped_and_the_cursor_moves_past_them(tmp_path):
    t = 1_795_176_000_000_000
    frames = [
        _jetstream_frame(t + 1, YEAR_1, "hostile1"),
        _jetstream_frame(t + 2, YEAR_9999, "hostile2"),
        _jetstream_frame(t + 3, "2026-11-20T12:00:00.000Z", "fine3"),
    ]
    server = FakeJetstream([frames])
    cursor_file = tmp_path / "cursor"
    try:
        source = _jetstream(server, cursor_file)
        items = list(source.items())
    finally:
        server.close()
    # The connection carried on past both: the post after them arrived on the same connection.
    assert len(server.paths) == 1 and source.delays == [1.0]
    assert [i.event.id for i in items] == ["bluesky:did:plc:abc123xyz/fine3"]
    assert source.stats.skipped_by_reason == {"bad_timestamp": 2}
    items[0].on_sent()
    assert int(cursor_file.read_text()) == t + 3

    # A restart resumes after them, never at them.
    restarted = _jetstream(FakeJetstream([[]]), cursor_file)
    assert parse_qs(urlsplit(restarted.connect_url()).query)["cursor"] == [str(t + 3)]


def test_a_jetstream_message_that_raises_anything_is_skipped_and_the_cursor_moves(tmp_path, monkeypatch):
    # Fault injection: whatever a future parser bug raises, the message is isolated the same way.
    real = bluesky.parse_jetstream

    def parse_or_explode(doc, received_ms):
        if doc["commit"]["rkey"] == "explodes":
            raise RecursionError("a bug reached by one post")
        return real(doc, received_ms)

    monkeypatch.setattr(bluesky, "parse_jetstream", parse_or_explode)
    t = 1_795_176_100_000_000
    server = FakeJetstream([[_jetstream_frame(t + 1, "2026-11-20T12:00:00Z", "explodes")]])
    try:
        source = _jetstream(server, tmp_path / "cursor")
        assert list(source.items()) == []
    finally:
        server.close()
    assert source.stats.skipped_by_reason == {UNEXPECTED_ERROR: 1}
    assert int((tmp_path / "cursor").read_text()) == t + 1  # nothing pending: moved past it


def _x_doc(tweet_id: str, created_at: str) -> dict:
    doc = json.loads((FIXTURES / "x_v2_with_includes.json").read_text())
    doc["data"]["id"] = tweet_id
    doc["data"]["created_at"] = created_at
    return doc


def test_the_x_stream_skips_hostile_dates_without_reconnecting():
    clock = FakeClock()
    script = [
        ("tweets", [_x_doc("1", YEAR_1), _x_doc("2", YEAR_9999), _x_doc("3", "2026-11-18T14:02:11Z")]),
        ("status", 401),  # ends the test: the second connection is refused
    ]
    server = FakeXServer(script, clock)
    source = XStreamSource(
        bearer_token="t0ken",
        tracking=load_tracking_config(),
        base_url=server.url,
        sync_rules=False,
        stall_timeout_s=2,
        sleep=clock.sleep,
    )
    items = []
    try:
        with pytest.raises(XStreamError):
            items.extend(source.items())
    finally:
        server.close()
    assert [i.event.post.native_id for i in items] == ["3"]
    assert source.stats.skipped_by_reason == {"bad_timestamp": 2}
    assert clock.sleeps == [0.25]  # one reconnect: after the server closed, not because of a post


def test_a_replay_skips_hostile_lines_of_every_shape_and_goes_on(tmp_path):
    compliance = {"data": {"delete": {"tweet": {"id": "9", "author_id": "1"}, "event_at": YEAR_9999}}}
    v1 = json.loads((FIXTURES / "x_v1_statuses.jsonl").read_text().splitlines()[0])
    v1_year_1 = {**v1, "created_at": "Mon Jan 01 00:00:00 +0100 0001"}
    v1_delete = {"delete": {"status": {"id_str": "7"}, "timestamp_ms": str(2**70)}}
    lines = [
        _jetstream_frame(1_795_176_000_000_001, YEAR_1, "a"),
        json.dumps(_x_doc("1", YEAR_9999)),
        json.dumps(compliance),
        json.dumps(v1_year_1),
        json.dumps(v1_delete),
        json.dumps(_x_doc("3", "2026-11-18T14:02:11Z")),
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("\n".join(lines) + "\n")
    source = ReplaySource([str(path)])
    events = [i.event for i in source.items()]
    assert [e.id for e in events] == ["x:3"]
    assert source.stats.skipped_by_reason == {"bad_timestamp": 4, "bad_version": 1}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("post.created_at", YEAR_1),
        ("post.created_at", YEAR_9999),
        ("post.author.created_at", YEAR_1),
        ("ingested_at", YEAR_9999),
        ("version", 2**63),
        ("post.version", 2**63),
    ],
)
def test_the_enricher_dead_letters_a_record_with_an_impossible_date_or_version(field, value):
    (event,) = parse_line((FIXTURES / "x_v2_with_includes.json").read_text().replace("\n", ""))
    assert isinstance(event, Upsert)
    envelope = json.loads(record_bytes(event))
    node = envelope
    *path, last = field.split(".")
    for part in path:
        node = node[part]
    node[last] = value
    result = decode(json.dumps(envelope).encode())
    assert isinstance(result, Poison) and result.reason == INVALID_ENVELOPE


def test_every_date_is_held_to_one_range():
    assert bounded_utc(EARLIEST) == EARLIEST
    for hostile in (YEAR_1, YEAR_9999, "2005-12-31T00:00:00Z", "2999-01-01T00:00:00Z"):
        with pytest.raises(DateOutOfRange, match="accepted range"):
            bounded_utc(datetime.fromisoformat(hostile))


@pytest.mark.parametrize(
    ("param", "value"),
    [("since", YEAR_1), ("until", YEAR_9999), ("since", "99999w"), ("since", "1999-01-01")],
)
def test_the_dashboard_refuses_dates_out_of_range_with_a_400(dashboard, param, value):
    res = dashboard().get("/api/overview", params={param: value})
    assert res.status_code == 400
    assert res.json()["param"] == param and "accepted range" in res.json()["message"]
