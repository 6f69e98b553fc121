"""Speed of the whole enrichment core on one core: `Enricher.enrich` over realistic posts.

Prints:
  bench: enrich_posts_per_s <value>       posts per CPU-second of the one core this process is
                                          pinned to (best of 3 passes over 4,000 synthetic posts)
  bench: enrich_wall_posts_per_s <value>  the same passes by wall clock (lower when other work
                                          shares the core: the machine has 2 cores for everyone)
  bench: enrich_peak_rss_mb <value>       peak resident memory of this process (models loaded)

The posts are generated here, deterministically: opinions about the tracked products and
competitors (config/tracking.yaml) and their features, with hashtags, mentions, URLs,
emojis, HTML entities, replies, ~10% retweets, ~3% non-English, some spam-like posts;
80% carry the network's language tag, as X and Bluesky posts usually do.
The process is pinned to one CPU and numeric libraries to one thread. A duplicate
tracker is passed, as the enricher service does.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import random  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from pulse_common.schema import Author, Engagement, Post  # noqa: E402
from pulse_common.tracking import load_tracking_config  # noqa: E402

N_POSTS = 4_000
PASSES = 3

BRANDS = [
    "Nova 12",
    "the Nova 12",
    "Nova phone",
    "#Nova12",
    "my Nova12",
    "Orbit S5",
    "#OrbitS5",
    "Lumen Pro",
    "the LumenPro",
    "Nova 12 Lite",
]
FEATURES = [
    "battery life",
    "battery",
    "camera",
    "night mode",
    "screen",
    "refresh rate",
    "face id",
    "fingerprint sensor",
    "speakers",
    "price",
    "software update",
    "charging",
    "zoom",
    "build quality",
    "5G signal",
    "keyboard",
    "customer support",
    "the UI",
    "performance",
    "heat",
]
GOOD = [
    "is great",
    "is amazing",
    "is so good",
    "is insanely fast",
    "is really solid",
    "looks gorgeous",
    "is the best I've had",
    "is not bad at all",
    "works perfectly",
    "is super smooth",
]
BAD = [
    "is terrible",
    "is flaky",
    "is not good",
    "keeps crashing",
    "drains way too fast",
    "is laggy",
    "is a joke",
    "is disappointing",
    "overheats constantly",
    "is way too expensive",
]
NEUTRAL = ["has been updated", "is 6.7 inches", "ships next week", "was announced today", "comes in blue"]
EMOJIS = ["😍", "🔥", "😡", "🙄", "👍", "💯", "😂", "🔋", ""]
OPENERS = ["", "Honestly ", "ok so ", "Day 3 with the phone: ", "PSA: ", "lol ", "Update: "]
FOREIGN = [
    "La batería del Nova 12 es muy mala y la cámara no me gusta",
    "Le Nova 12 est vraiment génial mais la batterie est nulle",
    "Das Orbit S5 ist gut aber zu teuer",
    "Nova 12のカメラは最高です",
]


def clause(rng: random.Random) -> str:
    feature = rng.choice(FEATURES)
    r = rng.random()
    opinion = rng.choice(GOOD if r < 0.45 else BAD if r < 0.85 else NEUTRAL)
    return f"the {feature} {opinion}"


def make_posts(n: int, seed: int = 7) -> list[Post]:
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    posts = []
    for i in range(n):
        r = rng.random()
        post_type = "original"
        lang: str | None = "en"
        if r < 0.03:
            text = rng.choice(FOREIGN)
            lang = None if rng.random() < 0.5 else "es"
        else:
            brand = rng.choice(BRANDS)
            parts = [f"{rng.choice(OPENERS)}{brand}: {clause(rng)}"]
            if rng.random() < 0.6:
                parts.append(rng.choice([" but ", ", however ", " and ", ". Also "]) + clause(rng))
            if rng.random() < 0.25:
                parts.append(f". Switching from {rng.choice(BRANDS)}?")
            text = "".join(parts) + " " + rng.choice(EMOJIS)
            if rng.random() < 0.3:
                text += " #" + rng.choice(["android", "tech", "nova12", "phones", "review"])
            if rng.random() < 0.2:
                text = f"@{rng.choice(['techguy', 'novasupport', 'jane_doe'])} " + text
            if rng.random() < 0.15:
                text += f" https://example.com/r/{rng.randrange(10**6)}"
            if rng.random() < 0.05:
                text = text.replace(" and ", " &amp; ")
            if rng.random() < 0.03:
                text += " #win #free #giveaway #nova12 #deal #promo"
            if r < 0.13:
                post_type = "retweet"
                text = f"RT @{rng.choice(['techguy', 'gadgetnews'])}: {text}"
            elif r < 0.30:
                post_type = "reply"
        created = start + timedelta(seconds=i * 7)
        author = Author(
            id=f"u{rng.randrange(5_000)}",
            username=f"user{i % 997}",
            followers=int(rng.lognormvariate(5, 2)),
            following=rng.randrange(2_000),
            posts_count=rng.randrange(50_000),
            verified=rng.random() < 0.02,
            created_at=created - timedelta(days=rng.randrange(1, 4_000)),
        )
        posts.append(
            Post(
                id=f"synthetic:{i}",
                network="synthetic",
                native_id=str(i),
                created_at=created,
                text=text,
                author=author,
                post_type=post_type,
                version=1_000_000 + i,
                lang=lang if rng.random() < 0.8 else None,  # networks tag most posts; some come untagged
                engagement=Engagement(
                    likes=rng.randrange(200), reposts=rng.randrange(30), replies=rng.randrange(20)
                ),
            )
        )
    return posts


def main() -> int:
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})
    except (AttributeError, OSError):
        pass
    from pulse_enricher.nlp import DuplicateTracker, Enricher

    enricher = Enricher(load_tracking_config())
    posts = make_posts(N_POSTS)
    for post in posts[:300]:  # warm caches (lemmas, numpy)
        enricher.enrich(post)
    best_cpu = best_wall = 0.0
    for _ in range(PASSES):
        tracker = DuplicateTracker()
        w0, c0 = time.perf_counter(), time.thread_time()
        for post in posts:
            enricher.enrich(post, duplicates=tracker)
        c1, w1 = time.thread_time(), time.perf_counter()
        best_cpu = max(best_cpu, len(posts) / (c1 - c0))
        best_wall = max(best_wall, len(posts) / (w1 - w0))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"bench: enrich_posts_per_s {best_cpu:.0f}")
    print(f"bench: enrich_wall_posts_per_s {best_wall:.0f}")
    print(f"bench: enrich_peak_rss_mb {peak_mb:.1f}")
    print(f"# {enricher.version}, {N_POSTS} posts x {PASSES} passes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
