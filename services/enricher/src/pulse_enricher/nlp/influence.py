"""Author influence score and spam / bot signals.

Influence score (≥ 0, roughly 0..10 for real accounts):

    reach      = log10(1 + followers)                               # 0 .. ~8
    engagement = log10(1 + likes + 2·reposts + 2·quotes + replies)  # 0 .. ~6
    trust      = 1.25 if verified else 1.0
    maturity   = 0.5 + 0.5 · min(1, account_age_days / 365)        # unknown age: 0.75
    balance    = 1.0 if following ≤ 10·followers + 100 else 0.8     # follow-back farms
    score      = round(trust · maturity · balance · (reach + 0.5 · engagement), 3)

Account age is measured at the post's `created_at` (not wall-clock), so the result is a
pure function of the post.

Flags (signals, never a reason to drop a post):
    duplicate_text     the same normalized text (URLs and mentions masked) was seen recently;
                       needs an explicit `DuplicateTracker` (bounded LRU of text hashes)
    hashtag_stuffing   ≥ 6 hashtags, or hashtags are more than half of the words (≥ 4 tags)
    new_account        account younger than 30 days when it posted
    follow_ratio       following > 2,000 and following > 20 · followers
    high_post_rate     more than 150 posts per day of account age, both as of when the post was
                       observed (its `version`: the collection or receive time; the author's
                       post count is the one seen then), for accounts older than a day then
    default_profile    no username and no display name

The profile flags (new_account, follow_ratio, high_post_rate, default_profile) need a profile:
they are never set for a network whose posts carry none (Bluesky's Jetstream sends a DID only) nor
for an author the payload did not expand (X's `x:unknown`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import OrderedDict
from datetime import UTC, datetime
from threading import Lock

from pulse_common.schema import Influence, Post

from .text import MENTION_RE, URL_RE

NEW_ACCOUNT_DAYS = 30
NETWORKS_WITHOUT_PROFILES = frozenset({"bluesky"})
UNKNOWN_AUTHOR_SUFFIX = ":unknown"


def has_profile(post: Post) -> bool:
    """Whether the payload carried the author's profile (names, counts, creation date)."""
    return post.network not in NETWORKS_WITHOUT_PROFILES and not post.author.id.endswith(
        UNKNOWN_AUTHOR_SUFFIX)


def _days_at_observation(post: Post) -> float | None:
    """The account's age in days when the post (and with it the author's counts) was observed."""
    created = post.author.created_at
    if created is None:
        return None
    try:
        observed = datetime.fromtimestamp(post.version / 1000, tz=UTC)
    except (OverflowError, ValueError, OSError):  # a version past any calendar (the schema allows 2**63-1)
        observed = post.created_at
    if observed < post.created_at:  # a version that is not a time: the posting time is the best known
        observed = post.created_at
    return (observed - created).total_seconds() / 86400
STUFFING_MIN_TAGS = 6


def influence_fields(post: Post) -> dict:
    """The `Influence` fields of a post, as a plain dict (the enricher validates them with the post)."""
    author = post.author
    e = post.engagement
    age_days: int | None = None
    if author.created_at is not None:
        age_days = max(0, (post.created_at - author.created_at).days)
    reach = math.log10(1 + author.followers)
    engagement = math.log10(1 + e.likes + 2 * e.reposts + 2 * e.quotes + e.replies)
    trust = 1.25 if author.verified else 1.0
    maturity = 0.75 if age_days is None else 0.5 + 0.5 * min(1.0, age_days / 365)
    balance = 1.0 if author.following <= 10 * author.followers + 100 else 0.8
    score = round(trust * maturity * balance * (reach + 0.5 * engagement), 3)
    return {
        "score": score,
        "followers": author.followers,
        "following": author.following,
        "verified": author.verified,
        "account_age_days": age_days,
        "engagement": e.total,
    }


def influence_of(post: Post) -> Influence:
    return Influence(**influence_fields(post))


def spam_flags(post: Post, hashtags: list[str], n_words: int, influence: Influence) -> list[str]:
    return flags_for(post, hashtags, n_words, influence.account_age_days)


def flags_for(post: Post, hashtags: list[str], n_words: int, age: int | None) -> list[str]:
    """Spam / bot flags; `age` is the account age in days when it posted (None: unknown)."""
    flags: list[str] = []
    n_tags = len(hashtags)
    if n_tags >= STUFFING_MIN_TAGS or (n_tags >= 4 and n_tags * 2 > max(n_words, 1)):
        flags.append("hashtag_stuffing")
    if not has_profile(post):
        return flags
    if age is not None and age < NEW_ACCOUNT_DAYS:
        flags.append("new_account")
    a = post.author
    if a.following > 2000 and a.following > 20 * a.followers:
        flags.append("follow_ratio")
    observed_age = _days_at_observation(post)
    if observed_age is not None and observed_age >= 1 and a.posts_count / observed_age > 150:
        flags.append("high_post_rate")
    if not a.username and not a.name:
        flags.append("default_profile")
    return flags


_WORD_RUN = re.compile(r"\w+")


def text_fingerprint(text: str) -> str:
    """Hash of the text with URLs and mentions masked, case and punctuation folded."""
    masked = text
    if "://" in masked or "www." in masked.lower():  # URL_RE can only match with one of these
        masked = URL_RE.sub(" ", masked)
    if "@" in masked:  # MENTION_RE needs an '@'
        masked = MENTION_RE.sub(" ", masked)
    # Runs of non-word characters folded to one space, ends stripped: the word runs, space-joined.
    folded = " ".join(_WORD_RUN.findall(masked.lower()))
    return hashlib.blake2b(folded.encode("utf-8"), digest_size=12).hexdigest()


class DuplicateTracker:
    """Bounded LRU of text fingerprints: the one piece of state duplicate detection needs.

    Kept outside the pure `Enricher.enrich`; pass one in explicitly
    (`enricher.enrich(post, duplicates=tracker)`). Thread-safe.
    """

    def __init__(self, capacity: int = 100_000, min_chars: int = 20) -> None:
        self.capacity = capacity
        self.min_chars = min_chars
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def seen_before(self, post_id: str, text: str) -> bool:
        """Record `text` for `post_id`; True if another post had the same text recently."""
        if len(text) < self.min_chars:
            return False
        key = text_fingerprint(text)
        with self._lock:
            first = self._seen.get(key)
            if first is not None:
                self._seen.move_to_end(key)
                return first != post_id
            self._seen[key] = post_id
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
            return False

    def __len__(self) -> int:
        return len(self._seen)
