"""What every X shape (v1.1, v2, twarc2, compliance) shares: the time inside a snowflake id,
what the payload says about hiding a post, when twarc collected a document, and edit chains (an
edited tweet is one post under its newest id; every older id is deleted, reason `edited`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pulse_common.contracts import visibility
from pulse_common.schema import Post

from ..events import Delete, Parsed, Upsert, ms_of
from .fields import as_dict, as_list, bounded_time, optional_time

EDITED = "edited"  # the delete reason of a superseded version of an edited tweet
# Twitter's snowflake ids carry their creation time (ms since this epoch, in the bits above 22).
SNOWFLAKE_EPOCH_MS = 1288834974657
MIN_SNOWFLAKE_ID = 1 << 40  # ids below this predate snowflakes (late 2010)


def snowflake_time(native_id: str) -> datetime | None:
    """The creation time inside a snowflake id (every tweet id since late 2010), else None."""
    try:
        number = int(native_id)
    except ValueError:
        return None
    if number < MIN_SNOWFLAKE_ID:
        return None
    return bounded_time(datetime.fromtimestamp(((number >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC))


def hidden_reasons(text: str, *withheld: Any) -> list[str]:
    """What the payload itself says about showing the post: a withheld object, or a placeholder."""
    reasons: list[str] = []
    if any(isinstance(w, dict) and w for w in withheld):
        reasons.append(visibility.WITHHELD)
    placeholder = visibility.placeholder_reason(text)
    if placeholder and placeholder not in reasons:
        reasons.append(placeholder)
    return reasons


def twarc_retrieved_ms(doc: dict[str, Any]) -> int | None:
    """When a twarc2 page or flattened line was collected (`__twarc.retrieved_at`), in ms."""
    retrieved = optional_time(as_dict(doc.get("__twarc")).get("retrieved_at"))
    return None if retrieved is None else ms_of(retrieved)


def edit_history(tweet: dict[str, Any]) -> list[str]:
    """The tweet's edit chain; empty when it does not hold the tweet's own id (inconsistent)."""
    history = [str(i) for i in as_list(tweet.get("edit_history_tweet_ids")) if isinstance(i, str | int)]
    return history if str(tweet.get("id")) in history else []


def newest_id(history: list[str]) -> str:
    return max(history, key=lambda i: (len(i), i))  # snowflake ids grow with time


def tweet_events(post: Post, history: list[str]) -> list[Parsed]:
    """An observed tweet: its upsert, and the deletes of the versions its edit made older."""
    events: list[Parsed] = [Upsert(post)]
    events.extend(
        Delete(id=f"x:{old}", version=post.version, reason=EDITED) for old in history if old != post.native_id
    )
    return events
