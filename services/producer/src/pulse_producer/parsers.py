"""Parsers: one line/document of any supported shape -> normalized events.

Supported shapes, detected per document:
- X API v1.1 statuses (`statuses/filter`, twarc v1 JSONL) and the v1.1 firehose's compliance
  messages (delete, tweet_edit, status_withheld, drop/undrop, scrub_geo, user_*);
- X API v2 responses (`{"data": {...} | [...], "includes": {...}}`, also twarc2 JSONL pages);
- twarc2 flattened tweets (a v2 tweet with `author` inlined);
- X v2 compliance stream events (`{"data": {"delete" | "tweet_edit" | "withheld" | "drop" | ...}}`)
  and twarc2 batch-compliance lines (`{"id", "action", "reason", ...}`);
- Bluesky Jetstream events (commit create/update/delete of app.bsky.feed.post, account status).

What each payload means (issue 16):
- A page is read tweet by tweet: a tweet that cannot be read is a `Refused` with its reason
  (`missing_text`, `missing_created_at`, `not_a_tweet`, `bad_id` only for a bad id, ...), its
  neighbours are kept. A tweet without its author expansion keeps an unknown author
  (`UNKNOWN_AUTHOR`); one without `created_at` takes the time inside its snowflake id.
- A retweet's text and entities are the original's (v2 `includes.tweets`, a flattened line's inline
  `referenced_tweets`, v1.1 `retweeted_status` with its `extended_tweet`); its own engagement is 0
  (X copies the original's counters onto a retweet).
- An edited tweet (`edit_history_tweet_ids`) is one post under its newest id; every older id is
  deleted (reason `edited`), whichever version arrives first. `tweet_edit` events do the same.
- X's `withheld` objects and placeholder texts (`pulse_common.contracts.visibility`) mark the post
  `hidden`; it is stored, never scored, never shown.

`version` = when the post was observed, so a later observation of the same post wins and a replay
of the same file changes nothing: the receive time for live sources (`received_ms`); for files,
`__twarc.retrieved_at` (twarc2 pages and flattened lines), Jetstream's `time_us`, and only when
nothing better exists (v1.1 JSONL, bare v2 responses) the post's `created_at`. A compliance
event's version is its event time (`event_at`, `timestamp_ms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from pulse_common.contracts import visibility
from pulse_common.dates import DateOutOfRange, bounded_utc
from pulse_common.schema import MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_VERSION, Author, Engagement, GeoPoint, Post

from .events import Delete, Hide, Parsed, Refused, Upsert, UserCompliance, ms_of, now_ms

UNKNOWN_AUTHOR = "x:unknown"  # a v2 tweet fetched without the author_id field / expansion
EDITED = "edited"  # the delete reason of a superseded version of an edited tweet
# Twitter's snowflake ids carry their creation time (ms since this epoch, in the bits above 22).
SNOWFLAKE_EPOCH_MS = 1288834974657
MIN_SNOWFLAKE_ID = 1 << 40  # ids below this predate snowflakes (late 2010)


class ParseError(ValueError):
    """The input is not a document we understand; `reason` is a short machine-readable label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------- helpers


def _bounded(moment: datetime) -> datetime:
    """In UTC and within pulse_common.dates' range, or ParseError("bad_timestamp")."""
    try:
        return bounded_utc(moment)
    except DateOutOfRange as exc:
        raise ParseError("bad_timestamp", str(exc)) from exc


