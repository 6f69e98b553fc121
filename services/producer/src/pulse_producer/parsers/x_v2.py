"""X API v2 responses (`{"data": {...} | [...], "includes": {...}}`, also twarc2 JSONL pages) and
single v2 tweets (twarc2 flattened lines carry the author inline).

A page is read tweet by tweet: a tweet that cannot be read is a `Refused` with its reason, its
neighbours are kept. A retweet's text and entities are the original's (`includes.tweets`, or a
flattened line's inline reference), its engagement 0. An older version of an edited tweet is
deleted; the post is its newest version. A compliance event in a `data` envelope goes to
`compliance`.
"""

from __future__ import annotations

from typing import Any

from pulse_common.schema import Author, Engagement, Post

from ..events import Delete, Parsed, Refused, ms_of
from .compliance import V2_COMPLIANCE, parse_v2_compliance
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
    iso_time,
    optional_time,
    unique_strings,
)
from .x_rules import (
    EDITED,
    edit_history,
    hidden_reasons,
    newest_id,
    snowflake_time,
    twarc_retrieved_ms,
    tweet_events,
)

UNKNOWN_AUTHOR = "x:unknown"  # a v2 tweet fetched without the author_id field / expansion


def _v2_author(user: dict[str, Any], author_id: str) -> Author:
    metrics = as_dict(user.get("public_metrics"))
    return Author(
        id=f"x:{author_id}",
        username=user.get("username"),
        name=user.get("name"),
        followers=as_count(metrics.get("followers_count")),
        following=as_count(metrics.get("following_count")),
        posts_count=as_count(metrics.get("tweet_count")),
        listed=as_count(metrics.get("listed_count")),
        verified=bool(user.get("verified"))
        or user.get("verified_type") in {"blue", "business", "government"},
        created_at=optional_time(user.get("created_at")),
    )


_V2_REF_TYPES = {"retweeted": "retweet", "quoted": "quote", "replied_to": "reply"}


def _v2_text(tweet: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The full text (a long post's `note_tweet`) and its entities."""
    note = as_dict(tweet.get("note_tweet"))
    return as_text(note.get("text") or tweet.get("text")), as_dict(note.get("entities")) or as_dict(
        tweet.get("entities"))


def _has_text(tweet: dict[str, Any]) -> bool:
    return isinstance(tweet.get("text"), str) or isinstance(as_dict(tweet.get("note_tweet")).get("text"), str)


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
    tid = as_id(tweet.get("id"))
    if not _has_text(tweet):
        raise ParseError("not_a_tweet" if "text" not in tweet else "bad_text", f"{tid}: no text")
    raw_author = tweet.get("author_id") or as_dict(tweet.get("author")).get("id")
    if raw_author is None:
        author = Author(id=UNKNOWN_AUTHOR)
        user: dict[str, Any] = {}
    else:
        try:
            author_id = as_id(raw_author)
        except ParseError as exc:
            raise ParseError("bad_author_id", f"tweet {tid}: {exc.detail}") from exc
        user = as_dict(tweet.get("author")) or users.get(author_id, {})
        author = _v2_author(user, author_id)
    if tweet.get("created_at") is not None:
        created_at = iso_time(tweet.get("created_at"))
    else:
        snowflake = snowflake_time(tid)
        if snowflake is None:
            raise ParseError("missing_created_at", f"tweet {tid}")
        created_at = snowflake
    post_type, referenced = "original", None
    refs = {
        as_dict(r).get("type"): as_dict(r) for r in as_list(tweet.get("referenced_tweets")) if as_dict(r)
    }
    for ref_type in ("retweeted", "quoted", "replied_to"):  # a reply that quotes is a quote... of a reply
        if refs.get(ref_type, {}).get("id"):
            post_type, referenced = _V2_REF_TYPES[ref_type], as_id(refs[ref_type]["id"])
            break
    if refs.get("replied_to", {}).get("id") and post_type == "quote":
        post_type, referenced = "reply", as_id(refs["replied_to"]["id"])
    content = tweet
    metrics = as_dict(tweet.get("public_metrics"))
    engagement = Engagement(
        likes=as_count(metrics.get("like_count")),
        reposts=as_count(metrics.get("retweet_count")),
        replies=as_count(metrics.get("reply_count")),
        quotes=as_count(metrics.get("quote_count")),
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
    geo_field = as_dict(tweet.get("geo"))
    geo = geojson_point(geo_field.get("coordinates"))
    if geo is None and geo_field.get("place_id"):
        geo = bbox_center(as_dict(as_dict(places.get(str(geo_field["place_id"]))).get("geo")).get("bbox"))
    conversation = tweet.get("conversation_id")
    return build_post(
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
        hashtags=unique_strings(as_dict(h).get("tag") for h in as_list(entities.get("hashtags"))),
        mentions=unique_strings(as_dict(m).get("username") for m in as_list(entities.get("mentions"))),
        urls=unique_strings(
            as_dict(u).get("expanded_url") or as_dict(u).get("url") for u in as_list(entities.get("urls"))
        ),
        geo=geo,
        hidden=hidden_reasons(text, tweet.get("withheld"), content.get("withheld"), user.get("withheld")),
        source_format=source_format,
        version=observed_ms if observed_ms is not None else ms_of(created_at),
    )


def parse_v2_document(doc: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    data = doc.get("data")
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in V2_COMPLIANCE:
        action = next(iter(data))
        return parse_v2_compliance(action, as_dict(data[action]), received_ms)
    includes = as_dict(doc.get("includes"))
    users = {str(u.get("id")): u for u in as_list(includes.get("users")) if isinstance(u, dict)}
    places = {str(p.get("id")): p for p in as_list(includes.get("places")) if isinstance(p, dict)}
    included = {str(t.get("id")): t for t in as_list(includes.get("tweets")) if isinstance(t, dict)}
    source_format = "twarc2" if "__twarc" in doc else "x_v2"
    observed = received_ms if received_ms is not None else twarc_retrieved_ms(doc)
    entries = [data] if isinstance(data, dict) else as_list(data)
    if not entries:
        if doc.get("errors") or doc.get("meta") is not None:
            return []  # an error-only or empty page: nothing to forward
        raise ParseError("unknown_shape", "v2 document without data")
    newest: dict[str, str] = {}
    for tweet in [*entries, *included.values()]:
        history = edit_history(as_dict(tweet))
        if len(history) > 1:
            for old in history:
                newest[old] = newest_id(history)
    events: list[Parsed] = []
    seen: set[str] = set()
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(Refused("not_a_tweet", f"data entry is a {type(entry).__name__}"))
            continue
        native = str(entry.get("id", ""))
        try:
            history = edit_history(entry)
            latest = newest_id(history) if len(history) > 1 else native
            if latest != native:
                # An older version of an edited tweet: the post is its newest version (parsed from
                # this page's includes when they hold it); this id is deleted either way.
                version = observed if observed is not None else ms_of(snowflake_time(latest) or iso_time(
                    entry.get("created_at")))
                if latest in included and latest not in seen:
                    seen.add(latest)
                    post = parse_v2_tweet(included[latest], users, places, observed, source_format, included,
                                          newest)
                    events.extend(tweet_events(post, history))  # deletes this id too
                elif latest not in seen:
                    events.append(
                        Delete(id=f"x:{as_id(native)}", version=checked_version(version), reason=EDITED)
                    )
                continue
            seen.add(native)
            post = parse_v2_tweet(entry, users, places, observed, source_format, included, newest)
            events.extend(tweet_events(post, history))
        except ParseError as exc:
            events.append(Refused(exc.reason, exc.detail, f"x:{native}" if native else None))
    return events
