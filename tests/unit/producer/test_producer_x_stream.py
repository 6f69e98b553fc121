"""The X filtered stream: rules from the tracking config, X's reconnect schedule, one connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from producer_fakes import FakeClock, FakeXServer

from pulse_common.tracking import load_tracking_config
from pulse_producer.events import Upsert
from pulse_producer.sources.x_stream import ReconnectPolicy, XStreamError, XStreamSource, rules_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "producer"


@pytest.fixture
def tracking():
    return load_tracking_config()


def _tweet(n: int) -> dict:
    doc = json.loads((FIXTURES / "x_v2_with_includes.json").read_text())
    doc["data"]["id"] = str(2120400000000000100 + n)
    doc["data"]["edit_history_tweet_ids"] = [doc["data"]["id"]]  # a tweet never edited
    return doc


def test_rules_cover_every_brand_term_and_hashtag_with_exclusions_and_language(tracking):
    rules = rules_for(tracking)
    assert [r.tag for r in rules] == ["pulse:nova", "pulse:orbit", "pulse:lumen"]
    assert rules[0].value == (
        '("Nova 12" OR Nova12 OR "Nova 12 phone" OR "Nova phone" OR #nova12 OR #novaphone)'
        ' -"Nova 12 Lite" lang:en'
    )
    assert all(len(r.value) <= 512 for r in rules)
    assert rules_for(tracking, exclude_retweets=True)[1].value.endswith("lang:en -is:retweet")


def test_a_brand_with_too_many_terms_is_split_over_several_rules_with_the_same_tag(tracking):
    brand = tracking.products[0].model_copy(update={"aliases": [f"Nova alias number {i}" for i in range(60)]})
    big = tracking.model_copy(update={"products": [brand], "competitors": []})
    rules = rules_for(big)
    assert len(rules) > 1 and {r.tag for r in rules} == {"pulse:nova"}
    assert all(len(r.value) <= 512 for r in rules)
    assert sum(r.value.count('"Nova alias number') for r in rules) == 60


def test_the_reconnect_policy_follows_x_rules_and_caps():
    policy = ReconnectPolicy()
    network = [policy.network_error() for _ in range(70)]
    assert network[:4] == [0.25, 0.5, 0.75, 1.0] and network[-1] == 16.0 and max(network) == 16.0
    http = [policy.http_error(503) for _ in range(8)]
    assert http == [5, 10, 20, 40, 80, 160, 320, 320]
    limited = [policy.http_error(429) for _ in range(3)]
    assert limited == [60, 120, 240]
    policy.reset()
    assert (policy.network_error(), policy.http_error(500), policy.http_error(429)) == (0.25, 5, 60)


def test_the_stream_reconnects_on_xs_schedule_and_never_holds_two_connections(tracking):
    clock = FakeClock()
    script = [
        "drop",
        "drop",
        ("status", 503),
        ("status", 503),
        ("status", 429),
        ("status", 429),
        ("tweets", [_tweet(1), _tweet(2)]),
        "stall",
        ("status", 503),
        ("status", 401),
    ]
    existing = [
        {"id": "1", "value": "old rule", "tag": "pulse:old"},
        {"id": "2", "value": rules_for(tracking)[0].value, "tag": "pulse:nova"},
    ]
    server = FakeXServer(script, clock, rules=existing)
    source = XStreamSource(
        bearer_token="t0ken",
        tracking=tracking,
        base_url=server.url,
        stall_timeout_s=0.5,
        connect_timeout_s=2,
        sleep=clock.sleep,
    )
    items = []
    try:
        with pytest.raises(XStreamError, match="401"):
            for item in source.items():
                items.append(item)
    finally:
        server.close()
    expected = [0.25, 0.5, 5, 10, 60, 120, 0.25, 0.25, 5]
    assert clock.sleeps == expected
    times = [t for t, _ in server.connections]
    assert times == pytest.approx([0, 0.25, 0.75, 5.75, 15.75, 75.75, 195.75, 196.0, 196.25, 201.25])
    assert server.overlaps == 0 and source.max_open_connections == 1
    assert [i.event.post.native_id for i in items] == ["2120400000000000101", "2120400000000000102"]
    assert all(isinstance(i.event, Upsert) and i.event.post.version > 1_700_000_000_000 for i in items)
    # rules: the stale one deleted, the two missing added, the one in force kept
    assert server.rule_posts[0] == {"delete": {"ids": ["1"]}}
    assert [r["tag"] for r in server.rule_posts[1]["add"]] == ["pulse:orbit", "pulse:lumen"]
    assert {r["tag"] for r in server.rules} == {"pulse:nova", "pulse:orbit", "pulse:lumen"}
    assert set(server.auth_headers) == {"Bearer t0ken"}


def test_a_rejected_bearer_token_is_a_clear_error_not_a_retry(tracking):
    clock = FakeClock()
    server = FakeXServer([("status", 401)], clock)
    source = XStreamSource(
        bearer_token="bad", tracking=tracking, base_url=server.url, sync_rules=False, sleep=clock.sleep
    )
    try:
        with pytest.raises(XStreamError, match="PULSE_PRODUCER_X_BEARER_TOKEN"):
            list(source.items())
    finally:
        server.close()
    assert clock.sleeps == [] and len(server.connections) == 1