def _dt_iso(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise ParseError("bad_timestamp", repr(value)[:80])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError as exc:
        raise ParseError("bad_timestamp", value[:80]) from exc
    return _bounded(moment)


def _dt_v1(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ParseError("bad_timestamp", repr(value)[:80])
    try:
        moment = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except ValueError:
        return _dt_iso(value)
    return _bounded(moment)


def _int(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


def _version(value: int) -> int:
    """A delete's version from the document: bounded as the schema bounds every version."""
    if not 0 <= value <= MAX_VERSION:
        raise ParseError("bad_version", str(value)[:40])
    return value


def _str_id(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise ParseError("bad_id", repr(value)[:80])
    text = str(value)
    if not text or len(text) > 200:
        raise ParseError("bad_id", text[:80])
    return text


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ParseError("bad_text", type(value).__name__)
    return value[:MAX_TEXT_CHARS]


def _dedupe(values: Iterable[Any]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        if isinstance(value, str) and value:
            seen.setdefault(value, None)
    return list(seen)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _geo_point(coords: Any) -> GeoPoint | None:
    """GeoJSON Point: coordinates [lon, lat]."""
    point = _dict(coords)
    pair = _list(point.get("coordinates"))
    if point.get("type") == "Point" and len(pair) == 2:
        try:
            return GeoPoint(lon=float(pair[0]), lat=float(pair[1]))
        except (TypeError, ValueError, ValidationError):
            return None
    return None


def _bbox_center(bbox: Any) -> GeoPoint | None:
    box = _list(bbox)
    if len(box) == 4:
        try:
            return GeoPoint(lon=(float(box[0]) + float(box[2])) / 2, lat=(float(box[1]) + float(box[3])) / 2)
        except (TypeError, ValueError, ValidationError):
            return None
    return None


def _build_post(**fields: Any) -> Post:
    try:
        return Post(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ParseError("invalid_post", f"{loc}: {first['msg']}") from exc


# ---------------------------------------------------------------- shared X rules


def _snowflake_time(native_id: str) -> datetime | None:
    """The creation time inside a snowflake id (every tweet id since late 2010), else None."""
    try:
        number = int(native_id)
    except ValueError:
        return None
    if number < MIN_SNOWFLAKE_ID:
        return None
    return _bounded(datetime.fromtimestamp(((number >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, tz=UTC))


def _hidden(text: str, *withheld: Any) -> list[str]:
    """What the payload itself says about showing the post: a withheld object, or a placeholder."""
    reasons: list[str] = []
    if any(isinstance(w, dict) and w for w in withheld):
        reasons.append(visibility.WITHHELD)
    placeholder = visibility.placeholder_reason(text)
    if placeholder and placeholder not in reasons:
        reasons.append(placeholder)
    return reasons


def _observed_ms(doc: dict[str, Any]) -> int | None:
    """When a twarc2 page or flattened line was collected (`__twarc.retrieved_at`), in ms."""
    retrieved = _dict(doc.get("__twarc")).get("retrieved_at")
    if not retrieved:
        return None
    try:
        return ms_of(_dt_iso(retrieved))
    except ParseError:
        return None


def _event_ms(value: Any, received_ms: int | None) -> int:
    """A compliance event's version: the receive time live, else its own time (ms or ISO)."""
    if received_ms is not None:
        return _version(received_ms)
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return _version(int(value))
    if isinstance(value, str) and value:
        return _version(ms_of(_dt_iso(value)))
    return _version(now_ms())


# ---------------------------------------------------------------- X API v1.1


def _v1_author(user: dict[str, Any]) -> Author:
    uid = _str_id(user.get("id_str") or user.get("id"))
    created = None
    if user.get("created_at"):
        try:
            created = _dt_v1(user["created_at"])
        except ParseError:
            created = None
    return Author(
        id=f"x:{uid}",
        username=user.get("screen_name"),
        name=user.get("name"),
        followers=_int(user.get("followers_count")),
        following=_int(user.get("friends_count")),
        posts_count=_int(user.get("statuses_count")),
        listed=_int(user.get("listed_count")),
        verified=bool(user.get("verified")),
        created_at=created,
    )


def _v1_content(status: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The full text and its entities: `extended_tweet` when the status was truncated."""
    extended = _dict(status.get("extended_tweet"))
    text = _text(extended.get("full_text") or status.get("full_text") or status.get("text") or "")
    return text, _dict(extended.get("entities")) or _dict(status.get("entities"))


def parse_v1_status(status: dict[str, Any], received_ms: int | None) -> Post:
    sid = _str_id(status.get("id_str") or status.get("id"))
    user = _dict(status.get("user"))
    if not user:
        raise ParseError("missing_user", f"status {sid}")
    created_at = _dt_v1(status.get("created_at"))
    post_type, referenced = "original", None
    retweeted = _dict(status.get("retweeted_status"))
    # A retweet's own text is "RT @user: " + a cut of the original: text and entities come from the
    # original, and the counters on a retweet are the original's, not the retweeter's.
    text, entities = _v1_content(retweeted or status)
    engagement = Engagement(
        likes=_int(status.get("favorite_count")),
        reposts=_int(status.get("retweet_count")),
        replies=_int(status.get("reply_count")),
        quotes=_int(status.get("quote_count")),
    )
    if retweeted:
        post_type, referenced = "retweet", _str_id(retweeted.get("id_str") or retweeted.get("id"))
        engagement = Engagement()
    elif status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"):
        post_type = "reply"
        referenced = _str_id(status.get("in_reply_to_status_id_str") or status.get("in_reply_to_status_id"))
    elif status.get("is_quote_status") and (
        status.get("quoted_status_id_str") or status.get("quoted_status_id")
    ):
        post_type = "quote"
        referenced = _str_id(status.get("quoted_status_id_str") or status.get("quoted_status_id"))
    geo = _geo_point(status.get("coordinates"))
    if geo is None:
        geo = _bbox_from_v1_place(status.get("place"))
    withheld_in = status.get("withheld_in_countries") or (retweeted or {}).get("withheld_in_countries")
    return _build_post(
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
        hashtags=_dedupe(_dict(h).get("text") for h in _list(entities.get("hashtags"))),
        mentions=_dedupe(_dict(m).get("screen_name") for m in _list(entities.get("user_mentions"))),
        urls=_dedupe(
            _dict(u).get("expanded_url") or _dict(u).get("url") for u in _list(entities.get("urls"))
        ),
        geo=geo,
        hidden=_hidden(text, {"countries": withheld_in} if withheld_in else None),
        source_format="x_v1",
        version=received_ms if received_ms is not None else ms_of(created_at),
    )


def _bbox_from_v1_place(place: Any) -> GeoPoint | None:
    box = _dict(_dict(place).get("bounding_box"))
    ring = _list(box.get("coordinates"))
    if ring and isinstance(ring[0], list) and ring[0]:
        try:
            lons = [float(p[0]) for p in ring[0]]
            lats = [float(p[1]) for p in ring[0]]
        except (TypeError, ValueError, IndexError):
            return None
        return _bbox_center([min(lons), min(lats), max(lons), max(lats)])
    return None


def parse_v1_delete(doc: dict[str, Any], received_ms: int | None) -> Delete:
    status = _dict(_dict(doc.get("delete")).get("status"))
    sid = _str_id(status.get("id_str") or status.get("id"))
    stamp = _dict(doc.get("delete")).get("timestamp_ms") or doc.get("timestamp_ms")
    version = received_ms if received_ms is not None else (_int(stamp) or now_ms())
    return Delete(id=f"x:{sid}", version=_version(version), reason="user_delete")


# ---------------------------------------------------------------- compliance (X v1.1, v2, twarc2)

# User-level events: (hidden reason, on). scrub_geo has no reason (it clears locations).
_USER_EVENTS: dict[str, tuple[str | None, bool]] = {
    "user_delete": (visibility.ACCOUNT_DELETED, True),
    "user_undelete": (visibility.ACCOUNT_DELETED, False),
    "user_protect": (visibility.PROTECTED, True),
    "user_unprotect": (visibility.PROTECTED, False),
    "user_suspend": (visibility.SUSPENDED, True),
    "user_unsuspend": (visibility.SUSPENDED, False),
    "user_withheld": (visibility.WITHHELD, True),
    "scrub_geo": (None, True),
}
_POST_HIDES: dict[str, tuple[str, bool]] = {
    "withheld": (visibility.WITHHELD, True),
    "status_withheld": (visibility.WITHHELD, True),
    "drop": (visibility.DROPPED, True),
    "undrop": (visibility.DROPPED, False),
}
V2_COMPLIANCE = frozenset({"delete", "tweet_edit", "user_profile_modification", *_USER_EVENTS, *_POST_HIDES})
V1_COMPLIANCE = frozenset({"tweet_edit", "status_withheld", "drop", "undrop", *_USER_EVENTS})


def _edit_deletes(edit_ids: Any, newest: Any, version: int) -> list[Parsed]:
    """A tweet_edit event: every id of the chain but the newest is deleted (reason `edited`)."""
    ids = [_str_id(i) for i in _list(edit_ids)]
    if not ids:
        raise ParseError("missing_edit_ids", "tweet_edit without edit_tweet_ids")
    last = _str_id(newest) if newest is not None else max(ids, key=lambda i: (len(i), i))
    return [Delete(id=f"x:{i}", version=version, reason=EDITED) for i in ids if i != last]


def _user_event(action: str, user_id: Any, version: int) -> UserCompliance:
    reason, on = _USER_EVENTS[action]
    return UserCompliance(user_id=f"x:{_str_id(user_id)}", version=version, action=action, reason=reason,
                          on=on)


def parse_v2_compliance(action: str, body: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    """One v2 compliance stream event (`{"data": {<action>: body}}`)."""
    version = _event_ms(body.get("event_at"), received_ms)
    tweet, user = _dict(body.get("tweet")), _dict(body.get("user"))
    if action == "delete":
        return [Delete(id=f"x:{_str_id(tweet.get('id'))}", version=version, reason="compliance")]
    if action == "tweet_edit":
        return _edit_deletes(body.get("edit_tweet_ids"), tweet.get("id"), version)
    if action in _POST_HIDES:
        reason, on = _POST_HIDES[action]
        return [Hide(id=f"x:{_str_id(tweet.get('id'))}", version=version, reason=reason, on=on)]
    if action == "user_profile_modification":
        return []  # a profile field changed: the next post carries the new profile
    event = _user_event(action, user.get("id"), version)
    if action == "scrub_geo":
        event.up_to_id = _str_id(body.get("up_to_tweet_id"))
    return [event]


def parse_v1_compliance(action: str, body: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    """One v1.1 firehose compliance message (`{<action>: body}`)."""
    version = _event_ms(body.get("timestamp_ms") or body.get("timestampMs"), received_ms)
    status = _dict(body.get("status"))
    if action == "tweet_edit":
        return _edit_deletes(body.get("edit_tweet_ids"), body.get("id"), version)
    if action in _POST_HIDES:
        reason, on = _POST_HIDES[action]
        sid = _str_id(status.get("id_str") or status.get("id"))
        return [Hide(id=f"x:{sid}", version=version, reason=reason, on=on)]
    user = _dict(body.get("user"))
    user_id = (body.get("user_id_str") or body.get("user_id") or user.get("id_str") or user.get("id")
               or body.get("id_str") or body.get("id"))
    event = _user_event(action, user_id, version)
    if action == "scrub_geo":
        event.up_to_id = _str_id(body.get("up_to_status_id_str") or body.get("up_to_status_id"))
    return [event]


# twarc2 batch compliance: `reason` of an `action: "delete"` line -> what it means for a tweet.
_BATCH_REASONS = {
    "protected": visibility.PROTECTED,
    "suspended": visibility.SUSPENDED,
    "deactivated": visibility.ACCOUNT_DELETED,
    "withheld": visibility.WITHHELD,
}


def parse_batch_compliance(doc: dict[str, Any], ids: str) -> list[Parsed]:
    """A twarc2 batch-compliance line. `ids` says what its `id` is ("tweets" or "users": the two
    files have the same shape). A tweet deleted by its author is deleted; one whose account is
    protected, suspended or deactivated is hidden (the account may come back); a user line is a
    user-level event."""
    native = _str_id(doc.get("id"))
    if doc.get("action") != "delete":
        raise ParseError("unknown_compliance_action", repr(doc.get("action"))[:40])
    reason = doc.get("reason")
    stamp = doc.get("redacted_at") or doc.get("created_at")
    version = _event_ms(stamp, None)
    if ids == "users":
        action = {visibility.PROTECTED: "user_protect", visibility.SUSPENDED: "user_suspend",
                  visibility.WITHHELD: "user_withheld"}.get(_BATCH_REASONS.get(reason, ""), "user_delete")
        return [_user_event(action, native, version)]
    hidden = _BATCH_REASONS.get(reason) if isinstance(reason, str) else None
    if hidden is None:
        # deleted (or an unknown reason): the tweet is gone; newer than any observation of it
        return [Delete(id=f"x:{native}", version=_version(now_ms()), reason="compliance")]
    return [Hide(id=f"x:{native}", version=version, reason=hidden)]


# ---------------------------------------------------------------- X API v2


def _v2_author(user: dict[str, Any], author_id: str) -> Author:
    metrics = _dict(user.get("public_metrics"))
    created = None
    if user.get("created_at"):
        try:
            created = _dt_iso(user["created_at"])
        except ParseError:
            created = None
    return Author(
        id=f"x:{author_id}",
        username=user.get("username"),
        name=user.get("name"),
        followers=_int(metrics.get("followers_count")),
        following=_int(metrics.get("following_count")),
        posts_count=_int(metrics.get("tweet_count")),
        listed=_int(metrics.get("listed_count")),
        verified=bool(user.get("verified"))
        or user.get("verified_type") in {"blue", "business", "government"},
        created_at=created,
    )


_V2_REF_TYPES = {"retweeted": "retweet", "quoted": "quote", "replied_to": "reply"}


def _v2_text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The full text (a long post's `note_tweet`) and its entities."""
    note = _dict(tweet.get("note_tweet"))
    return _text(note.get("text") or tweet.get("text")), _dict(note.get("entities")) or _dict(
        tweet.get("entities"))


def _has_text(tweet: dict[str, Any]) -> bool:
    return isinstance(tweet.get("text"), str) or isinstance(_dict(tweet.get("note_tweet")).get("text"), str)


def parse_v2_tweet(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    places: dict[str, dict[str, Any]],
    observed_ms: int | None,
    source_format: str = "x_v2",
    tweets: dict[str, dict[str, Any]] | None = None,
    newest: dict[str, str] | None = None,
) -> Post:
    """One v2 tweet. `tweets`: includes.tweets by id (retweeted originals); `newest`: superseded
    edit id -> newest id, for references; `observed_ms`: when it was observed (None: created_at)."""
    tid = _str_id(tweet.get("id"))
    if not _has_text(tweet):
        raise ParseError("not_a_tweet" if "text" not in tweet else "bad_text", f"{tid}: no text")
    raw_author = tweet.get("author_id") or _dict(tweet.get("author")).get("id")
    if raw_author is None:
        author = Author(id=UNKNOWN_AUTHOR)
        user: dict[str, Any] = {}
    else:
        try:
            author_id = _str_id(raw_author)
        except ParseError as exc:
            raise ParseError("bad_author_id", f"tweet {tid}: {exc.detail}") from exc
        user = _dict(tweet.get("author")) or users.get(author_id, {})
        author = _v2_author(user, author_id)
    if tweet.get("created_at") is not None:
        created_at = _dt_iso(tweet.get("created_at"))
    else:
        snowflake = _snowflake_time(tid)
        if snowflake is None:
            raise ParseError("missing_created_at", f"tweet {tid}")
        created_at = snowflake
    post_type, referenced = "original", None
    refs = {
        _dict(r).get("type"): _dict(r) for r in _list(tweet.get("referenced_tweets")) if _dict(r)
    }
    for ref_type in ("retweeted", "quoted", "replied_to"):  # a reply that quotes is a quote... of a reply
        if refs.get(ref_type, {}).get("id"):
            post_type, referenced = _V2_REF_TYPES[ref_type], _str_id(refs[ref_type]["id"])
            break
    if refs.get("replied_to", {}).get("id") and post_type == "quote":
        post_type, referenced = "reply", _str_id(refs["replied_to"]["id"])
    content = tweet
    metrics = _dict(tweet.get("public_metrics"))
    engagement = Engagement(
        likes=_int(metrics.get("like_count")),
        reposts=_int(metrics.get("retweet_count")),
        replies=_int(metrics.get("reply_count")),
        quotes=_int(metrics.get("quote_count")),
    )
    if post_type == "retweet":
        # The original: from the page's includes, or inline (twarc2 flattened lines carry it).
        inline = refs["retweeted"]
        original = (tweets or {}).get(referenced or "") or (inline if _has_text(inline) else None)
        if original is not None:
            content = original
        engagement = Engagement()
    text, entities = _v2_text(content)
    if newest and referenced in newest:
        referenced = newest[referenced]
    geo_field = _dict(tweet.get("geo"))
    geo = _geo_point(geo_field.get("coordinates"))
    if geo is None and geo_field.get("place_id"):
        geo = _bbox_center(_dict(_dict(places.get(str(geo_field["place_id"]))).get("geo")).get("bbox"))
    conversation = tweet.get("conversation_id")
    return _build_post(
        id=f"x:{tid}",
        network="x",
        native_id=tid,
        created_at=created_at,
        text=text,
        lang=tweet.get("lang") if isinstance(tweet.get("lang"), str) else None,
        author=author,
        post_type=post_type,
        referenced_id=f"x:{referenced}" if referenced else None,
        conversation_id=f"x:{conversation}" if conversation else None,
        engagement=engagement,
        hashtags=_dedupe(_dict(h).get("tag") for h in _list(entities.get("hashtags"))),
        mentions=_dedupe(_dict(m).get("username") for m in _list(entities.get("mentions"))),
        urls=_dedupe(
            _dict(u).get("expanded_url") or _dict(u).get("url") for u in _list(entities.get("urls"))
        ),
        geo=geo,
        hidden=_hidden(text, tweet.get("withheld"), content.get("withheld"), user.get("withheld")),
        source_format=source_format,
        version=observed_ms if observed_ms is not None else ms_of(created_at),
    )


def _edit_history(tweet: dict[str, Any]) -> list[str]:
    """The tweet's edit chain; empty when it does not hold the tweet's own id (inconsistent)."""
    history = [str(i) for i in _list(tweet.get("edit_history_tweet_ids")) if isinstance(i, str | int)]
    return history if str(tweet.get("id")) in history else []


def _newest_id(history: list[str]) -> str:
    return max(history, key=lambda i: (len(i), i))  # snowflake ids grow with time


def _tweet_events(post: Post, history: list[str]) -> list[Parsed]:
    """An observed tweet: its upsert, and the deletes of the versions its edit made older."""
    events: list[Parsed] = [Upsert(post)]
    events.extend(
        Delete(id=f"x:{old}", version=post.version, reason=EDITED) for old in history if old != post.native_id
    )
    return events


def parse_v2_document(doc: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    data = doc.get("data")
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in V2_COMPLIANCE:
        action = next(iter(data))
        return parse_v2_compliance(action, _dict(data[action]), received_ms)
    includes = _dict(doc.get("includes"))
    users = {str(u.get("id")): u for u in _list(includes.get("users")) if isinstance(u, dict)}
    places = {str(p.get("id")): p for p in _list(includes.get("places")) if isinstance(p, dict)}
    included = {str(t.get("id")): t for t in _list(includes.get("tweets")) if isinstance(t, dict)}
    source_format = "twarc2" if "__twarc" in doc else "x_v2"
    observed = received_ms if received_ms is not None else _observed_ms(doc)
    entries = [data] if isinstance(data, dict) else _list(data)
    if not entries:
        if doc.get("errors") or doc.get("meta") is not None:
            return []  # an error-only or empty page: nothing to forward
        raise ParseError("unknown_shape", "v2 document without data")
    newest: dict[str, str] = {}
    for tweet in [*entries, *included.values()]:
        history = _edit_history(_dict(tweet))
        if len(history) > 1:
            for old in history:
                newest[old] = _newest_id(history)
    events: list[Parsed] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(Refused("not_a_tweet", f"data entry is a {type(entry).__name__}"))
            continue
        native = str(entry.get("id", ""))
        try:
            history = _edit_history(entry)
            latest = _newest_id(history) if len(history) > 1 else native
            if latest != native:
                # An older version of an edited tweet: the post is its newest version (parsed from
                # this page's includes when they hold it); this id is deleted either way.
                version = observed if observed is not None else ms_of(_snowflake_time(latest) or _dt_iso(
                    entry.get("created_at")))
                if latest in included and latest not in seen:
                    seen.add(latest)
                    post = parse_v2_tweet(included[latest], users, places, observed, source_format, included,
                                          newest)
                    events.extend(_tweet_events(post, history))  # deletes this id too
                elif latest not in seen:
                    events.append(Delete(id=f"x:{_str_id(native)}", version=_version(version), reason=EDITED))
                continue
            seen.add(native)
            post = parse_v2_tweet(entry, users, places, observed, source_format, included, newest)
            events.extend(_tweet_events(post, history))
        except ParseError as exc:
            events.append(Refused(exc.reason, exc.detail, f"x:{native}" if native else None))
    return events


# ---------------------------------------------------------------- Bluesky Jetstream

BSKY_POST = "app.bsky.feed.post"

# Jetstream `account` events: an inactive account's `status` -> the hidden reason of its posts.
_BSKY_ACCOUNT_STATUS = {
    "takendown": visibility.SUSPENDED,
    "suspended": visibility.SUSPENDED,
    "deleted": visibility.ACCOUNT_DELETED,
    "deactivated": visibility.ACCOUNT_DELETED,
    "desynchronized": None,
    "throttled": None,
}


def _at_uri_to_id(uri: Any) -> str | None:
    """at://<did>/app.bsky.feed.post/<rkey> -> bluesky:<did>/<rkey>."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or parts[1] != BSKY_POST:
        return None
    return f"bluesky:{parts[0]}/{parts[2]}"


def _jetstream_account(doc: dict[str, Any], version: int) -> list[Parsed]:
    """An account event: inactive -> its posts hidden for the status; active again -> shown."""
    account = _dict(doc.get("account"))
    did = doc.get("did")
    if not isinstance(did, str) or not did.startswith("did:"):
        raise ParseError("bad_id", f"did={did!r}")
    if account.get("active") is True:  # active again: every account-level reason is undone
        return [UserCompliance(user_id=f"bluesky:{did}", version=version, action="account_active",
                               reason=reason, on=False)
                for reason in (visibility.SUSPENDED, visibility.ACCOUNT_DELETED)]
    status = account.get("status")
    reason = _BSKY_ACCOUNT_STATUS.get(status) if isinstance(status, str) else visibility.SUSPENDED
    if reason is None and status in _BSKY_ACCOUNT_STATUS:
        return []  # a relay's own state, not the account's choice
    return [UserCompliance(user_id=f"bluesky:{did}", version=version, action=f"account_{status}",
                           reason=reason or visibility.SUSPENDED)]


def parse_jetstream(doc: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    """A Jetstream event -> [] (not a post commit), [Upsert], [Delete] or an account event."""
    kind = doc.get("kind")
    # Replayed files: Jetstream's time_us, when the relay saw the event (a later observation wins,
    # the same file twice is the same versions). Live: the receive time.
    time_ms = _int(doc.get("time_us")) // 1000 or now_ms()
    version = _version(received_ms if received_ms is not None else time_ms)
    if kind == "identity":
        return []  # a handle change: Pulse stores no Bluesky handle
    if kind == "account":
        return _jetstream_account(doc, version)
    if kind != "commit":
        raise ParseError("unknown_shape", f"jetstream kind {kind!r}")
    commit = _dict(doc.get("commit"))
    if commit.get("collection") != BSKY_POST:
        return []
    did = doc.get("did")
    rkey = commit.get("rkey")
    if not isinstance(did, str) or not did.startswith("did:") or not isinstance(rkey, str) or not rkey:
        raise ParseError("bad_id", f"did={did!r} rkey={rkey!r}")
    post_id = f"bluesky:{did}/{rkey}"
    if len(post_id) > MAX_ID_CHARS:  # refused here, for deletes too (a Delete carries no schema check)
        raise ParseError("bad_id", f"id of {len(post_id)} characters > {MAX_ID_CHARS}: {post_id[:80]!r}")
    operation = commit.get("operation")
    if operation == "delete":
        return [Delete(id=post_id, version=version, reason="user_delete")]
    if operation not in {"create", "update"}:
        raise ParseError("unknown_shape", f"jetstream operation {operation!r}")
    record = _dict(commit.get("record"))
    created_at = _dt_iso(record.get("createdAt"))
    reply = _dict(record.get("reply"))
    embed = _dict(record.get("embed"))
    quoted = _dict(embed.get("record"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        quoted = _dict(quoted.get("record"))
    post_type, referenced = "original", None
    if reply:
        post_type, referenced = "reply", _at_uri_to_id(_dict(reply.get("parent")).get("uri"))
    elif quoted and _at_uri_to_id(quoted.get("uri")):
        post_type, referenced = "quote", _at_uri_to_id(quoted.get("uri"))
    tags, mentions, urls = list(_list(record.get("tags"))), [], []
    for facet in _list(record.get("facets")):
        for feature in _list(_dict(facet).get("features")):
            feature = _dict(feature)
            ftype = feature.get("$type", "")
            if ftype.endswith("#tag"):
                tags.append(feature.get("tag"))
            elif ftype.endswith("#mention"):
                mentions.append(feature.get("did"))
            elif ftype.endswith("#link"):
                urls.append(feature.get("uri"))
    external = _dict(embed.get("external"))
    if external.get("uri"):
        urls.append(external["uri"])
    langs = [lang for lang in _list(record.get("langs")) if isinstance(lang, str)]
    root_id = _at_uri_to_id(_dict(reply.get("root")).get("uri")) if reply else None
    post = _build_post(
        id=post_id,
        network="bluesky",
        native_id=f"{did}/{rkey}",
        created_at=created_at,
        text=_text(record.get("text", "")),
        lang=langs[0] if langs else None,
        author=Author(id=f"bluesky:{did}"),
        post_type=post_type,
        referenced_id=referenced,
        conversation_id=root_id or post_id,
        hashtags=_dedupe(tags),
        mentions=_dedupe(mentions),
        urls=_dedupe(urls),
        source_format="jetstream",
        version=version,
    )
    return [Upsert(post)]


# ---------------------------------------------------------------- detection


def _is_batch_compliance(doc: dict[str, Any]) -> bool:
    return "action" in doc and "id" in doc and "text" not in doc and "user" not in doc


def parse_document(
    doc: Any, received_ms: int | None = None, *, compliance_ids: str = "tweets"
) -> list[Parsed]:
    """Any supported document -> events; ParseError for anything else. `compliance_ids`: what the
    ids of twarc2 batch-compliance lines are ("tweets" or "users")."""
    if not isinstance(doc, dict):
        raise ParseError("unknown_shape", f"top level is {type(doc).__name__}")
    if "kind" in doc and "did" in doc and "time_us" in doc:
        return parse_jetstream(doc, received_ms)
    if "data" in doc or "includes" in doc or isinstance(doc.get("meta"), dict):
        return parse_v2_document(doc, received_ms)
    if "delete" in doc and isinstance(doc["delete"], dict):
        return [parse_v1_delete(doc, received_ms)]
    if "user" in doc and ("id_str" in doc or "id" in doc) and "created_at" in doc:
        return [Upsert(parse_v1_status(doc, received_ms))]
    if "id" in doc and ("text" in doc or "note_tweet" in doc) and ("author_id" in doc or "author" in doc
                                                                   or "edit_history_tweet_ids" in doc):
        # twarc2 flattened / bare v2 tweet
        fmt = "twarc2" if "__twarc" in doc or "author" in doc else "x_v2"
        observed = received_ms if received_ms is not None else _observed_ms(doc)
        post = parse_v2_tweet(doc, {}, {}, observed, fmt)
        history = _edit_history(doc)
        if len(history) > 1 and _newest_id(history) != post.native_id:
            return [Delete(id=post.id, version=post.version, reason=EDITED)]
        return _tweet_events(post, history)
    if len(doc) == 1 and next(iter(doc)) in V1_COMPLIANCE and isinstance(next(iter(doc.values())), dict):
        action = next(iter(doc))
        return parse_v1_compliance(action, doc[action], received_ms)
    if _is_batch_compliance(doc):
        return parse_batch_compliance(doc, compliance_ids)
    if set(doc) & {"limit", "warning", "disconnect"}:
        return []  # v1.1 stream control messages: nothing to forward
    raise ParseError("unknown_shape", "keys: " + ",".join(sorted(str(k) for k in doc)[:8]))


def parse_line(
    line: bytes | str, received_ms: int | None = None, *, compliance_ids: str = "tweets"
) -> list[Parsed]:
    """One JSON line -> events. Non-UTF-8 bytes, bad JSON or an unknown shape raise ParseError; a
    page's unreadable tweet is a `Refused` among the events of its neighbours."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("not_utf8", f"byte {exc.start}") from exc
    stripped = line.strip()
    if not stripped:
        return []
    try:
        doc = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        raise ParseError("bad_json", str(exc)[:120]) from exc
    try:
        return parse_document(doc, received_ms, compliance_ids=compliance_ids)
    except ParseError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        raise ParseError("invalid_post", f"{type(exc).__name__}: {exc}"[:160]) from exc
