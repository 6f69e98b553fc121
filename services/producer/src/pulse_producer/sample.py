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
Brands, accounts and links are fictional (example.com).
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

ANCHOR = datetime(2026, 11, 24, 18, 0, 0, tzinfo=UTC)  # fixed: determinism
WINDOW = timedelta(days=14)
DEFAULT_COUNT = 2400
DEFAULT_SEED = 12
TWITTER_EPOCH_MS = 1288834974657
UPDATE_DAY = ANCHOR - timedelta(days=5, hours=6)  # "Nova 12 update 2.1" day: battery complaints rise

# ------------------------------------------------------------------ vocabulary

BRANDS: dict[str, dict[str, Any]] = {
    "nova": {
        "names": ["Nova 12"] * 8 + ["Nova12", "Nova 12 phone", "Nova phone"],
        "tags": ["nova12", "novaphone"],
        "account": "NovaMobile",
        "company": "Nova Mobile",
        "weight": 0.55,
        # P(positive) per aspect; missing = 0.5
        "bias": {
            "battery": 0.72,
            "camera": 0.68,
            "display": 0.7,
            "face_id": 0.3,
            "price": 0.4,
            "software": 0.55,
            "design": 0.75,
            "performance": 0.62,
            "support": 0.35,
        },
    },
    "orbit": {
        "names": ["Orbit S5"] * 6 + ["OrbitS5", "Orbit phone"],
        "tags": ["orbits5"],
        "account": "OrbitPhones",
        "company": "Orbit",
        "weight": 0.25,
        "bias": {
            "camera": 0.82,
            "battery": 0.35,
            "performance": 0.7,
            "price": 0.3,
            "software": 0.6,
            "audio": 0.65,
            "connectivity": 0.45,
        },
    },
    "lumen": {
        "names": ["Lumen Pro"] * 6 + ["LumenPro", "Lumen Pro phone"],
        "tags": ["lumenpro"],
        "account": "LumenTech",
        "company": "Lumen",
        "weight": 0.20,
        "bias": {
            "display": 0.85,
            "software": 0.3,
            "support": 0.25,
            "price": 0.65,
            "design": 0.6,
            "battery": 0.55,
            "connectivity": 0.4,
        },
    },
}

