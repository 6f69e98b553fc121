"""Request parameter validation and the statistics behind the views (no OpenSearch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pulse_dashboard import stats
from pulse_dashboard.filters import ParamError, parse_filters, parse_page, pick_interval

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_relative_ranges_count_back_from_until():
    f = parse_filters(since="7d", until="2026-11-20T00:00:00Z", now=NOW)
    assert f.until == datetime(2026, 11, 20, tzinfo=UTC)
    assert f.since == datetime(2026, 11, 13, tzinfo=UTC)
    assert parse_filters(since="24h", now=NOW).since == NOW - timedelta(hours=24)


def test_naive_dates_are_utc_and_ids_are_normalised():
    f = parse_filters(
        since="2026-11-01", until="2026-11-02T06:00", product="Nova,orbit", competitor=["lumen"], now=NOW
    )
    assert f.since == datetime(2026, 11, 1, tzinfo=UTC)
    assert f.brands == ["nova", "orbit", "lumen"]


def test_the_bool_filter_holds_only_validated_values():
    f = parse_filters(since="7d", product="nova", network="x", lang="en", now=NOW)
    clauses = f.clauses()
    assert {"terms": {"products": ["nova"]}} in clauses
    assert {"terms": {"network": ["x"]}} in clauses
    assert {"term": {"scored": True}} in clauses
    assert "scored" not in str(parse_filters(since="7d", include_unscored=True, now=NOW).clauses())


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"since": "last week"}, "since"),
        ({"since": "2026-11-25", "until": "2026-11-24"}, "since"),
        ({"since": "401d"}, "since"),
        ({"product": "nova phone"}, "product"),
        ({"product": ",".join(f"p{i}" for i in range(21))}, "product"),
        ({"network": "facebook"}, "network"),
        ({"lang": "english"}, "lang"),
        ({"until": "soon"}, "until"),
    ],
)
def test_bad_filters_raise_a_param_error_naming_the_parameter(kwargs, param):
    with pytest.raises(ParamError) as err:
        parse_filters(now=NOW, **kwargs)
    assert err.value.param == param and err.value.message


def test_the_auto_interval_keeps_the_histogram_between_30_and_120_buckets():
    for days, expected in ((1, "15m"), (7, "3h"), (30, "6h"), (90, "1d"), (400, "1w")):
        f = parse_filters(since=f"{days}d", now=NOW)
        name, seconds = pick_interval(f)
        assert name == expected
        assert (f.until - f.since).total_seconds() / seconds <= 120


def test_an_interval_that_would_give_too_many_buckets_is_refused():
    f = parse_filters(since="30d", now=NOW)
    with pytest.raises(ParamError):
        pick_interval(f, "5m")
    with pytest.raises(ParamError):
        pick_interval(f, "2h")
    assert pick_interval(f, "1d") == ("1d", 86400)


def test_pages_are_bounded():
    assert parse_page(3, 20, max_size=100) == (3, 20)
    for page, size in ((0, 10), (1, 0), (1, 101), (101, 100)):
        with pytest.raises(ParamError):
            parse_page(page, size, max_size=100)


def test_net_sentiment_has_a_95_percent_interval_that_narrows_with_more_posts():
    small = stats.net_sentiment(6, 2, 10)
    large = stats.net_sentiment(600, 200, 1000)
    assert small["net"] == large["net"] == 0.4
    # Var(X) = p + n - net^2 = 0.6 + 0.2 - 0.16 = 0.64 -> half width 1.96 * 0.8 / sqrt(N)
    assert large["ci_high"] - large["net"] == pytest.approx(1.96 * 0.8 / 1000**0.5, abs=1e-4)
    assert (small["ci_high"] - small["ci_low"]) > (large["ci_high"] - large["ci_low"])
    assert stats.net_sentiment(0, 0, 0)["net"] is None
    assert stats.net_sentiment(1, 0, 1) == {"net": 1.0, "ci_low": -1.0, "ci_high": 1.0, "n": 1}
    assert stats.net_sentiment(10, 0, 10)["ci_high"] <= 1.0


def test_a_jump_far_above_the_recent_baseline_is_a_spike_and_noise_is_not():
    flat = [10, 12, 9, 11, 10, 13, 9, 10, 11, 12]
    assert stats.spikes(flat) == []
    found = stats.spikes([*flat, 60, 11])
    assert [s.index for s in found] == [10]
    assert found[0].z >= 3 and found[0].baseline == pytest.approx(10.7, abs=0.01)


def test_a_quiet_series_does_not_alert_on_a_handful_of_posts():
    assert stats.spikes([0, 0, 0, 0, 0, 0, 3]) == []  # below min_count
    assert stats.spikes([0, 0, 0, 0, 0, 0, 6]) != []  # the Poisson floor of 1 lets a real burst through


def test_the_spike_detector_finds_exactly_what_its_documented_definition_finds():
    import math
    import random

    def by_definition(values, threshold, min_count):  # every bucket scored, as the docstring says
        out = []
        for i in range(stats.MIN_HISTORY, len(values)):
            history = values[max(0, i - stats.WINDOW) : i]
            mean = sum(history) / len(history)
            std = math.sqrt(sum((v - mean) ** 2 for v in history) / len(history))
            z = (values[i] - mean) / max(std, math.sqrt(mean), 1.0)
            if z >= threshold and values[i] >= min_count:
                out.append((i, values[i], round(mean, 3), round(z, 3)))
        return out

    rng = random.Random(7)
    for _ in range(300):
        scale = rng.choice([0.5, 3, 20])
        values = [int(rng.expovariate(1 / scale)) for _ in range(rng.randint(0, 60))]
        threshold, min_count = rng.choice([(3.0, 5), (2.5, 3), (1.0, 1)])
        got = stats.spikes(values, threshold=threshold, min_count=min_count)
        expected = by_definition(values, threshold, min_count)
        assert [(s.index, s.value, s.baseline, s.z) for s in got] == expected


def test_influence_is_not_follower_count_alone():
    celebrity_lukewarm = stats.influencer_score(
        stance=0.05, followers=2_000_000, engagement=50, posts=1, flagged_posts=0
    )
    engaged_advocate = stats.influencer_score(
        stance=0.8, followers=3_000, engagement=900, posts=6, flagged_posts=0
    )
    assert engaged_advocate > celebrity_lukewarm > 0
    detractor = stats.influencer_score(stance=-0.7, followers=3_000, engagement=900, posts=6, flagged_posts=0)
    assert detractor == pytest.approx(-engaged_advocate * 0.7 / 0.8, rel=1e-3)


def test_bot_flags_discount_an_author_by_up_to_80_percent():
    clean = stats.influencer_score(stance=0.8, followers=3_000, engagement=900, posts=6, flagged_posts=0)
    half = stats.influencer_score(stance=0.8, followers=3_000, engagement=900, posts=6, flagged_posts=3)
    bot = stats.influencer_score(stance=0.8, followers=3_000, engagement=900, posts=6, flagged_posts=6)
    assert clean > half > bot == pytest.approx(clean * 0.2, rel=1e-3)
