"""X API v1.1 statuses (`statuses/filter`, twarc v1 JSONL) and the v1.1 firehose's deletes.

A truncated status's text and entities come from its `extended_tweet`; a retweet's from the
original (`retweeted_status`), with engagement 0 (X copies the original's counters onto a
retweet). The version is the receive time live, else the status's `created_at`.
"""

from __future__ import annotations

from typing import Any

from pulse_common.schema import Author, Engagement, GeoPoint, Post

from ..events import Delete, ms_of, now_ms
from .fields import (
    ParseError,
    as_count,
    as_dict,
    as_id,
    as_list,
    as_text,
    bbox_center,
    build_post,
    checked_version,
    geojson_point,
    optional_time,
    unique_strings,
    v1_time,
)
from .x_rules import hidden_reasons


def _v1_author(user: dict[str, Any]) -> Author:
    uid = as_id(user.get("id_str") or user.get("id"))
    return Author(
        id=f"x:{uid}",
        username=user.get("screen_name"),
        name=user.get("name"),
        followers=as_count(user.get("followers_count")),
        following=as_count(user.get("friends_count")),
        posts_count=as_count(user.get("statuses_count")),
        listed=as_count(user.get("listed_count")),
        verified=bool(user.get("verified")),
        created_at=optional_time(user.get("created_at"), v1_time),
    )


def _v1_content(status: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The full text and its entities: `extended_tweet` when the status was truncated."""
    extended = as_dict(status.get("extended_tweet"))
    text = as_text(extended.get("full_text") or status.get("full_text") or status.get("text") or "")
    return text, as_dict(extended.get("entities")) or as_dict(status.get("entities"))


def parse_v1_status(status: dict[str, Any], received_ms: int | None) -> Post:
    sid = as_id(status.get("id_str") or status.get("id"))
    user = as_dict(status.get("user"))
    if not user:
        raise ParseError("missing_user", f"status {sid}")
    created_at = v1_time(status.get("created_at"))
    post_type, referenced = "original", None
    retweeted = as_dict(status.get("retweeted_status"))
    # A retweet's own text is "RT @user: " + a cut of the original: text and entities come from the
    # original, and the counters on a retweet are the original's, not the retweeter's.
    text, entities = _v1_content(retweeted or status)
    engagement = Engagement(
        likes=as_count(status.get("favorite_count")),
        reposts=as_count(status.get("retweet_count")),
        replies=as_count(status.get("reply_count")),
        quotes=as_count(status.get("quote_count")),
    )
    if retweeted:
        post_type, referenced = "retweet", as_id(retweeted.get("id_str") or retweeted.get("id"))
        engagement = Engagement()
    elif status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"):
        post_type = "reply"
        referenced = as_id(status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"))
    elif status.get("is_quote_status") and (
        status.get("quoted_status_id_str") or status.get("quoted_status_id")
    ):
        post_type = "quote"
        referenced = as_id(status.get("quoted_status_id_str") or status.get("quoted_status_id"))
    geo = geojson_point(status.get("coordinates"))
    if geo is None:
        geo = _bbox_from_v1_place(status.get("place"))
    withheld_in = status.get("withheld_in_countries") or (retweeted or {}).get("withheld_in_countries")
    return build_post(
        id=f"x:{sid}",
        network="x",
        native_id=sid,
        created_at=created_at,
        text=text,
        lang=status.get("lang") if isinstance(status.get("lang"), str) else None,
        author=_v1_author(user),
        post_type=post_type,
        referenced_id=f"x:{referenced}" if referenced else None,
        engagement=engagement,
        hashtags=unique_strings(as_dict(h).get("text") for h in as_list(entities.get("hashtags"))),
        mentions=unique_strings(
            as_dict(m).get("screen_name") for m in as_list(entities.get("user_mentions"))
        ),
        urls=unique_strings(
            as_dict(u).get("expanded_url") or as_dict(u).get("url") for u in as_list(entities.get("urls"))
        ),
        geo=geo,
        hidden=hidden_reasons(text, {"countries": withheld_in} if withheld_in else None),
        source_format="x_v1",
        version=received_ms if received_ms is not None else ms_of(created_at),
    )


def _bbox_from_v1_place(place: Any) -> GeoPoint | None:
    box = as_dict(as_dict(place).get("bounding_box"))
    ring = as_list(box.get("coordinates"))
    if ring and isinstance(ring[0], list) and ring[0]:
        try:
            lons = [float(p[0]) for p in ring[0]]
            lats = [float(p[1]) for p in ring[0]]
        except (TypeError, ValueError, IndexError):
            return None
        return bbox_center([min(lons), min(lats), max(lons), max(lats)])
    return None


def parse_v1_delete(doc: dict[str, Any], received_ms: int | None) -> Delete:
    status = as_dict(as_dict(doc.get("delete")).get("status"))
    sid = as_id(status.get("id_str") or status.get("id"))
    stamp = as_dict(doc.get("delete")).get("timestamp_ms") or doc.get("timestamp_ms")
    version = received_ms if received_ms is not None else (as_count(stamp) or now_ms())
    return Delete(id=f"x:{sid}", version=checked_version(version), reason="user_delete")
