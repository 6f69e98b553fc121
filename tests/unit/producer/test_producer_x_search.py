"""The x-search source (tweepy Client + Paginator) against recorded X responses, never the network.

Page 1 is the real recent-search page of tweepy's own cassette (tests/fixtures/real/x_v2/tweepy, with
its `meta.next_token`); page 2 is the real body of tweepy's get_tweets cassette, served as the last
search page (same v2 shape, no next_token). The 429 answers are synthetic (X's documented headers)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from real_payloads import cassette_bodies

from pulse_common.tracking import TrackingConfig
from pulse_producer.events import Upsert
from pulse_producer.sources.x_search import XSearchSource

RECENT = "https://api.twitter.com/2/tweets/search/recent"
ARCHIVE = "https://api.twitter.com/2/tweets/search/all"
PAGE_1 = cassette_bodies("x_v2/tweepy/test_client_search_recent_tweets.yaml")[0]
PAGE_2 = cassette_bodies("x_v2/tweepy/test_client_get_tweets.yaml")[0]
TOKEN = json.loads(PAGE_1)["meta"]["next_token"]


@pytest.fixture
def tracking() -> TrackingConfig:
    return TrackingConfig.model_validate({"products": [{"id": "tweepy", "name": "Tweepy"}]})


def _params(call) -> dict[str, list[str]]:
    return parse_qs(urlparse(call.request.url).query)


def _source(tracking, tmp_path, **options) -> XSearchSource:
    return XSearchSource(bearer_token="t0ken", tracking=tracking, checkpoint_file=str(tmp_path / "cp.json"),
                         since=datetime(2022, 10, 1, tzinfo=UTC), until=datetime(2022, 10, 8, tzinfo=UTC),
                         clock=lambda: 1_665_000_000.0, **options)


def _drain(source: XSearchSource) -> list:
    items = []
    for item in source.items():
        items.append(item)
        item.on_sent()  # what the sink does once the post is put
    return items


@responses.activate
def test_a_backfill_pages_with_next_token_between_since_and_until_into_posts(tracking, tmp_path):
    responses.get(RECENT, body=PAGE_1)
    responses.get(RECENT, body=PAGE_2)
    items = _drain(_source(tracking, tmp_path))
    assert [type(i.event) for i in items] == [Upsert] * 12
    first, second = responses.calls[0], responses.calls[1]
    assert _params(first)["query"] == ['Tweepy lang:en']
    assert _params(first)["start_time"] == ["2022-10-01T00:00:00Z"]
    assert _params(first)["end_time"] == ["2022-10-08T00:00:00Z"]
    assert "next_token" not in _params(first) and _params(second)["next_token"] == [TOKEN]
    assert "author_id" in _params(first)["expansions"][0]
    assert not (tmp_path / "cp.json").exists()  # a finished backfill leaves no checkpoint


@responses.activate
def test_a_rate_limit_waits_until_xs_reset_time_and_asks_for_the_same_page_again(tracking, tmp_path):
    responses.get(RECENT, body=PAGE_1)
    responses.get(RECENT, status=429, json={"title": "Too Many Requests"},
                  headers={"x-rate-limit-reset": "1665000090"})
    responses.get(RECENT, body=PAGE_2)
    source = _source(tracking, tmp_path)
    source.stop.wait = lambda seconds: False  # the wait itself, observed instead of slept
    items = _drain(source)
    assert len(items) == 12 and source.waits == [91.0]
    assert _params(responses.calls[2])["next_token"] == [TOKEN]


@responses.activate
def test_a_stopped_backfill_resumes_from_its_checkpoint_without_paying_for_page_one_again(tracking, tmp_path):
    responses.get(RECENT, body=PAGE_1)
    first = _source(tracking, tmp_path)
    for item in first.items():
        item.on_sent()
        first.close()  # stopped during page 1: its posts are all sent, page 2 is never asked for
    saved = json.loads((tmp_path / "cp.json").read_text())
    assert saved["next_token"] == TOKEN and saved["query"] == 0

    responses.get(RECENT, body=PAGE_2)
    items = _drain(_source(tracking, tmp_path))
    assert len(items) == 2 and _params(responses.calls[-1])["next_token"] == [TOKEN]


@responses.activate
def test_the_checkpoint_moves_only_past_pages_whose_posts_were_all_sent(tracking, tmp_path):
    responses.get(RECENT, body=PAGE_1)
    responses.get(RECENT, body=PAGE_2)
    source = _source(tracking, tmp_path)
    items = list(source.items())  # read, nothing sent yet
    assert len(items) == 12
    assert not (tmp_path / "cp.json").exists()
    for item in items[:10]:
        item.on_sent()
    assert json.loads((tmp_path / "cp.json").read_text())["next_token"] == TOKEN


@responses.activate
def test_full_archive_search_is_used_when_asked(tracking, tmp_path):
    responses.get(ARCHIVE, body=PAGE_2)
    items = _drain(_source(tracking, tmp_path, archive=True))
    assert len(items) == 2 and _params(responses.calls[0])["max_results"] == ["500"]
