"""Parsers: one line/document of any supported shape -> normalized events.

Supported shapes, detected per document:
- X API v1.1 statuses (`statuses/filter`, twarc v1 JSONL) and v1.1 delete notices;
- X API v2 responses (`{"data": {...} | [...], "includes": {...}}`, also twarc2 JSONL pages);
- twarc2 flattened tweets (a v2 tweet with `author` inlined);
- X v2 compliance deletes (`{"data": {"delete": {...}}}`);
- Bluesky Jetstream events (commit create/update/delete of app.bsky.feed.post).

`version`: when `received_ms` is None (replayed files) a post's version is its created_at in ms, so
replaying the same file twice is idempotent, and a delete's version is the deletion time; live
sources pass the receive time.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from pulse_common.dates import DateOutOfRange, bounded_utc
from pulse_common.schema import MAX_ID_CHARS, MAX_TEXT_CHARS, MAX_VERSION, Author, Engagement, GeoPoint, Post

from .events import Delete, Event, Upsert, ms_of, now_ms


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


def parse_v1_status(status: dict[str, Any], received_ms: int | None) -> Post:
    sid = _str_id(status.get("id_str") or status.get("id"))
    user = _dict(status.get("user"))
    if not user:
        raise ParseError("missing_user", f"status {sid}")
    created_at = _dt_v1(status.get("created_at"))
    extended = _dict(status.get("extended_tweet"))
    text = _text(extended.get("full_text") or status.get("full_text") or status.get("text") or "")
    entities = _dict(extended.get("entities")) or _dict(status.get("entities"))
    post_type, referenced = "original", None
    retweeted = _dict(status.get("retweeted_status"))
    if retweeted:
        post_type, referenced = "retweet", _str_id(retweeted.get("id_str") or retweeted.get("id"))
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
        engagement=Engagement(
            likes=_int(status.get("favorite_count")),
            reposts=_int(status.get("retweet_count")),
            replies=_int(status.get("reply_count")),
            quotes=_int(status.get("quote_count")),
        ),
        hashtags=_dedupe(_dict(h).get("text") for h in _list(entities.get("hashtags"))),
        mentions=_dedupe(_dict(m).get("screen_name") for m in _list(entities.get("user_mentions"))),
        urls=_dedupe(
            _dict(u).get("expanded_url") or _dict(u).get("url") for u in _list(entities.get("urls"))
        ),
        geo=geo,
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


def parse_v2_tweet(
    tweet: dict[str, Any],
    users: dict[str, dict[str, Any]],
    places: dict[str, dict[str, Any]],
    received_ms: int | None,
    source_format: str = "x_v2",
) -> Post:
    tid = _str_id(tweet.get("id"))
    author_id = _str_id(tweet.get("author_id") or _dict(tweet.get("author")).get("id"))
    user = _dict(tweet.get("author")) or users.get(author_id, {})
    created_at = _dt_iso(tweet.get("created_at"))
    note = _dict(tweet.get("note_tweet"))
    text = _text(note.get("text") or tweet.get("text"))
    entities = _dict(note.get("entities")) or _dict(tweet.get("entities"))
    post_type, referenced = "original", None
    refs = {
        _dict(r).get("type"): _dict(r).get("id") for r in _list(tweet.get("referenced_tweets")) if _dict(r)
    }
    for ref_type in ("retweeted", "quoted", "replied_to"):  # a reply that quotes is a quote... of a reply
        if refs.get(ref_type):
            post_type, referenced = _V2_REF_TYPES[ref_type], _str_id(refs[ref_type])
            break
    if refs.get("replied_to") and post_type == "quote":
        post_type, referenced = "reply", _str_id(refs["replied_to"])
    metrics = _dict(tweet.get("public_metrics"))
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
        author=_v2_author(user, author_id),
        post_type=post_type,
        referenced_id=f"x:{referenced}" if referenced else None,
        conversation_id=f"x:{conversation}" if conversation else None,
        engagement=Engagement(
            likes=_int(metrics.get("like_count")),
            reposts=_int(metrics.get("retweet_count")),
            replies=_int(metrics.get("reply_count")),
            quotes=_int(metrics.get("quote_count")),
        ),
        hashtags=_dedupe(_dict(h).get("tag") for h in _list(entities.get("hashtags"))),
        mentions=_dedupe(_dict(m).get("username") for m in _list(entities.get("mentions"))),
        urls=_dedupe(
            _dict(u).get("expanded_url") or _dict(u).get("url") for u in _list(entities.get("urls"))
        ),
        geo=geo,
        source_format=source_format,
        version=received_ms if received_ms is not None else ms_of(created_at),
    )


def parse_v2_document(doc: dict[str, Any], received_ms: int | None) -> list[Event]:
    data = doc.get("data")
    includes = _dict(doc.get("includes"))
    users = {str(u.get("id")): u for u in _list(includes.get("users")) if isinstance(u, dict)}
    places = {str(p.get("id")): p for p in _list(includes.get("places")) if isinstance(p, dict)}
    source_format = "twarc2" if "__twarc" in doc else "x_v2"
    if isinstance(data, dict) and "delete" in data and "text" not in data:
        return [_v2_compliance_delete(data, received_ms)]
    tweets = [data] if isinstance(data, dict) else _list(data)
    if not tweets:
        if doc.get("errors") or doc.get("meta") is not None:
            return []  # an error-only or empty page: nothing to forward
        raise ParseError("unknown_shape", "v2 document without data")
    events: list[Event] = []
    for tweet in tweets:
        if not isinstance(tweet, dict):
            raise ParseError("unknown_shape", "v2 data entry is not an object")
        events.append(Upsert(parse_v2_tweet(tweet, users, places, received_ms, source_format)))
    return events


def _v2_compliance_delete(data: dict[str, Any], received_ms: int | None) -> Delete:
    body = _dict(data.get("delete"))
    tweet = _dict(body.get("tweet"))
    tid = _str_id(tweet.get("id"))
    version = received_ms
    if version is None:
        version = ms_of(_dt_iso(body["event_at"])) if body.get("event_at") else now_ms()
    return Delete(id=f"x:{tid}", version=_version(version), reason="compliance")


# ---------------------------------------------------------------- Bluesky Jetstream

BSKY_POST = "app.bsky.feed.post"


def _at_uri_to_id(uri: Any) -> str | None:
    """at://<did>/app.bsky.feed.post/<rkey> -> bluesky:<did>/<rkey>."""
    if not isinstance(uri, str) or not uri.startswith("at://"):
        return None
    parts = uri[5:].split("/")
    if len(parts) != 3 or parts[1] != BSKY_POST:
        return None
    return f"bluesky:{parts[0]}/{parts[2]}"


