"""Every parser on recorded fixtures: X v1.1, X v2 with includes, twarc2, compliance, Jetstream, bad lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pulse_producer.events import Delete, Refused, Upsert
from pulse_producer.parsers import ParseError, parse_line

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "producer"


def _events(name: str, received_ms: int | None = None):
    out = []
    for line in (FIXTURES / name).read_bytes().splitlines():
        out.extend(parse_line(line, received_ms))
    return out


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def test_v1_statuses_become_posts_with_author_engagement_entities_and_geo():
    events = _events("x_v1_statuses.jsonl")
    posts = {e.post.id: e.post for e in events if isinstance(e, Upsert)}
    first = posts["x:1990000000000000001"]
    assert first.network == "x" and first.source_format == "x_v1"
    assert (
        first.author.id == "x:111" and first.author.username == "maya_bits" and first.author.followers == 1520
    )
    assert first.author.created_at == datetime(2015, 3, 3, 10, 0, tzinfo=UTC)
    assert (first.engagement.likes, first.engagement.reposts, first.engagement.replies) == (41, 3, 2)
    assert first.hashtags == ["nova12"] and first.geo is not None and first.geo.lat == pytest.approx(30.27)
    assert first.version == _ms("2026-11-16T09:15:02")


def test_a_truncated_v1_status_uses_the_extended_full_text_and_entities():
    post = _events("x_v1_statuses.jsonl")[1].post
    assert post.text.endswith("Mixed feelings overall. https://t.co/abcdEFGH12")
    assert post.urls == ["https://www.example.com/orbit-s5-camera"] and post.mentions == ["OrbitPhones"]
    assert post.author.verified and post.geo is not None and post.geo.lon == pytest.approx(13.425)


def test_v1_retweets_replies_and_quotes_reference_their_original():
    posts = [e.post for e in _events("x_v1_statuses.jsonl") if isinstance(e, Upsert)]
    kinds = {p.native_id: (p.post_type, p.referenced_id) for p in posts}
    assert kinds["1990000000000000003"] == ("retweet", "x:1990000000000000001")
    assert kinds["1990000000000000004"] == ("reply", "x:1990000000000000001")
    assert kinds["1990000000000000005"] == ("quote", "x:1990000000000000002")


def test_a_v1_delete_notice_becomes_a_delete_newer_than_the_post():
    events = _events("x_v1_statuses.jsonl")
    (delete,) = [e for e in events if isinstance(e, Delete)]
    post = next(e.post for e in events if isinstance(e, Upsert) and e.post.id == delete.id)
    assert delete.id == "x:1990000000000000004" and delete.version > post.version


def test_v1_stream_control_messages_yield_nothing():
    assert parse_line(b'{"limit":{"track":12,"timestamp_ms":"1794822000100"}}') == []


def test_a_v2_tweet_takes_its_author_and_place_from_includes():
    (event,) = _events("x_v2_with_includes.json")
    post = event.post
    assert post.id == "x:2120400000000000001" and post.source_format == "x_v2"
    assert post.author.username == "cobalt_lab" and post.author.followers == 48200 and post.author.verified
    assert post.author.created_at == datetime(2019, 4, 2, 11, 0, tzinfo=UTC)
    assert post.hashtags == ["nova12"] and post.mentions == ["NovaMobile"]
    assert post.urls == ["https://www.example.com/reviews/nova12-101"]
    assert post.geo is not None and post.geo.lat == pytest.approx(52.51)
    assert post.conversation_id == "x:2120400000000000001"
    assert post.engagement.total == 88 + 7 + 3 + 1
    assert post.version == _ms("2026-11-18T14:02:11.250")


def test_a_live_source_versions_by_receive_time():
    (event,) = _events("x_v2_with_includes.json", received_ms=1_800_000_000_000)
    assert event.post.version == 1_800_000_000_000


def test_twarc2_pages_flattened_lines_and_empty_pages_all_parse():
    posts = [e.post for e in _events("twarc2_pages.jsonl")]
    assert [p.native_id for p in posts] == [
        "2120500000000000001",
        "2120500000000000002",
        "2120500000000000003",
        "2120500000000000004",
    ]
    assert all(p.source_format == "twarc2" for p in posts)
    assert (posts[1].post_type, posts[1].referenced_id) == ("reply", "x:2120500000000000001")
    assert (posts[2].post_type, posts[2].referenced_id) == ("retweet", "x:2120500000000000001")
    assert posts[2].author.verified  # verified_type "blue"
    assert posts[3].lang == "de" and posts[3].author.username == "north_desk"


def test_a_v2_compliance_delete_is_a_delete_versioned_by_its_event_time():
    (event,) = _events("x_v2_compliance.jsonl")
    assert isinstance(event, Delete)
    assert (event.id, event.reason, event.version) == (
        "x:2120400000000000001",
        "compliance",
        _ms("2026-11-20T10:00:00"),
    )


def test_jetstream_commits_become_posts_replies_quotes_and_deletes():
    events = _events("jetstream.jsonl")
    upserts = [e.post for e in events if isinstance(e, Upsert)]
    deletes = [e for e in events if isinstance(e, Delete)]
    ids = [p.id for p in upserts]
    assert ids[:3] == [
        "bluesky:did:plc:abc123xyz/3lbxaaa111",
        "bluesky:did:plc:def456uvw/3lbxbbb222",
        "bluesky:did:plc:ghi789rst/3lbxccc333",
    ]
    first, reply, quote = upserts[:3]
    assert first.network == "bluesky" and first.hashtags == ["nova12"] and first.lang == "en"
    assert first.author.id == "bluesky:did:plc:abc123xyz"
    assert (reply.post_type, reply.referenced_id) == ("reply", first.id)
    assert reply.conversation_id == first.id and reply.mentions == ["did:plc:abc123xyz"]
    assert (quote.post_type, quote.referenced_id, quote.urls) == (
        "quote",
        first.id,
        ["https://example.com/story"],
    )
    assert [d.id for d in deletes] == [first.id]
    assert deletes[0].version > first.version


def test_jetstream_likes_and_identity_events_yield_nothing():
    lines = (FIXTURES / "jetstream.jsonl").read_bytes().splitlines()
    assert parse_line(lines[4]) == [] and parse_line(lines[5]) == []


@pytest.mark.parametrize("operation", ["delete", "create"])
def test_a_jetstream_event_whose_id_is_longer_than_a_post_id_may_be_is_refused(operation):
    # Found by fuzzing: a delete carries no schema check, so an over-long DID reached record_bytes.
    import json

    did = "did:plc:" + "x" * 600
    line = json.dumps({
        "did": did, "time_us": 1_790_000_000_000_000, "kind": "commit",
        "commit": {"operation": operation, "collection": "app.bsky.feed.post", "rkey": "3lbxaaa111",
                   "record": {"text": "hi", "createdAt": "2026-11-20T10:00:00Z"}},
    }).encode()
    with pytest.raises(ParseError) as caught:
        parse_line(line)
    assert caught.value.reason == "bad_id"


def test_every_malformed_line_is_refused_with_a_reason_that_says_what_was_wrong():
    reasons = []
    for line in (FIXTURES / "malformed.jsonl").read_bytes().splitlines():
        try:
            events = parse_line(line)
        except ParseError as exc:
            reasons.append(exc.reason)
            continue
        assert events and all(isinstance(e, Refused) for e in events)
        reasons.append(events[0].reason)
    assert len(reasons) == 10
    assert {"not_utf8", "bad_json", "unknown_shape", "bad_timestamp", "bad_id", "missing_created_at",
            "not_a_tweet"} <= set(reasons)
    assert reasons[0] == "missing_created_at"  # a tweet without author and date: the date is missing


def test_blank_lines_are_ignored():
    assert parse_line(b"   \n") == []
