"""Bluesky Jetstream events: commits (create, update, delete) of `app.bsky.feed.post`, and
`account` events (an inactive account's posts are hidden for its status, shown again when it is
active). The version is the receive time live, else Jetstream's `time_us` (when the relay saw
the event), so a replayed file gives the same versions twice.
"""

from __future__ import annotations

from typing import Any

from pulse_common.contracts import visibility
from pulse_common.schema import MAX_ID_CHARS, Author

from ..events import Delete, Parsed, Upsert, UserCompliance, now_ms
from .fields import (
    ParseError,
    as_count,
    as_dict,
    as_list,
    as_text,
    build_post,
    checked_version,
    iso_time,
    unique_strings,
)

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
    account = as_dict(doc.get("account"))
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
    time_ms = as_count(doc.get("time_us")) // 1000 or now_ms()
    version = checked_version(received_ms if received_ms is not None else time_ms)
    if kind == "identity":
        return []  # a handle change: Pulse stores no Bluesky handle
    if kind == "account":
        return _jetstream_account(doc, version)
    if kind != "commit":
        raise ParseError("unknown_shape", f"jetstream kind {kind!r}")
    commit = as_dict(doc.get("commit"))
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
    record = as_dict(commit.get("record"))
    created_at = iso_time(record.get("createdAt"))
    reply = as_dict(record.get("reply"))
    embed = as_dict(record.get("embed"))
    quoted = as_dict(embed.get("record"))
    if embed.get("$type") == "app.bsky.embed.recordWithMedia":
        quoted = as_dict(quoted.get("record"))
    post_type, referenced = "original", None
    if reply:
        post_type, referenced = "reply", _at_uri_to_id(as_dict(reply.get("parent")).get("uri"))
    elif quoted and _at_uri_to_id(quoted.get("uri")):
        post_type, referenced = "quote", _at_uri_to_id(quoted.get("uri"))
    tags, mentions, urls = list(as_list(record.get("tags"))), [], []
    for facet in as_list(record.get("facets")):
        for feature in as_list(as_dict(facet).get("features")):
            feature = as_dict(feature)
            ftype = feature.get("$type", "")
            if ftype.endswith("#tag"):
                tags.append(feature.get("tag"))
            elif ftype.endswith("#mention"):
                mentions.append(feature.get("did"))
            elif ftype.endswith("#link"):
                urls.append(feature.get("uri"))
    external = as_dict(embed.get("external"))
    if external.get("uri"):
        urls.append(external["uri"])
    langs = [lang for lang in as_list(record.get("langs")) if isinstance(lang, str)]
    root_id = _at_uri_to_id(as_dict(reply.get("root")).get("uri")) if reply else None
    post = build_post(
        id=post_id,
        network="bluesky",
        native_id=f"{did}/{rkey}",
        created_at=created_at,
        text=as_text(record.get("text", "")),
        lang=langs[0] if langs else None,
        author=Author(id=f"bluesky:{did}"),
        post_type=post_type,
        referenced_id=referenced,
        conversation_id=root_id or post_id,
        hashtags=unique_strings(tags),
        mentions=unique_strings(mentions),
        urls=unique_strings(urls),
        source_format="jetstream",
        version=version,
    )
    return [Upsert(post)]
