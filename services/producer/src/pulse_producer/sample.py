"""Deterministic generator of realistic posts about the tracked phones (all prose is original templates).

Used two ways:
- `python -m pulse_producer.sample --out data/sample/posts.jsonl.gz` writes the bundled sample: X API v2
  JSON lines (`{"data": {...}, "includes": {"users": [...], ...}}`), created_at spread over the 14 days
  before a fixed date (ANCHOR), so the same seed always gives byte-identical output.
- the `synthetic` source draws from the same generator with live timestamps.

What it models: users with power-law follower counts, verified flags and account ages; a handful of
spam/bot accounts; originals, replies, quotes and retweets; hashtags, mentions, URLs, emojis; a few
non-English posts; aspect phrases with positive and negative opinions across the taxonomy in
config/tracking.yaml, with per-brand tendencies (and a battery complaint wave after a Nova 12 update).
Brands, accounts and links are fictional (example.com). The vocabulary is data (sample_words.json);
sample_text.Writer turns it into texts and entities.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from pulse_producer.sample_text import (
    ASPECT_WORD,
    BIO,
    BRANDS,
    CITIES,
    FIRST_NAMES,
    FOREIGN,
    HANDLE_A,
    HANDLE_B,
    SPAM,
    Writer,
)

ANCHOR = datetime(2026, 11, 24, 18, 0, 0, tzinfo=UTC)  # fixed: determinism
WINDOW = timedelta(days=14)
DEFAULT_COUNT = 2400
DEFAULT_SEED = 12
TWITTER_EPOCH_MS = 1288834974657
UPDATE_DAY = ANCHOR - timedelta(days=5, hours=6)  # "Nova 12 update 2.1" day: battery complaints rise

# ------------------------------------------------------------------ model


@dataclass
class User:
    id: str
    username: str
    name: str
    followers: int
    following: int
    tweets: int
    listed: int
    verified: bool
    created_at: datetime
    bio: str
    bot: bool = False
    brand: str | None = None

    def v2(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "username": self.username,
            "name": self.name,
            "created_at": _iso(self.created_at),
            "verified": self.verified,
            "description": self.bio,
            "public_metrics": {
                "followers_count": self.followers,
                "following_count": self.following,
                "tweet_count": self.tweets,
                "listed_count": self.listed,
            },
        }


@dataclass
class Made:
    """One generated post: its sequence number, the v2 document, and what it references."""

    n: int
    doc: dict[str, Any]
    ref_n: int | None = None
    kind: str = "original"


@dataclass
class _Posted:
    n: int
    tweet: dict[str, Any]
    user: User
    weight: float
    brand: str | None
    polarity: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Generator:
    """Stateful, deterministic post generator. Call `make(created_at)` with non-decreasing times."""

    def __init__(self, seed: int = DEFAULT_SEED, *, n_users: int = 700, anchor: datetime = ANCHOR) -> None:
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.users: list[User] = []
        self.bots: list[User] = []
        self.brand_users: dict[str, User] = {}
        self._n = 0
        self._seq = 0
        self._last_ms = 0
        self._recent: list[_Posted] = []
        self._make_users(n_users)
        self.text = Writer(self.rng, self.brand_users, self._recent_users, update_day=UPDATE_DAY)
        self._user_weights = [1.0 + min(u.followers, 50_000) ** 0.25 for u in self.users]

    # -------------------------------------------------------------- users

    def _uid(self) -> str:
        return str(self.rng.randrange(10**9, 10**19))

    def _make_users(self, count: int) -> None:
        rng = self.rng
        taken: set[str] = set()
        for brand_id, info in BRANDS.items():
            user = User(
                id=self._uid(),
                username=info["account"],
                name=info["company"],
                followers=rng.randrange(400_000, 2_500_000),
                following=rng.randrange(20, 300),
                tweets=rng.randrange(5_000, 30_000),
                listed=rng.randrange(1_000, 9_000),
                verified=True,
                created_at=self.anchor - timedelta(days=rng.randrange(2_500, 4_500)),
                bio=f"Official account of {info['company']}.",
                brand=brand_id,
            )
            self.brand_users[brand_id] = user
            taken.add(user.username.lower())
        for _ in range(count):
            while True:
                handle = rng.choice(HANDLE_A) + rng.choice(["", "_", ""]) + rng.choice(HANDLE_B)
                if rng.random() < 0.5:
                    handle += str(rng.randrange(1, 999))
                if handle.lower() not in taken:
                    taken.add(handle.lower())
                    break
            followers = min(int(rng.paretovariate(1.05) * 25) - 25 + rng.randrange(0, 40), 3_000_000)
            verified = rng.random() < (0.75 if followers > 100_000 else 0.3 if followers > 10_000 else 0.02)
            age_days = int(min(rng.expovariate(1 / 1800) + 40, 6200))
            self.users.append(
                User(
                    id=self._uid(),
                    username=handle,
                    name=f"{rng.choice(FIRST_NAMES)} {rng.choice(string.ascii_uppercase)}.",
                    followers=followers,
                    following=int(min(rng.lognormvariate(5.5, 1.1), 7_500)),
                    tweets=int(age_days * rng.lognormvariate(0.5, 1.2)) + 1,
                    listed=followers // rng.randrange(60, 400),
                    verified=verified,
                    created_at=self.anchor - timedelta(days=age_days, seconds=rng.randrange(86_400)),
                    bio=rng.choice(BIO),
                )
            )
        for i in range(18):
            handle = (
                rng.choice(["deals", "free_phone", "promo", "giveaway", "win_now"])
                + f"_{rng.randrange(1000, 99999)}"
            )
            self.bots.append(
                User(
                    id=self._uid(),
                    username=handle,
                    name=rng.choice(["Deals", "Giveaway HQ", "Promo Bot", "Win Big"]),
                    followers=rng.randrange(0, 12),
                    following=rng.randrange(2_000, 5_000),
                    tweets=rng.randrange(20_000, 90_000),
                    listed=0,
                    verified=False,
                    created_at=self.anchor - timedelta(days=rng.randrange(1, 30), seconds=i),
                    bio="",
                    bot=True,
                )
            )

    # -------------------------------------------------------------- ids and text pieces

    def _tweet_id(self, created: datetime) -> str:
        ms = int(created.timestamp() * 1000)
        if ms == self._last_ms:
            self._seq += 1
        else:
            self._last_ms, self._seq = ms, 0
        return str(((ms - TWITTER_EPOCH_MS) << 22) | (7 << 12) | (self._seq & 0xFFF))

    def _recent_users(self) -> Iterator[User]:
        for posted in self._recent[-200:]:
            yield posted.user

    def _metrics(self, user: User, score: float) -> dict[str, int]:
        rng = self.rng
        reach = (user.followers + 10) ** 0.6
        likes = int(reach * rng.lognormvariate(-1.0, 1.0) * (1.3 if abs(score) > 0.5 else 1.0))
        return {
            "retweet_count": int(likes * rng.uniform(0.02, 0.25)),
            "reply_count": int(likes * rng.uniform(0.01, 0.12)),
            "like_count": likes,
            "quote_count": int(likes * rng.uniform(0.0, 0.05)),
        }

    # -------------------------------------------------------------- posts

    def _base_tweet(
        self,
        user: User,
        created: datetime,
        text: str,
        lang: str,
        entities: dict[str, Any],
        metrics: dict[str, int],
    ) -> dict[str, Any]:
        tid = self._tweet_id(created)
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "author_id": user.id,
            "created_at": _iso(created),
            "lang": lang,
            "conversation_id": tid,
            "edit_history_tweet_ids": [tid],
            "possibly_sensitive": False,
            "public_metrics": metrics,
        }
        if entities:
            tweet["entities"] = entities
        return tweet

    def _pick_user(self) -> User:
        return self.rng.choices(self.users, weights=self._user_weights)[0]

    def _pick_target(self) -> _Posted | None:
        if not self._recent:
            return None
        window = self._recent[-400:]
        return self.rng.choices(window, weights=[p.weight for p in window])[0]

    def make(self, created: datetime) -> Made:
        """One post at `created` (originals, replies, quotes, retweets, spam, non-English, news)."""
        rng = self.rng
        roll = rng.random()
        target = self._pick_target()
        if target is not None and roll < 0.14:
            return self._retweet(created, target)
        if target is not None and roll < 0.28:
            return self._reply(created, target)
        if target is not None and roll < 0.33:
            return self._quote(created, target)
        if roll < 0.355:
            return self._spam(created)
        if roll < 0.375:
            return self._foreign(created)
        brand = self.text.brand()
        if roll < 0.40:
            user = self.brand_users[brand] if rng.random() < 0.5 else self._pick_user()
            return self._original(created, user, brand, self.text.news(brand), 0.0)
        if roll < 0.47:
            return self._original(created, self._pick_user(), brand, self.text.neutral(brand), 0.0)
        if roll < 0.51:
            text, score = self.text.comparison(brand)
            return self._original(created, self._pick_user(), brand, text, score)
        text, score = self.text.opinion(brand, created)
        return self._original(created, self._pick_user(), brand, text, score)

    def _next_n(self) -> int:
        n = self._n
        self._n += 1
        return n

    def _remember(self, posted: _Posted) -> None:
        self._recent.append(posted)
        if len(self._recent) > 2000:
            del self._recent[:1000]

    def _original(
        self, created: datetime, user: User, brand: str | None, text: str, score: float, lang: str = "en"
    ) -> Made:
        text, entities = self.text.decorate(text, brand, score, user)
        metrics = self._metrics(user, score)
        tweet = self._base_tweet(user, created, text, lang, entities, metrics)
        includes: dict[str, Any] = {"users": [user.v2()]}
        if self.rng.random() < 0.03:
            name, bbox = self.rng.choice(CITIES)
            place_id = f"{CITIES.index((name, bbox)) + 1:016x}"
            tweet["geo"] = {"place_id": place_id}
            includes["places"] = [
                {"id": place_id, "full_name": name, "geo": {"type": "Feature", "bbox": bbox}}
            ]
        n = self._next_n()
        self._remember(_Posted(n, tweet, user, 1.0 + metrics["like_count"], brand, score))
        return Made(n=n, doc={"data": tweet, "includes": includes})

    def _spam(self, created: datetime) -> Made:
        bot = self.rng.choice(self.bots)
        brand = self.text.brand()
        url = self.text.short_url()
        text = self.rng.choice(SPAM).format(b=BRANDS[brand]["names"][0], url=url)
        entities = self.text.entities(
            text,
            {
                "urls": [
                    {
                        "url": url,
                        "expanded_url": f"https://deals.example.net/{self.rng.randrange(10**6)}",
                        "display_url": "deals.example.net/…",
                    }
                ]
            },
            bot,
        )
        tweet = self._base_tweet(
            bot,
            created,
            text,
            "en",
            entities,
            {"retweet_count": 0, "reply_count": 0, "like_count": self.rng.randrange(0, 3), "quote_count": 0},
        )
        n = self._next_n()
        return Made(n=n, doc={"data": tweet, "includes": {"users": [bot.v2()]}}, kind="spam")

    def _foreign(self, created: datetime) -> Made:
        lang = self.rng.choice(list(FOREIGN))
        brand = self.text.brand()
        text = self.rng.choice(FOREIGN[lang]).format(b=BRANDS[brand]["names"][0])
        return self._original(created, self._pick_user(), brand, text, 0.0, lang=lang)

    def _retweet(self, created: datetime, target: _Posted) -> Made:
        user = self._pick_user()
        original = target.tweet
        body = f"RT @{target.user.username}: {original['text']}"
        if len(body) > 140:
            body = body[:139] + "…"
        metrics = {
            "retweet_count": original["public_metrics"]["retweet_count"],
            "reply_count": 0,
            "like_count": 0,
            "quote_count": 0,
        }
        tweet = self._base_tweet(
            user, created, body, original["lang"], self.text.entities(body, {}, user), metrics
        )
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
        tweet["conversation_id"] = original["conversation_id"]
        includes = {"users": [user.v2(), target.user.v2()], "tweets": [original]}
        n = self._next_n()
        return Made(n=n, doc={"data": tweet, "includes": includes}, ref_n=target.n, kind="retweet")

    def _reply(self, created: datetime, target: _Posted) -> Made:
        rng = self.rng
        user = self._pick_user()
        brand = target.brand or self.text.brand()
        aspect = self.text.aspects(1)[0]
        clause, positive = self.text.clause(brand, aspect, created)
        b = self.text.brand_name(brand)
        text = rng.choice(
            [
                f"Same here, {clause}.",
                f"Really? On mine {clause}.",
                f"{clause[0].upper()}{clause[1:]} on my {b} too.",
                f"Totally agree. Also {clause}.",
                f"Try a factory reset, it helped my {ASPECT_WORD[aspect]} a lot.",
                "Weird, mine is fine. Maybe you got a bad unit?",
                f"Thanks for posting this, was about to order the {b}.",
            ]
        )
        score = 0.5 if positive else -0.5
        text = f"@{target.user.username} {text}"
        text, entities = self.text.decorate(text, None, score, user)
        metrics = self._metrics(user, score)
        metrics = {k: v // 4 for k, v in metrics.items()}
        tweet = self._base_tweet(user, created, text, "en", entities, metrics)
        tweet["referenced_tweets"] = [{"type": "replied_to", "id": target.tweet["id"]}]
        tweet["conversation_id"] = target.tweet["conversation_id"]
        tweet["in_reply_to_user_id"] = target.user.id
        includes = {"users": [user.v2(), target.user.v2()]}
        n = self._next_n()
        self._remember(_Posted(n, tweet, user, 1.0 + metrics["like_count"], brand, score))
        return Made(n=n, doc={"data": tweet, "includes": includes}, ref_n=target.n, kind="reply")

    def _quote(self, created: datetime, target: _Posted) -> Made:
        user = self._pick_user()
        brand = target.brand or self.text.brand()
        text, score = self.text.opinion(brand, created)
        text = self.rng.choice(["This. ", "Hard disagree. ", "Can confirm. ", "Counterpoint: ", ""]) + text
        link = self.text.short_url()
        text, entities = self.text.decorate(text, brand, score, user)
        text = f"{text} {link}"
        entities.setdefault("urls", []).append(
            {
                "start": len(text) - len(link),
                "end": len(text),
                "url": link,
                "expanded_url": f"https://x.com/{target.user.username}/status/{target.tweet['id']}",
                "display_url": f"x.com/{target.user.username}/s…",
            }
        )
        tweet = self._base_tweet(user, created, text, "en", entities, self._metrics(user, score))
        tweet["referenced_tweets"] = [{"type": "quoted", "id": target.tweet["id"]}]
        includes = {"users": [user.v2(), target.user.v2()], "tweets": [target.tweet]}
        n = self._next_n()
        self._remember(_Posted(n, tweet, user, 1.0 + tweet["public_metrics"]["like_count"], brand, score))
        return Made(n=n, doc={"data": tweet, "includes": includes}, ref_n=target.n, kind="quote")


# ------------------------------------------------------------------ timelines


def sample_times(rng: random.Random, count: int, anchor: datetime = ANCHOR) -> list[datetime]:
    """`count` sorted times over the 14 days before anchor: daily rhythm, growth, an update-day bump."""
    start = anchor - WINDOW
    out: list[datetime] = []
    total_s = int(WINDOW.total_seconds())
    while len(out) < count:
        offset = rng.randrange(total_s)
        moment = start + timedelta(seconds=offset, milliseconds=rng.randrange(1000))
        hour = moment.hour
        rhythm = 0.35 if 2 <= hour < 8 else 1.0 if 12 <= hour < 23 else 0.7
        bump = 2.0 if UPDATE_DAY <= moment <= UPDATE_DAY + timedelta(days=2) else 1.0
        growth = 0.7 + 0.6 * offset / total_s
        if rng.random() < rhythm * bump * growth / 2.0:
            out.append(moment)
    return sorted(out)


def generate(count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> Iterator[Made]:
    gen = Generator(seed)
    for moment in sample_times(random.Random(seed + 1), count):
        yield gen.make(moment)


def dumps_line(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc) + b"\n"


def write_sample(out: Path, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> int:
    """Write the sample (gzip when `out` ends in .gz, with a fixed mtime so bytes are reproducible)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    n = 0
    for made in generate(count, seed):
        buffer.write(dumps_line(made.doc))
        n += 1
    payload = buffer.getvalue()
    if out.suffix == ".gz":
        with (
            open(out, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        ):
            gz.write(payload)
    else:
        out.write_bytes(payload)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pulse_producer.sample",
        description="Write the deterministic sample dataset (X API v2 JSON lines; .gz suffix = gzip).",
    )
    parser.add_argument("--out", type=Path, default=Path("data/sample/posts.jsonl.gz"))
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    n = write_sample(args.out, args.count, args.seed)
    print(f"wrote {n} posts to {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
