"""What the enricher asks the posts table to do: the write operations PostStore.apply takes, what it
reports back, and the rule that leaves one write per post id in a batch."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Upsert:
    id: str
    version: int
    item: dict[str, Any]


@dataclass
class Delete:
    id: str
    version: int


@dataclass
class Hide:
    """A compliance event on a stored post: hide it for `reason` (`on`) or show it again."""

    id: str
    version: int
    reason: str
    on: bool = True


@dataclass
class UserEvent:
    """A user-level compliance event: hide / show every post of `user_id` for `reason` (stored
    posts now, later posts when they arrive), or (reason None) scrub their locations up to the
    native post id `up_to_id`."""

    id: str  # the user id, "x:123"
    version: int
    reason: str | None
    on: bool = True
    up_to_id: str | None = None


Op = Upsert | Delete | Hide | UserEvent


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    delete_noop: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # a hide or unhide applied
    hide_noop: list[str] = field(default_factory=list)  # no live post, or not newer than the last event
    user_events: list[str] = field(default_factory=list)  # user-level events recorded (user ids)
    user_noop: list[str] = field(default_factory=list)  # not newer than the user's last such event
    rejected: dict[str, str] = field(default_factory=dict)  # id -> DynamoDB's reason


def latest_per_id(ops: Iterable[Op]) -> list[Op]:
    """One write per id: the highest version; at equal versions a delete wins. Hides are not
    writes of the post: they are applied after them, each (PostStore.apply)."""
    best: dict[str, Op] = {}
    for op in ops:
        if isinstance(op, Hide | UserEvent):
            continue
        current = best.get(op.id)
        if (
            current is None
            or op.version > current.version
            or (op.version == current.version and isinstance(op, Delete))
        ):
            best[op.id] = op
    return list(best.values())