# Clauses name the feature with a term from the taxonomy; (positive, negative).
ASPECTS: dict[str, tuple[list[str], list[str]]] = {
    "battery": (
        [
            "battery life is great",
            "the battery easily lasts two days",
            "fast charging is ridiculously quick",
            "battery life is the best I've had on any phone",
            "it charges to 80% in about half an hour",
            "the battery barely drops overnight",
        ],
        [
            "battery drain is brutal",
            "the battery barely makes it to dinner",
            "charging is painfully slow",
            "battery life is disappointing",
            "the charger in the box is useless",
            "the battery drops 10% just sitting there",
        ],
    ),
    "camera": (
        [
            "the camera is stunning",
            "night mode photos look unreal",
            "portrait mode nails the edges",
            "the zoom is surprisingly sharp",
            "low light pictures come out clean",
            "video is super stable",
        ],
        [
            "the camera struggles in low light",
            "photos come out oversharpened",
            "the selfie camera is blurry",
            "video stabilization is shaky",
            "zoom shots are a smeary mess",
            "the camera app is slow to open",
        ],
    ),
    "display": (
        [
            "the screen is gorgeous",
            "the 120Hz refresh rate feels buttery",
            "brightness outdoors is excellent",
            "the OLED display is the best part",
            "colors on the display pop",
        ],
        [
            "the screen has a weird green tint",
            "brightness is too dim in sunlight",
            "the display scratches way too easily",
            "the refresh rate keeps dropping to 60Hz",
        ],
    ),
    "performance": (
        [
            "performance is snappy",
            "gaming runs smooth with zero lag",
            "the chip is an absolute beast",
            "apps open instantly",
            "it never stutters",
        ],
        [
            "it gets hot while gaming",
            "overheating on video calls is annoying",
            "there's noticeable lag opening apps",
            "the processor throttles after ten minutes",
        ],
    ),
    "face_id": (
        [
            "face unlock is instant",
            "the fingerprint sensor is fast and reliable",
            "face unlock works even in the dark",
        ],
        [
            "face unlock is flaky",
            "face recognition fails in the dark",
            "the fingerprint sensor misses half the time",
            "unlock takes three tries most mornings",
        ],
    ),
    "price": (
        [
            "the price is fair for what you get",
            "it's great value for money",
            "it's cheap for these specs",
            "the trade-in deal made the cost a no-brainer",
        ],
        [
            "it's way too expensive for what it is",
            "the price is hard to justify",
            "the cost went up again and I don't see why",
            "it's not worth the price",
        ],
    ),
    "software": (
        [
            "the software is clean with no bloatware",
            "updates arrive fast",
            "the UI is smooth and simple",
            "the new update actually fixed my issues",
        ],
        [
            "the software is full of bugs",
            "there's too much bloatware out of the box",
            "the latest update broke notifications",
            "apps keep crashing since the update",
        ],
    ),
    "design": (
        [
            "the design is gorgeous",
            "build quality feels premium",
            "I love the matte finish",
            "the weight feels perfect in hand",
            "the new colors look great",
        ],
        [
            "it's way too heavy",
            "the size is awkward for one hand",
            "the finish picks up fingerprints instantly",
            "build quality feels cheap for a flagship",
        ],
    ),
    "audio": (
        ["the speakers are loud and clear", "sound quality is great for a phone", "audio on calls is crisp"],
        ["the speaker crackles at high volume", "the audio sounds tinny", "I really miss the headphone jack"],
    ),
    "support": (
        [
            "customer support sorted my issue in ten minutes",
            "the warranty repair was painless",
            "delivery was quicker than promised",
        ],
        [
            "customer support has ignored me for a week",
            "the repair took a whole month",
            "shipping was delayed twice",
            "the warranty claim was a nightmare",
        ],
    ),
    "connectivity": (
        [
            "5G signal is strong everywhere I go",
            "wifi and bluetooth just work",
            "reception is better than my old phone",
        ],
        [
            "the signal drops in my building",
            "bluetooth keeps disconnecting from my earbuds",
            "5G reception is spotty",
            "wifi keeps dropping at home",
        ],
    ),
}
ASPECT_WEIGHTS = {
    "battery": 16,
    "camera": 16,
    "display": 9,
    "performance": 9,
    "face_id": 7,
    "price": 10,
    "software": 9,
    "design": 7,
    "audio": 4,
    "support": 6,
    "connectivity": 5,
}
ASPECT_WORD = {
    "battery": "battery life",
    "camera": "camera",
    "display": "screen",
    "performance": "performance",
    "face_id": "face unlock",
    "price": "price",
    "software": "software",
    "design": "design",
    "audio": "speakers",
    "support": "customer support",
    "connectivity": "signal",
}

POS_EMOJI = ["😍", "🔥", "👍", "🙌", "💯", "✨", "😊", "🤩", "📸", "🔋", "👌"]
NEG_EMOJI = ["😡", "👎", "😤", "🙄", "😩", "💀", "🤦", "😒", "🪫"]
NEUTRAL_EMOJI = ["🤔", "📱", "👀", "📦", "🧐"]
GENERIC_TAGS = ["android", "smartphone", "tech", "phonereview", "gadgets", "mobile"]

OPENERS = [
    "",
    "",
    "",
    "Honestly, ",
    "Ok so ",
    "Update: ",
    "PSA: ",
    "Hot take: ",
    "Not gonna lie, ",
    "Quick review: ",
]
GOOD_CLOSERS = [
    "Would buy again.",
    "Really happy with it.",
    "10/10 so far.",
    "Best upgrade in years.",
    "No regrets.",
    "Loving it.",
]
BAD_CLOSERS = [
    "Kind of regret it.",
    "Returning it tomorrow.",
    "Expected more at this price.",
    "Seriously considering switching.",
    "Not impressed.",
    "Disappointed.",
]
MIXED_CLOSERS = [
    "Mixed feelings.",
    "Still on the fence.",
    "Overall decent.",
    "Trade-offs everywhere.",
    "We'll see after a month.",
    "",
]

