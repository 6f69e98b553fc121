"""Deterministic EnrichedPost-shaped data for the dashboard's tests, benchmark and offline demos.

Not a replacement for the producer's sample: it skips the enricher and writes what the enricher
would output, fast (100,000 posts in a few seconds), with planted structure the views must
surface: a negative battery spike for the first product near the end of the range, a new
complaint term ("greenline") that is not in the taxonomy, advocates/detractors and flagged bots.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pulse_common.schema import (
    AspectMention,
    Author,
    BrandMention,
    Engagement,
    EnrichedPost,
    Influence,
    Sentiment,
)
from pulse_common.tracking import TrackingConfig

OPINIONS = {
    "positive": ["amazing", "great", "fantastic", "excellent", "love the", "impressive", "solid", "smooth"],
    "negative": ["terrible", "awful", "disappointing", "broken", "hate the", "laggy", "poor", "useless"],
    "neutral": ["okay", "average", "fine", "normal", "standard", "typical"],
}
NETWORKS = ("x", "bluesky", "synthetic")
LANGS = ("en", "en", "en", "en", "es", "pt")
FILLER = ["honestly", "today", "after a week", "so far", "ngl", "update:", "again", "finally", "tbh", "lol"]


def generate(
    n: int,
    tracking: TrackingConfig,
    *,
    end: datetime | None = None,
    days: float = 14.0,
    seed: int = 7,
    authors: int | None = None,
    spike: bool = True,
) -> Iterator[EnrichedPost]:
    rnd = random.Random(seed)
    end = end or datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=days)
    span_s = (end - start).total_seconds()
    brands = tracking.brands
    first = tracking.products[0]
    aspects = tracking.aspects
    n_authors = authors or max(5, n // 6)
    pool = []
    for i in range(n_authors):
        followers = int(rnd.lognormvariate(5.0, 2.0))
        bot = rnd.random() < 0.05
        pool.append(
            {
                "id": f"u{i}",
                "username": f"user_{i}",
                "followers": min(followers, 50_000_000),
                "following": rnd.randint(0, 3000) if not bot else rnd.randint(3000, 9000),
                "verified": rnd.random() < 0.02,
                "bot": bot,
                "bias": rnd.choice([0.6, 0.0, 0.0, -0.6]),
            }
        )
    spike_start = end - timedelta(hours=18)
    battery = next((a for a in aspects if a.id == "battery"), aspects[0])
    for i in range(n):
        in_spike = spike and i % 9 == 0
        if in_spike:
            created = spike_start + timedelta(seconds=rnd.uniform(0, 6 * 3600))
            brand = first
        else:
            created = start + timedelta(seconds=rnd.uniform(0, span_s))
            brand = rnd.choice(brands)
        author = rnd.choice(pool)
        brand_ids = [brand.id]
        if rnd.random() < 0.15:
            other = rnd.choice(brands)
            if other.id != brand.id:
                brand_ids.append(other.id)
        mentions = []
        parts = [rnd.choice(FILLER), f"the {brand.name}"]
        n_aspects = rnd.choice([0, 1, 1, 1, 2])
        chosen = [battery] if in_spike else rnd.sample(aspects, k=min(n_aspects, len(aspects)))
        for asp in chosen:
            if in_spike:
                pol = "negative"
            else:
                r = rnd.random() + author["bias"] * 0.3
                pol = "positive" if r > 0.55 else "negative" if r < 0.3 else "neutral"
            word = rnd.choice(OPINIONS[pol])
            term = rnd.choice(asp.terms)
            score = {
                "positive": rnd.uniform(0.2, 1.0),
                "negative": -rnd.uniform(0.2, 1.0),
                "neutral": rnd.uniform(-0.1, 0.1),
            }[pol]
            parts.append(f"{term} is {word}")
            mentions.append(
                AspectMention(
                    aspect=asp.id,
                    term=term,
                    category=asp.category,
                    polarity=pol,
                    score=round(score, 3),
                    opinions=[word.split()[-1]],
                    product=brand.id if rnd.random() < 0.85 else None,
                )
            )
        if in_spike:
            parts.append(
                rnd.choice(
                    [
                        "greenline on the screen after charging",
                        "drains overnight greenline",
                        "battery drain since the update",
                    ]
                )
            )
        if not mentions:
            pol = rnd.choice(["positive", "neutral", "negative"])
            parts.append(rnd.choice(OPINIONS[pol]))
        pos = sum(m.polarity == "positive" for m in mentions)
        neg = sum(m.polarity == "negative" for m in mentions)
        if mentions:
            label = "positive" if pos > neg else "negative" if neg > pos else "neutral"
        else:
            label = pol
        s_score = {
            "positive": rnd.uniform(0.1, 0.9),
            "negative": -rnd.uniform(0.1, 0.9),
            "neutral": rnd.uniform(-0.05, 0.05),
        }[label]
        tags = []
        if rnd.random() < 0.4:
            tags.append(rnd.choice(brand.hashtags or [brand.id]))
        if in_spike and rnd.random() < 0.5:
            tags.append("NovaBatteryGate".lower())
        if author["bot"]:
            tags += ["deal", "giveaway", "free", "promo", "win", "follow"]
        text = " ".join(parts) + "".join(f" #{t}" for t in tags)
        likes = int(rnd.expovariate(1 / 8))
        network = NETWORKS[i % 3]
        post_type = "retweet" if rnd.random() < 0.05 else "original"
        flags = ["hashtag_stuffing", "follow_ratio"] if author["bot"] else []
        yield EnrichedPost(
            id=f"{network}:{seed}-{i}",
            network=network,
            native_id=f"{seed}-{i}",
            created_at=created,
            text=text,
            lang=rnd.choice(LANGS),
            author=Author(
                id=author["id"],
                username=author["username"],
                name=author["username"].title(),
                followers=author["followers"],
                following=author["following"],
                verified=author["verified"],
            ),
            post_type=post_type,
            engagement=Engagement(likes=likes, reposts=likes // 4, replies=likes // 6, quotes=0),
            hashtags=tags,
            source_format="synthetic",
            version=int(created.timestamp() * 1000),
            text_normalized=text.lower(),
            brands=[BrandMention(id=b, kind=tracking.brand_kind(b), term=b) for b in brand_ids],  # type: ignore[arg-type]
            products=brand_ids,
            sentiment=Sentiment(label=label, score=round(s_score, 3), confidence=0.8),
            aspects=mentions,
            influence=Influence(
                score=round(rnd.uniform(0, 8), 3),
                followers=author["followers"],
                following=author["following"],
                verified=author["verified"],
                engagement=likes + likes // 4 + likes // 6,
            ),
            flags=flags,
            scored=post_type != "retweet",
            enrichment_version="synthetic-1",
            ingested_at=created + timedelta(seconds=2),
            enriched_at=created + timedelta(seconds=3),
        )