def parse_jetstream(doc: dict[str, Any], received_ms: int | None) -> list[Event]:
    """A Jetstream event -> [] (not a post commit), [Upsert] or [Delete]."""
    kind = doc.get("kind")
    if kind in {"identity", "account"}:
        return []
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
    # Replayed files: a create is versioned by its createdAt (idempotent replays), an update or a
    # delete by Jetstream's time_us (when it happened). Live: the receive time.
    time_ms = _int(doc.get("time_us")) // 1000 or now_ms()
    version = _version(received_ms if received_ms is not None else time_ms)
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
        version=ms_of(created_at) if received_ms is None and operation == "create" else version,
    )
    return [Upsert(post)]


# ---------------------------------------------------------------- detection


def parse_document(doc: Any, received_ms: int | None = None) -> list[Event]:
    """Any supported document -> events; ParseError for anything else."""
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
    if "author_id" in doc and "text" in doc and "id" in doc:  # twarc2 flattened / bare v2 tweet
        fmt = "twarc2" if "__twarc" in doc or "author" in doc else "x_v2"
        return [Upsert(parse_v2_tweet(doc, {}, {}, received_ms, fmt))]
    if set(doc) & {"limit", "warning", "disconnect", "scrub_geo", "status_withheld", "user_withheld"}:
        return []  # v1.1 stream control messages: nothing to forward
    raise ParseError("unknown_shape", "keys: " + ",".join(sorted(str(k) for k in doc)[:8]))


def parse_line(line: bytes | str, received_ms: int | None = None) -> list[Event]:
    """One JSON line -> events. Non-UTF-8 bytes, bad JSON or an unknown shape raise ParseError."""
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
        return parse_document(doc, received_ms)
    except ParseError:
        raise
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError) as exc:
        raise ParseError("invalid_post", f"{type(exc).__name__}: {exc}"[:160]) from exc
