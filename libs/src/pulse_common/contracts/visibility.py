"""Hidden posts: what must never be shown, counted or exported, and the one rule that keeps it out.

A post is *hidden* when it is stored but may not be shown: X withholds it (a `withheld` object, or
a placeholder text X sends instead of the post), or a compliance event says so (drop, withheld, a
protected / suspended / withheld / deleted account, a Bluesky account taken down or deactivated).
Hidden is reversible (undrop, unprotect, unsuspend, undelete, an account active again); a *delete*
is not: it replaces the post with a tombstone (`contracts.items`).

Where a hidden reason lives:
- `Post.hidden`: reasons the payload itself carries (`WITHHELD`, `UNAVAILABLE`), set by the parser;
- the posts item's `compliance` map (`contracts.items`): reasons set by compliance events, each
  with the event's version so an older event (a replay, an undo that happened before) changes nothing.

The search document's `hidden` field is the union of both (`contracts.search.derive`); every
search the dashboard, the reports and the exports make goes through `visible_only`, which leaves
out every document that has one.
"""

from __future__ import annotations

import re
from typing import Any

# Reasons a post is hidden (bounded: the search document's `hidden` keyword values).
WITHHELD = "withheld"  # a withheld object or placeholder, or a withheld event (post or account)
UNAVAILABLE = "unavailable"  # X's "temporarily unavailable" placeholder instead of the text
DROPPED = "dropped"  # X compliance `drop` (undone by `undrop`)
PROTECTED = "protected"  # the account went private (user_protect / unprotect)
SUSPENDED = "suspended"  # user_suspend / unsuspend; Bluesky account suspended or taken down
ACCOUNT_DELETED = "account_deleted"  # user_delete / undelete; Bluesky account deleted or deactivated

HIDDEN_FIELD = "hidden"

# X's placeholder texts: what its API sends in place of a post it may not show. Matched on the
# whole text (an optional mention of the account first, "Learn more." last).
_PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"account is temporarily unavailable because it violates the Twitter Media Policy",
                re.IGNORECASE), UNAVAILABLE),
    (re.compile(r"\b(?:account|tweet|post)\b.{0,80}\bhas been withheld in\b.{0,200}\bin response to a "
                r"legal demand", re.IGNORECASE | re.DOTALL), WITHHELD),
    (re.compile(r"\bhas been withheld in response to a report from the copyright holder", re.IGNORECASE),
     WITHHELD),
    (re.compile(r"^\s*This (?:Tweet|Post) is unavailable\.?\s*(?:Learn more\.?)?\s*$", re.IGNORECASE),
     UNAVAILABLE),
)
_MAX_PLACEHOLDER_CHARS = 400


def placeholder_reason(text: str) -> str | None:
    """`WITHHELD` or `UNAVAILABLE` when `text` is one of X's placeholders, else None."""
    if not text or len(text) > _MAX_PLACEHOLDER_CHARS or ("withheld" not in text.lower() and (
        "unavailable" not in text.lower()
    )):
        return None
    for pattern, reason in _PLACEHOLDERS:
        if pattern.search(text):
            return reason
    return None


NOT_HIDDEN: dict[str, Any] = {"exists": {"field": HIDDEN_FIELD}}


def visible_only(body: dict[str, Any]) -> dict[str, Any]:
    """The search `body` restricted to visible posts (a copy; aggregations, sorts etc. kept)."""
    out = dict(body)
    query = body.get("query")
    clause: dict[str, Any] = {"bool": {"must_not": [NOT_HIDDEN]}}
    if query is not None:
        clause["bool"]["must"] = [query]  # must, not filter: a relevance-sorted search keeps its scores
    out["query"] = clause
    return out
