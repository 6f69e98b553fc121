"""Compliance events: X v2 compliance stream events, the v1.1 firehose's compliance messages and
twarc2 batch-compliance lines -> deletes, hides (with their reason, on or off) and user-level
events. A compliance event's version is its event time (`event_at`, `timestamp_ms`), or the
receive time live.
"""

from __future__ import annotations

from typing import Any

from pulse_common.contracts import visibility

from ..events import Delete, Hide, Parsed, UserCompliance, ms_of, now_ms
from .fields import ParseError, as_dict, as_id, as_list, checked_version, iso_time
from .x_rules import EDITED, newest_id

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


def _event_ms(value: Any, received_ms: int | None) -> int:
    """A compliance event's version: the receive time live, else its own time (ms or ISO)."""
    if received_ms is not None:
        return checked_version(received_ms)
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        return checked_version(int(value))
    if isinstance(value, str) and value:
        return checked_version(ms_of(iso_time(value)))
    return checked_version(now_ms())


def _edit_deletes(edit_ids: Any, newest: Any, version: int) -> list[Parsed]:
    """A tweet_edit event: every id of the chain but the newest is deleted (reason `edited`)."""
    ids = [as_id(i) for i in as_list(edit_ids)]
    if not ids:
        raise ParseError("missing_edit_ids", "tweet_edit without edit_tweet_ids")
    last = as_id(newest) if newest is not None else newest_id(ids)
    return [Delete(id=f"x:{i}", version=version, reason=EDITED) for i in ids if i != last]


def _user_event(action: str, user_id: Any, version: int) -> UserCompliance:
    reason, on = _USER_EVENTS[action]
    return UserCompliance(user_id=f"x:{as_id(user_id)}", version=version, action=action, reason=reason,
                          on=on)


def parse_v2_compliance(action: str, body: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    """One v2 compliance stream event (`{"data": {<action>: body}}`)."""
    version = _event_ms(body.get("event_at"), received_ms)
    tweet, user = as_dict(body.get("tweet")), as_dict(body.get("user"))
    if action == "delete":
        return [Delete(id=f"x:{as_id(tweet.get('id'))}", version=version, reason="compliance")]
    if action == "tweet_edit":
        return _edit_deletes(body.get("edit_tweet_ids"), tweet.get("id"), version)
    if action in _POST_HIDES:
        reason, on = _POST_HIDES[action]
        return [Hide(id=f"x:{as_id(tweet.get('id'))}", version=version, reason=reason, on=on)]
    if action == "user_profile_modification":
        return []  # a profile field changed: the next post carries the new profile
    event = _user_event(action, user.get("id"), version)
    if action == "scrub_geo":
        event.up_to_id = as_id(body.get("up_to_tweet_id"))
    return [event]


def parse_v1_compliance(action: str, body: dict[str, Any], received_ms: int | None) -> list[Parsed]:
    """One v1.1 firehose compliance message (`{<action>: body}`)."""
    version = _event_ms(body.get("timestamp_ms") or body.get("timestampMs"), received_ms)
    status = as_dict(body.get("status"))
    if action == "tweet_edit":
        return _edit_deletes(body.get("edit_tweet_ids"), body.get("id"), version)
    if action in _POST_HIDES:
        reason, on = _POST_HIDES[action]
        sid = as_id(status.get("id_str") or status.get("id"))
        return [Hide(id=f"x:{sid}", version=version, reason=reason, on=on)]
    user = as_dict(body.get("user"))
    user_id = (body.get("user_id_str") or body.get("user_id") or user.get("id_str") or user.get("id")
               or body.get("id_str") or body.get("id"))
    event = _user_event(action, user_id, version)
    if action == "scrub_geo":
        event.up_to_id = as_id(body.get("up_to_status_id_str") or body.get("up_to_status_id"))
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
    native = as_id(doc.get("id"))
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
        return [Delete(id=f"x:{native}", version=checked_version(now_ms()), reason="compliance")]
    return [Hide(id=f"x:{native}", version=version, reason=hidden)]

