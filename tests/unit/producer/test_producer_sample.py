"""The bundled sample: deterministic, realistic, and the same generator behind the synthetic source."""

from __future__ import annotations

import collections
import gzip
import io
from datetime import timedelta
from pathlib import Path

import pytest

from pulse_common.tracking import load_tracking_config
from pulse_producer.parsers import parse_line
from pulse_producer.sample import ANCHOR, DEFAULT_COUNT, WINDOW, generate, write_sample
from pulse_producer.sources.synthetic import SyntheticSource

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "data" / "sample" / "posts.jsonl.gz"


@pytest.fixture(scope="module")
def sample_posts():
    lines = gzip.decompress(COMMITTED.read_bytes()).splitlines()
    return lines, [e.post for line in lines for e in parse_line(line)]


def test_the_committed_sample_is_exactly_what_the_generator_writes(tmp_path):
    out = tmp_path / "posts.jsonl.gz"
    write_sample(out)
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_the_sample_has_at_least_2000_v2_lines_that_all_parse(sample_posts):
    lines, posts = sample_posts
    assert len(lines) == DEFAULT_COUNT >= 2000
    assert len(posts) == len(lines) and len({p.id for p in posts}) == len(posts)
    assert all(p.source_format == "x_v2" and p.id.startswith("x:") for p in posts)


def test_sample_posts_span_the_14_days_before_the_fixed_anchor(sample_posts):
    _, posts = sample_posts
    times = [p.created_at for p in posts]
    assert ANCHOR - WINDOW <= min(times) and max(times) <= ANCHOR
    assert max(times) - min(times) > timedelta(days=13)
    assert len({t.date() for t in times}) >= 14


def test_the_sample_has_every_kind_of_post_and_account(sample_posts):
    _, posts = sample_posts
    kinds = collections.Counter(p.post_type for p in posts)
    assert min(kinds[k] for k in ("original", "reply", "quote", "retweet")) >= 100
    assert sum(1 for p in posts if p.lang != "en") >= 20
    assert sum(1 for p in posts if p.hashtags) >= 500 and sum(1 for p in posts if p.urls) >= 100
    assert sum(1 for p in posts if p.mentions) >= 300 and sum(1 for p in posts if p.geo) >= 20
    authors = {p.author.id: p.author for p in posts}
    followers = sorted(a.followers for a in authors.values())
    assert followers[len(followers) // 2] < 500 and followers[-1] > 100_000  # heavy tail
    assert 0 < sum(a.verified for a in authors.values()) < len(authors) // 5
    bots = [a for a in authors.values() if a.following > 1500 and a.followers < 20 and a.posts_count > 10_000]
    assert len(bots) >= 5


def test_sample_opinions_cover_every_brand_and_every_taxonomy_aspect(sample_posts):
    _, posts = sample_posts
    tracking = load_tracking_config()
    texts = [p.text.lower() for p in posts]
    for brand in tracking.brands:
        assert sum(any(t.lower() in text for t in brand.terms) for text in texts) >= 100, brand.id
    for aspect in tracking.aspects:
        assert sum(any(term in text for term in aspect.terms) for text in texts) >= 20, aspect.id
    assert any(" but " in text for text in texts)


def test_the_synthetic_source_is_deterministic_for_a_seed_and_keys_posts_synthetic_n():
    def texts(seed: int) -> list[str]:
        return [i.event.post.text for i in SyntheticSource(count=50, seed=seed).items()]

    assert texts(5) == texts(5) and texts(5) != texts(6)
    items = list(SyntheticSource(count=300, seed=5).items())
    assert [i.event.post.id for i in items] == [f"synthetic:{n}" for n in range(300)]
    refs = [i.event.post for i in items if i.event.post.referenced_id]
    assert refs and all(p.network == "synthetic" and p.referenced_id.startswith("synthetic:") for p in refs)
    ids = {i.event.post.id for i in items}
    assert all(p.referenced_id in ids for p in refs)


def test_the_generator_output_can_be_written_plain_too(tmp_path):
    out = tmp_path / "posts.jsonl"
    assert write_sample(out, count=30) == 30
    assert len(io.BytesIO(out.read_bytes()).readlines()) == 30
    assert [m.n for m in generate(5)] == [0, 1, 2, 3, 4]
