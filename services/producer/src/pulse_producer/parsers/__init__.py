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

Modules: `fields` (ParseError and the field readers every shape shares), `x_rules` (snowflake
time, hidden reasons, edit chains), `x_v1`, `x_v2`, `compliance` (X v2, v1.1 and twarc2 batch
compliance), `jetstream` (Bluesky). This module detects a document's shape and dispatches.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..events import Delete, Parsed, Upsert
from .compliance import V1_COMPLIANCE, parse_batch_compliance, parse_v1_compliance
from .fields import ParseError
from .jetstream import parse_jetstream
from .x_rules import EDITED, edit_history, newest_id, twarc_retrieved_ms, tweet_events
from .x_v1 import parse_v1_delete, parse_v1_status
from .x_v2 import parse_v2_document, parse_v2_tweet

__all__ = ["ParseError", "parse_document", "parse_line"]


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
        observed = received_ms if received_ms is not None else twarc_retrieved_ms(doc)
        post = parse_v2_tweet(doc, {}, {}, observed, fmt)
        history = edit_history(doc)
        if len(history) > 1 and newest_id(history) != post.native_id:
            return [Delete(id=post.id, version=post.version, reason=EDITED)]
        return tweet_events(post, history)
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
