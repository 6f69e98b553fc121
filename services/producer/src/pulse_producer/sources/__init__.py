"""Sources: each yields `Item`s (normalized events) until it ends or is closed."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from .. import metrics
from ..events import Delete, Hide, Refused, Upsert
from ..parsers import ParseError

log = logging.getLogger("pulse.producer.source")
T = TypeVar("T")
UNEXPECTED_ERROR = "unexpected_error"  # the skip reason of an exception that is not a ParseError


# What a source read, by outcome (the replay summary prints them).
POSTS, DELETES, HIDES, UNHIDES, USER_EVENTS = "posts", "deletes", "hides", "unhides", "user_compliance"


def outcome_of(event: object) -> str:
    if isinstance(event, Upsert):
        return POSTS
    if isinstance(event, Delete):
        return DELETES
    if isinstance(event, Hide):
        return HIDES if event.on else UNHIDES
    return USER_EVENTS


@dataclass
class SourceStats:
    """Counted by the reader thread; read by the runner at the end."""

    skipped: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)

    def skip(self, source: str, reason: str, where: str, detail: str = "") -> None:
        self.skipped += 1
        self.skipped_by_reason[reason] = self.skipped_by_reason.get(reason, 0) + 1
        metrics.INPUT_SKIPPED.labels(source=source, reason=reason).inc()
        if reason != "not_tracked":
            log.warning("input skipped", extra={"reason": reason, "position": where, "detail": detail[:200]})

    def isolated(self, source: str, where: str, handle: Callable[[], list[T]]) -> list[T]:
        """One message's work, isolated from the stream it came in: whatever it raises is that
        message's alone. A ParseError is skipped under its reason; any other exception is skipped
        as `unexpected_error` (with its traceback in the log). Nothing propagates to the read loop,
        so a hostile message can never pass for a lost connection and be read again forever.
        A `Refused` part of a message (one tweet of a page) is skipped under its reason, its
        neighbours kept."""
        try:
            return self._forwarded(source, where, handle())
        except ParseError as exc:
            self.skip(source, exc.reason, where, exc.detail)
        except Exception as exc:  # the point: no message may stop a source (logged, counted)
            log.warning("message handling failed", exc_info=True, extra={"position": where})
            self.skip(source, UNEXPECTED_ERROR, where, f"{type(exc).__name__}: {exc}")
        return []

    def _forwarded(self, source: str, where: str, found: list[T]) -> list[T]:
        kept: list[T] = []
        for entry in found:
            event = getattr(entry, "event", entry)
            if isinstance(event, Refused):
                self.skip(source, event.reason, f"{where} {event.id or ''}".strip(), event.detail)
                continue
            outcome = outcome_of(event)
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            kept.append(entry)
        return kept


def write_atomically(path: Path, text: str) -> None:
    """Replace `path`'s content in one step (a crash leaves the old file or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Source(Protocol):
    name: str
    stats: SourceStats

    def items(self) -> Iterator:  # Iterator[Item]
        ...

    def close(self) -> None:
        """Stop as soon as possible (called from a signal handler or another thread)."""
        ...


# Events due within this much of now go out at once: one sleep per ~50 ms instead of one per
# event: every sleep wakes the reader and then the sink thread, and those wake-ups, not the posts,
# were most of a paced producer's CPU (figures in the README).
PACING_SLACK_S = 0.05


class Pacer:
    """Spread events at `rate` per second (0 = no pacing); waiting is cut short by `stop`."""

    def __init__(
        self,
        rate: float,
        stop: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.stop = stop
        self.clock = clock
        self._start: float | None = None
        self._count = 0

    def wait(self) -> bool:
        """Wait for the next slot; False if stopped meanwhile."""
        if self.rate <= 0:
            return not self.stop.is_set()
        now = self.clock()
        if self._start is None:
            self._start = now
        due = self._start + self._count / self.rate
        self._count += 1
        if due > now + PACING_SLACK_S:
            return not self.stop.wait(due - now)
        if now - due > 1.0:  # fell behind by more than a second: do not burst to catch up
            self._start = now - (self._count - 1) / self.rate
        return not self.stop.is_set()