FIRST_NAMES = [
    "Alex",
    "Sam",
    "Priya",
    "Jordan",
    "Mei",
    "Omar",
    "Lena",
    "Diego",
    "Aisha",
    "Tom",
    "Yuki",
    "Noah",
    "Zara",
    "Ivan",
    "Chloe",
    "Ravi",
    "Ines",
    "Kofi",
    "Hana",
    "Luca",
    "Maya",
    "Eli",
    "Nadia",
    "Ben",
    "Sofia",
    "Theo",
    "Amara",
    "Jonas",
    "Leila",
    "Marco",
    "Ada",
    "Felix",
    "Rosa",
    "Kai",
    "Nina",
]
HANDLE_A = [
    "pixel",
    "tech",
    "daily",
    "mobile",
    "night",
    "urban",
    "coffee",
    "retro",
    "swift",
    "quiet",
    "lunar",
    "maple",
    "cobalt",
    "amber",
    "river",
    "static",
    "neon",
    "paper",
    "cloud",
    "signal",
    "byte",
    "orbit",
    "fern",
    "echo",
    "north",
    "juniper",
    "copper",
    "velvet",
]
HANDLE_B = [
    "fox",
    "reviews",
    "guy",
    "lab",
    "nerd",
    "owl",
    "dev",
    "snaps",
    "notes",
    "talk",
    "wave",
    "takes",
    "geek",
    "bits",
    "runner",
    "shots",
    "loop",
    "desk",
    "craft",
    "pilot",
]
BIO = [
    "Phones, coffee and bad puns.",
    "Reviewing gadgets so you don't have to.",
    "Photographer. Android fan.",
    "Tech writer at a small blog.",
    "I test batteries for fun.",
    "Opinions are my own.",
    "Mobile gamer. Night owl.",
    "Student. Broke. Still buying phones.",
    "",
]

CITIES = [
    ("Austin, TX", [-97.94, 30.10, -97.56, 30.52]),
    ("Manchester, England", [-2.32, 53.40, -2.15, 53.54]),
    ("Toronto, Ontario", [-79.64, 43.58, -79.12, 43.86]),
    ("Berlin, Germany", [13.09, 52.34, 13.76, 52.68]),
    ("Sydney, New South Wales", [150.52, -34.12, 151.34, -33.58]),
]

FOREIGN: dict[str, list[str]] = {
    "es": [
        "La batería del {b} dura todo el día 🔋",
        "La cámara del {b} es increíble, pero el precio es muy alto.",
        "El {b} se calienta mucho jugando 😤",
        "Me encanta la pantalla del {b}.",
    ],
    "de": [
        "Der Akku vom {b} hält ewig, aber die Kamera ist enttäuschend.",
        "Das Display vom {b} ist der Wahnsinn!",
        "Die Gesichtserkennung vom {b} funktioniert im Dunkeln kaum.",
    ],
    "fr": [
        "L'écran du {b} est magnifique mais la batterie ne tient pas la journée.",
        "Le {b} chauffe beaucoup en jeu.",
        "Le prix du {b} est vraiment raisonnable.",
    ],
    "pt": [
        "A bateria do {b} é ótima, mas o desbloqueio facial falha muito.",
        "A câmera do {b} é excelente 📸",
    ],
    "it": ["La fotocamera del {b} è fantastica!", "Il {b} costa troppo per quello che offre."],
    "ja": ["{b}のバッテリー持ちが最高！", "{b}のカメラは暗い場所だと弱い…"],
}

