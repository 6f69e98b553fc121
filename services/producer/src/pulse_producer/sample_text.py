"""The words of the bundled sample: its vocabulary (sample_words.json, data) and `Writer`, which turns
it into post texts and their X API v2 entities. Drawn from the generator's own random stream, so the
sample stays byte-identical for a seed (pulse_producer.sample)."""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import random

    from pulse_producer.sample import User

# The word lists (brands and their per-aspect tendencies, opinion clauses, names, places, other
# languages, spam) are data: sample_words.json, next to this module.
_WORDS: dict[str, Any] = json.loads(
    resources.files("pulse_producer").joinpath("sample_words.json").read_text("utf-8")
)
BRANDS: dict[str, dict[str, Any]] = _WORDS["brands"]
# Clauses name the feature with a term from the taxonomy; (positive, negative).
ASPECTS: dict[str, tuple[list[str], list[str]]] = {
    aspect: (pos, neg) for aspect, (pos, neg) in _WORDS["aspects"].items()
}
ASPECT_WEIGHTS: dict[str, int] = _WORDS["aspect_weights"]
ASPECT_WORD: dict[str, str] = _WORDS["aspect_word"]
POS_EMOJI, NEG_EMOJI, NEUTRAL_EMOJI = _WORDS["pos_emoji"], _WORDS["neg_emoji"], _WORDS["neutral_emoji"]
GENERIC_TAGS: list[str] = _WORDS["generic_tags"]
OPENERS: list[str] = _WORDS["openers"]
GOOD_CLOSERS: list[str] = _WORDS["good_closers"]
BAD_CLOSERS: list[str] = _WORDS["bad_closers"]
MIXED_CLOSERS: list[str] = _WORDS["mixed_closers"]
FIRST_NAMES: list[str] = _WORDS["first_names"]
HANDLE_A, HANDLE_B = _WORDS["handle_a"], _WORDS["handle_b"]
BIO: list[str] = _WORDS["bio"]
CITIES: list[tuple[str, list[float]]] = [(name, bbox) for name, bbox in _WORDS["cities"]]
FOREIGN: dict[str, list[str]] = _WORDS["foreign"]
SPAM: list[str] = _WORDS["spam"]



class Writer:
    """Post texts, opinions and entities for the generator (`rng` is the generator's own)."""

    def __init__(
        self,
        rng: random.Random,
        brand_users: dict[str, User],
        recent_users: Callable[[], Iterator[User]],
        *,
        update_day: datetime,
    ) -> None:
        self.rng = rng
        self.brand_users = brand_users
        self.recent_users = recent_users
        self.update_day = update_day  # a Nova 12 update: battery complaints rise for three days

    def short_url(self) -> str:
        return "https://t.co/" + "".join(self.rng.choices(string.ascii_letters + string.digits, k=10))

    def brand(self) -> str:
        ids = list(BRANDS)
        return self.rng.choices(ids, weights=[BRANDS[b]["weight"] for b in ids])[0]

    def brand_name(self, brand: str) -> str:
        return self.rng.choice(BRANDS[brand]["names"])

    def _p_positive(self, brand: str, aspect: str, created: datetime) -> float:
        p = BRANDS[brand]["bias"].get(aspect, 0.5)
        if (
            brand == "nova"
            and aspect in {"battery", "software"}
            and self.update_day <= created <= self.update_day + timedelta(days=3)
        ):
            p = 0.15  # the 2.1 update wave
        return p

    def clause(self, brand: str, aspect: str, created: datetime) -> tuple[str, bool]:
        positive = self.rng.random() < self._p_positive(brand, aspect, created)
        pos, neg = ASPECTS[aspect]
        return self.rng.choice(pos if positive else neg), positive

    def aspects(self, k: int) -> list[str]:
        names = list(ASPECT_WEIGHTS)
        chosen: list[str] = []
        while len(chosen) < k:
            pick = self.rng.choices(names, weights=[ASPECT_WEIGHTS[a] for a in names])[0]
            if pick not in chosen:
                chosen.append(pick)
        return chosen

    # -------------------------------------------------------------- text templates

    def opinion(self, brand: str, created: datetime) -> tuple[str, float]:
        rng = self.rng
        b = self.brand_name(brand)
        aspects = self.aspects(rng.choice([1, 1, 2, 2, 2, 3]))
        clauses = [self.clause(brand, a, created) for a in aspects]
        score = sum(1 if p else -1 for _, p in clauses) / len(clauses)
        texts = [c for c, _ in clauses]
        closer = rng.choice(GOOD_CLOSERS if score > 0.3 else BAD_CLOSERS if score < -0.3 else MIXED_CLOSERS)
        form = rng.randrange(9)
        in_wave = brand == "nova" and self.update_day <= created <= self.update_day + timedelta(days=3)
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
            text = f"Switched from the {self.brand_name(other)} to the {b}. {joined[0].upper()}{joined[1:]}."
        elif form == 6:
            text = f"Is it just me or {texts[0]} on the {b}? {closer}".strip()
        elif form == 7:
            text = f"My {b} so far: {joined}. {closer}"
        else:
            text = f"{opener}{b} thoughts on the {ASPECT_WORD[aspects[0]]}: {joined}."
        return text.strip(), score

    def comparison(self, brand: str) -> tuple[str, float]:
        rng = self.rng
        other = rng.choice([x for x in BRANDS if x != brand])
        a1, a2 = self.aspects(2)
        return (
            f"{self.brand_name(brand)} vs {self.brand_name(other)}: the {self.brand_name(brand)} wins on "
            f"{ASPECT_WORD[a1]} but the {self.brand_name(other)} has the better {ASPECT_WORD[a2]}.",
            0.0,
        )

    def neutral(self, brand: str) -> str:
        rng = self.rng
        b = self.brand_name(brand)
        other = self.brand_name(rng.choice([x for x in BRANDS if x != brand]))
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

    def news(self, brand: str) -> str:
        b = self.brand_name(brand)
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

    def decorate(self, text: str, brand: str | None, score: float, user: User) -> tuple[str, dict[str, Any]]:
        rng = self.rng
        entities: dict[str, list[dict[str, Any]]] = {}
        if rng.random() < 0.38:
            pool = POS_EMOJI if score > 0.2 else NEG_EMOJI if score < -0.2 else NEUTRAL_EMOJI
            text += " " + "".join(rng.choice(pool) for _ in range(rng.choice([1, 1, 2, 3])))
        if brand and rng.random() < 0.12:
            account = BRANDS[brand]["account"]
            text = f"{text} @{account}"
        if brand and rng.random() < 0.1:
            url = self.short_url()
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
        return text, self.entities(text, entities, user)

    def entities(
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
                    (u.id for u in self.recent_users() if u.username == name), None
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

