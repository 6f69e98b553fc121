"""The small statistics behind the views: net sentiment with its confidence interval, the spike
detector and the influencer score. Pure functions, unit-tested without OpenSearch.

Net sentiment
    net = (positive - negative) / total, in [-1, 1]. Each post (or aspect mention) is a draw of
    X in {+1, 0, -1}; with p = positive/total and n = negative/total, Var(X) = p + n - (p - n)^2,
    so the 95 % interval is net ± 1.96 · sqrt(Var(X) / total), clipped to [-1, 1]. With fewer than
    2 observations the interval is the whole [-1, 1].

Spikes (volume per product, and alerts per product × aspect × polarity)
    For each bucket t with at least MIN_HISTORY earlier buckets, take the previous WINDOW buckets
    as the baseline: mean μ and standard deviation σ. The score is
        z = (x_t - μ) / max(σ, sqrt(μ), 1)
    (the Poisson floor sqrt(μ) keeps a quiet series from alerting on 0 -> 2). A bucket is a spike
    when z ≥ threshold (default 3) and x_t ≥ min_count (default 5).

Influencer score (advocates and detractors)
    Per author over the filtered posts:
        stance     = mean sentiment score of the author's posts, in [-1, 1]
        reach      = log10(1 + followers)
        engagement = log10(1 + total engagement on those posts)
        volume     = log2(1 + number of posts)
        spam       = share of the author's posts that carry a spam/bot flag
        score      = stance · (reach + engagement) · volume · (1 - 0.8 · spam)
    Advocates are the highest positive scores, detractors the most negative ones. A loud account
    that posts once and neutrally scores ~0; a small account with many engaged, pointed posts
    ranks above a celebrity's single lukewarm mention; a flagged bot keeps at most 20 %.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW = 12
MIN_HISTORY = 4
Z_THRESHOLD = 3.0
MIN_COUNT = 5


def net_sentiment(positive: int, negative: int, total: int) -> dict[str, float | int | None]:
    if total <= 0:
        return {"net": None, "ci_low": None, "ci_high": None, "n": 0}
    p, n = positive / total, negative / total
    net = p - n
    if total < 2:
        low, high = -1.0, 1.0
    else:
        var = max(0.0, p + n - net * net)
        half = 1.96 * math.sqrt(var / total)
        low, high = max(-1.0, net - half), min(1.0, net + half)
    return {"net": round(net, 4), "ci_low": round(low, 4), "ci_high": round(high, 4), "n": total}


@dataclass(frozen=True)
class Spike:
    index: int
    value: float
    baseline: float
    z: float


def spikes(
    values: Sequence[float],
    *,
    window: int = WINDOW,
    min_history: int = MIN_HISTORY,
    threshold: float = Z_THRESHOLD,
    min_count: float = MIN_COUNT,
) -> list[Spike]:
    out: list[Spike] = []
    for i in range(min_history, len(values)):
        x = values[i]
        if x < min_count:  # never a spike: skip the baseline (most buckets of a sparse series)
            continue
        history = values[max(0, i - window) : i]
        mean = sum(history) / len(history)
        std = math.sqrt(sum((v - mean) ** 2 for v in history) / len(history))
        z = (x - mean) / max(std, math.sqrt(mean), 1.0)
        if z >= threshold:
            out.append(Spike(index=i, value=x, baseline=round(mean, 3), z=round(z, 3)))
    return out


def influencer_score(
    *, stance: float, followers: int, engagement: int, posts: int, flagged_posts: int
) -> float:
    if posts <= 0:
        return 0.0
    reach = math.log10(1 + max(0, followers))
    eng = math.log10(1 + max(0, engagement))
    volume = math.log2(1 + posts)
    spam = min(1.0, max(0.0, flagged_posts / posts))
    return round(stance * (reach + eng) * volume * (1 - 0.8 * spam), 4)