SPAM = [
    "🔥🔥 FREE {b} GIVEAWAY 🔥🔥 follow + RT to win!!! {url}",
    "Get the {b} for $1 today only!!! limited stock 👉 {url}",
    "{b} {b} {b} best deal click now {url} #free #giveaway #win",
    "Earn $500/day from home, buy your {b} tomorrow 💰💰 {url}",
]


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

    def _short_url(self) -> str:
        return "https://t.co/" + "".join(self.rng.choices(string.ascii_letters + string.digits, k=10))

    def _brand(self) -> str:
        ids = list(BRANDS)
        return self.rng.choices(ids, weights=[BRANDS[b]["weight"] for b in ids])[0]

    def _brand_name(self, brand: str) -> str:
        return self.rng.choice(BRANDS[brand]["names"])

    def _p_positive(self, brand: str, aspect: str, created: datetime) -> float:
        p = BRANDS[brand]["bias"].get(aspect, 0.5)
        if (
            brand == "nova"
            and aspect in {"battery", "software"}
            and UPDATE_DAY <= created <= UPDATE_DAY + timedelta(days=3)
        ):
            p = 0.15  # the 2.1 update wave
        return p

    def _clause(self, brand: str, aspect: str, created: datetime) -> tuple[str, bool]:
        positive = self.rng.random() < self._p_positive(brand, aspect, created)
        pos, neg = ASPECTS[aspect]
        return self.rng.choice(pos if positive else neg), positive

    def _aspects(self, k: int) -> list[str]:
        names = list(ASPECT_WEIGHTS)
        chosen: list[str] = []
        while len(chosen) < k:
            pick = self.rng.choices(names, weights=[ASPECT_WEIGHTS[a] for a in names])[0]
            if pick not in chosen:
                chosen.append(pick)
        return chosen

    # -------------------------------------------------------------- text templates

    def _opinion(self, brand: str, created: datetime) -> tuple[str, float]:
        rng = self.rng
        b = self._brand_name(brand)
        aspects = self._aspects(rng.choice([1, 1, 2, 2, 2, 3]))
        clauses = [self._clause(brand, a, created) for a in aspects]
        score = sum(1 if p else -1 for _, p in clauses) / len(clauses)
        texts = [c for c, _ in clauses]
        closer = rng.choice(GOOD_CLOSERS if score > 0.3 else BAD_CLOSERS if score < -0.3 else MIXED_CLOSERS)
        form = rng.randrange(9)
        in_wave = brand == "nova" and UPDATE_DAY <= created <= UPDATE_DAY + timedelta(days=3)
        if in_wave and aspects[0] in {"battery", "software"} and not clauses[0][1] and rng.random() < 0.5:
            texts[0] = "since the 2.1 update " + texts[0]
        if len(texts) >= 2 and clauses[0][1] != clauses[1][1]:
            joined = f"{texts[0]} but {texts[1]}"
        else:
            joined = " and ".join(texts[:2])
        if len(texts) == 3:
            joined += f". Also {texts[2]}"
        opener = rng.choice(OPENERS)
        if form == 0:
            text = f"{opener}{b}: {joined}. {closer}"
        elif form == 1:
            text = f"{opener}two weeks with the {b}. {joined[0].upper()}{joined[1:]}. {closer}"
        elif form == 2:
            text = f"{joined[0].upper()}{joined[1:]} on the {b}. {closer}"
        elif form == 3:
            text = f"Day {rng.randrange(2, 30)} with my {b} and {joined}."
        elif form == 4:
            text = f"{b} review after a month: {joined}. {closer}"
        elif form == 5:
            other = self.rng.choice([x for x in BRANDS if x != brand])
            text = f"Switched from the {self._brand_name(other)} to the {b}. {joined[0].upper()}{joined[1:]}."
        elif form == 6:
            text = f"Is it just me or {texts[0]} on the {b}? {closer}".strip()
        elif form == 7:
            text = f"My {b} so far: {joined}. {closer}"
        else:
            text = f"{opener}{b} thoughts on the {ASPECT_WORD[aspects[0]]}: {joined}."
        return text.strip(), score

    def _comparison(self, brand: str) -> tuple[str, float]:
        rng = self.rng
        other = rng.choice([x for x in BRANDS if x != brand])
        a1, a2 = self._aspects(2)
        return (
            f"{self._brand_name(brand)} vs {self._brand_name(other)}: the {self._brand_name(brand)} wins on "
            f"{ASPECT_WORD[a1]} but the {self._brand_name(other)} has the better {ASPECT_WORD[a2]}.",
            0.0,
        )

    def _neutral(self, brand: str) -> str:
        rng = self.rng
        b = self._brand_name(brand)
        other = self._brand_name(rng.choice([x for x in BRANDS if x != brand]))
        return rng.choice(
            [
                f"Anyone know if the {b} supports wireless charging?",
                f"Thinking about getting the {b} or the {other}. Thoughts?",
                f"Unboxing the {b} tonight",
                f"Which case are people using for the {b}?",
                f"{b} or {other} for a first phone for my dad?",
                f"Picked up the {b} in blue today. First impressions tomorrow.",
                "Got my mom the Nova 12 Lite, she just needed something simple for calls.",
            ]
        )

    def _news(self, brand: str) -> str:
        b = self._brand_name(brand)
        company = BRANDS[brand]["company"]
        return self.rng.choice(
            [
                f"{company} is rolling out a software update for the {b} this week: "
                "camera night mode tweaks and bug fixes.",
                f"{company} announced holiday pricing for the {b}, with trade-in credit in several markets.",
                f"New colors for the {b} land in stores next month, according to {company}.",
                f"Our long-term {b} review is up: battery, camera, display and price after 30 days.",
            ]
        )

    # -------------------------------------------------------------- decorations

    def _decorate(self, text: str, brand: str | None, score: float, user: User) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        entities: dict[str, list[dict[str, Any]]] = {}
        if rng.random() < 0.38:
            pool = POS_EMOJI if score > 0.2 else NEG_EMOJI if score < -0.2 else NEUTRAL_EMOJI
            text += " " + "".join(rng.choice(pool) for _ in range(rng.choice([1, 1, 2, 3])))
        if brand and rng.random() < 0.12:
            account = BRANDS[brand]["account"]
            text = f"{text} @{account}"
        if brand and rng.random() < 0.1:
            url = self._short_url()
            slug = BRANDS[brand]["tags"][0]
            text = f"{text} {url}"
            entities.setdefault("urls", []).append(
                {
                    "url": url,
                    "expanded_url": f"https://www.example.com/reviews/{slug}-{rng.randrange(100, 999)}",
                    "display_url": f"example.com/reviews/{slug}…",
                }
            )
        tags: list[str] = []
        if brand and rng.random() < 0.42:
            tags.append(rng.choice(BRANDS[brand]["tags"]))
            if rng.random() < 0.4:
                tags.append(rng.choice(GENERIC_TAGS))
        if tags:
            text += " " + " ".join(f"#{t}" for t in tags)
        return text, self._entities(text, entities, user)

    def _entities(
        self, text: str, base: dict[str, list[dict[str, Any]]], user: User | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        handles = {u.username: u.id for u in self.brand_users.values()}
        mentions = []
        for word in text.split():
            stripped = word.rstrip(".,!?:")
            if stripped.startswith("@") and len(stripped) > 1:
                name = stripped[1:]
                start = text.find(stripped)
                uid = handles.get(name) or next(
                    (u.id for u in self._recent_users() if u.username == name), None
                )
                mention = {"start": start, "end": start + len(stripped), "username": name}
                if uid:
                    mention["id"] = uid
                mentions.append(mention)
        if mentions:
            out["mentions"] = mentions
        hashtags = []
        cursor = 0
        for word in text.split():
            if word.startswith("#") and len(word) > 1:
                start = text.find(word, cursor)
                cursor = start + len(word)
                hashtags.append({"start": start, "end": cursor, "tag": word[1:]})
        if hashtags:
            out["hashtags"] = hashtags
        urls = []
        for url in base.get("urls", []):
            start = text.find(url["url"])
            urls.append({"start": start, "end": start + len(url["url"]), **url})
        if urls:
            out["urls"] = urls
        return out

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
        brand = self._brand()
        if roll < 0.40:
            user = self.brand_users[brand] if rng.random() < 0.5 else self._pick_user()
            return self._original(created, user, brand, self._news(brand), 0.0)
        if roll < 0.47:
            return self._original(created, self._pick_user(), brand, self._neutral(brand), 0.0)
        if roll < 0.51:
            text, score = self._comparison(brand)
            return self._original(created, self._pick_user(), brand, text, score)
        text, score = self._opinion(brand, created)
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
        text, entities = self._decorate(text, brand, score, user)
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
        brand = self._brand()
        url = self._short_url()
        text = self.rng.choice(SPAM).format(b=BRANDS[brand]["names"][0], url=url)
        entities = self._entities(
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
        brand = self._brand()
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
            user, created, body, original["lang"], self._entities(body, {}, user), metrics
        )
        tweet["referenced_tweets"] = [{"type": "retweeted", "id": original["id"]}]
        tweet["conversation_id"] = original["conversation_id"]
        includes = {"users": [user.v2(), target.user.v2()], "tweets": [original]}
        n = self._next_n()
        return Made(n=n, doc={"data": tweet, "includes": includes}, ref_n=target.n, kind="retweet")

    def _reply(self, created: datetime, target: _Posted) -> Made:
        rng = self.rng
        user = self._pick_user()
        brand = target.brand or self._brand()
        aspect = self._aspects(1)[0]
        clause, positive = self._clause(brand, aspect, created)
        b = self._brand_name(brand)
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
        text, entities = self._decorate(text, None, score, user)
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
        brand = target.brand or self._brand()
        text, score = self._opinion(brand, created)
        text = self.rng.choice(["This. ", "Hard disagree. ", "Can confirm. ", "Counterpoint: ", ""]) + text
        link = self._short_url()
        text, entities = self._decorate(text, brand, score, user)
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
