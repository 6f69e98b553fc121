"""Bluesky Jetstream against a local WebSocket server: filtering, deletes, a cursor that never skips."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from producer_fakes import FakeJetstream, jetstream_source

from pulse_common.tracking import load_tracking_config
from pulse_producer.events import Delete, Upsert
from pulse_producer.sources.bluesky import JetstreamSource

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "producer"
FRAMES = (FIXTURES / "jetstream.jsonl").read_text().splitlines()
TIMES = [int(f.split('"time_us":')[1].split(",")[0]) for f in FRAMES]


def _source(server: FakeJetstream, cursor_file: Path, **kw) -> JetstreamSource:
    return jetstream_source(server, cursor_file, **kw)


@pytest.fixture
def server_with_fixture():
    server = FakeJetstream([FRAMES])
    yield server
    server.close()


def test_only_posts_naming_a_tracked_brand_and_their_deletes_are_forwarded(server_with_fixture, tmp_path):
    source = _source(server_with_fixture, tmp_path / "cursor")
    items = list(source.items())
    events = [i.event for i in items]
    assert [type(e).__name__ for e in events] == ["Upsert", "Upsert", "Upsert", "Delete"]
    assert [e.id for e in events] == [
        "bluesky:did:plc:abc123xyz/3lbxaaa111",
        "bluesky:did:plc:def456uvw/3lbxbbb222",
        "bluesky:did:plc:ghi789rst/3lbxccc333",
        "bluesky:did:plc:abc123xyz/3lbxaaa111",
    ]
    assert isinstance(events[3], Delete) and events[3].version >= events[0].post.version
    # the sunset post and the "Nova 12 Lite" post are not about a tracked brand
    assert source.stats.skipped_by_reason == {"not_tracked": 2}
    parsed = parse_qs(urlsplit(server_with_fixture.paths[0]).query)
    assert parsed == {"wantedCollections": ["app.bsky.feed.post"]}


def test_the_cursor_is_saved_only_up_to_what_kinesis_acknowledged(server_with_fixture, tmp_path):
    cursor_file = tmp_path / "cursor"
    source = _source(server_with_fixture, cursor_file, save_interval_s=0)
    items = list(source.items())
    assert not cursor_file.exists()  # nothing acknowledged yet: nothing saved
    items[0].on_sent()
    items[1].on_sent()
    assert int(cursor_file.read_text()) == TIMES[1]
    items[2].on_sent()
    items[3].on_sent()
    # everything forwarded is on Kinesis: the cursor covers the skipped tail too
    assert int(cursor_file.read_text()) == TIMES[-1]


def test_a_restart_resumes_from_the_saved_cursor_minus_the_rewind(tmp_path):
    cursor_file = tmp_path / "cursor"
    cursor_file.write_text(f"{TIMES[3]}\n")
    server = FakeJetstream([FRAMES[4:]])
    try:
        source = _source(server, cursor_file)
        items = list(source.items())
    finally:
        server.close()
    query = parse_qs(urlsplit(server.paths[0]).query)
    assert query["cursor"] == [str(TIMES[3] - 2_000_000)]
    # a delete of a post this process never forwarded is not forwarded by default
    assert items == []
    assert int(cursor_file.read_text()) == TIMES[-1]


def test_unknown_deletes_can_be_forwarded_when_configured(tmp_path):
    server = FakeJetstream([[FRAMES[6]]])
    try:
        items = list(_source(server, tmp_path / "c", forward_unknown_deletes=True).items())
    finally:
        server.close()
    assert [type(i.event) for i in items] == [Delete]


def test_reconnects_back_off_after_a_connection_that_delivered_nothing(tmp_path):
    server = FakeJetstream([[], [], [FRAMES[0]]])
    sleeps: list[float] = []
    source = JetstreamSource(
        url=server.url,
        tracking=load_tracking_config(),
        cursor_file=tmp_path / "c",
        stall_timeout_s=5,
        sleep=lambda s: sleeps.append(s) or (len(sleeps) >= 3 and source.stop.set()),
    )
    try:
        items = list(source.items())
    finally:
        server.close()
    assert sleeps == [1.0, 2.0, 1.0]
    assert [type(i.event) for i in items] == [Upsert]


def test_a_post_whose_app_declared_another_language_is_still_forwarded_for_the_text_to_decide(
    server_with_fixture, tmp_path
):
    import json

    frame = json.loads(FRAMES[0])  # synthetic: the fixture's English post, its app declaring German
    frame["commit"]["record"]["langs"] = ["de"]
    source = _source(server_with_fixture, tmp_path / "cursor")
    (event,) = source._forwardable(frame, 1_795_176_002_600, "jetstream:1")
    assert isinstance(event, Upsert) and event.post.lang == "de"
