"""Bluesky Jetstream: app.bsky.feed.post commits over WebSocket, filtered locally by the tracking config.

- Posts that name a tracked brand (term, alias or hashtag; "exclude" terms removed first) are
  forwarded; the rest are skipped as `not_tracked`. The post's declared `langs` do not filter: they
  are what the author's app declared (often its default), and the enricher decides the language
  from the text when the text is clear (`unsupported_language` flags the rest).
- Deletes of posts this process forwarded are forwarded as delete events (Jetstream's delete commits
  carry no text, so there is no telling whether an unknown post was tracked; set
  PULSE_PRODUCER_JETSTREAM_FORWARD_UNKNOWN_DELETES=true to forward every delete).
- The cursor (Jetstream `time_us`) is saved to a file once the events up to it are on Kinesis (or
  skipped), and a restart resumes `rewind_s` before it: no gaps, duplicates are harmless (versions).
- Reconnects back off exponentially from 1 s to 30 s; a connection silent for `stall_timeout_s` is
  dropped and reopened.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from pulse_common.retry import RetryPolicy
from pulse_common.schema import Post
from pulse_common.tracking import TrackingConfig

from .. import metrics
from ..events import Delete, Event, Item, Upsert, now_ms
from ..parsers.jetstream import parse_jetstream
from . import SourceStats, write_atomically

log = logging.getLogger("pulse.producer.bluesky")

KNOWN_IDS_MAX = 200_000
# Reconnects: 1 s after a connection that delivered, then doubling up to 30 s while they keep failing.
RECONNECT = RetryPolicy(base_s=1.0, cap_s=30.0, jitter=False, max_attempts=None)


class KeywordFilter:
    """Does a post mention a tracked brand?"""

    def __init__(self, tracking: TrackingConfig) -> None:
        terms = sorted({t for b in tracking.brands for t in b.terms}, key=len, reverse=True)
        tags = sorted({f"#{h}" for b in tracking.brands for h in b.hashtags}, key=len, reverse=True)
        self.hashtags = {h.lstrip("#") for h in tags}
        self.pattern = re.compile(
            r"(?<![\w#])(?:" + "|".join(re.escape(t) for t in [*terms, *tags]) + r")(?!\w)", re.IGNORECASE
        )
        excludes = sorted({x for b in tracking.brands for x in b.exclude}, key=len, reverse=True)
        self.exclude = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(x) for x in excludes) + r")(?!\w)", re.IGNORECASE)
            if excludes
            else None
        )

    def mentions_brand(self, post: Post) -> bool:
        if any(tag.lower() in self.hashtags for tag in post.hashtags):
            return True
        text = self.exclude.sub(" ", post.text) if self.exclude else post.text
        return self.pattern.search(text) is not None


class CursorStore:
    """The last safe Jetstream cursor (time_us), in a small file, written atomically."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def load(self) -> int | None:
        try:
            return int(self.path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def save(self, cursor: int) -> None:
        write_atomically(self.path, f"{cursor}\n")


class JetstreamSource:
    name = "bluesky"

    def __init__(
        self,
        *,
        url: str,
        tracking: TrackingConfig,
        cursor_file: str | Path,
        rewind_s: float = 5.0,
        stall_timeout_s: float = 30.0,
        forward_unknown_deletes: bool = False,
        save_interval_s: float = 1.0,
        sleep: Callable[[float], Any] | None = None,
        stop: threading.Event | None = None,
        connect: Callable[..., Any] | None = None,
    ) -> None:
        self.url = url
        self.filter = KeywordFilter(tracking)
        self.cursor_store = CursorStore(cursor_file)
        self.rewind_us = int(rewind_s * 1_000_000)
        self.stall_timeout_s = stall_timeout_s
        self.forward_unknown_deletes = forward_unknown_deletes
        self.save_interval_s = save_interval_s
        self.stop = stop or threading.Event()
        self.sleep = sleep or (lambda seconds: self.stop.wait(seconds))
        if connect is None:
            from websockets.sync.client import connect as ws_connect

            connect = ws_connect
        self.connect = connect
        self.stats = SourceStats()
        self.delays: list[float] = []
        self.known: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pending = 0  # forwarded, not yet on Kinesis
        self._seen_us = 0  # newest time_us read
        self._cursor_us: int | None = self.cursor_store.load()
        self._saved_us = self._cursor_us
        self._saved_at = 0.0
        self._ws: Any = None

    @classmethod
    def from_settings(cls, settings: Any, tracking: TrackingConfig) -> JetstreamSource:
        return cls(
            url=settings.jetstream_url,
            tracking=tracking,
            cursor_file=settings.jetstream_cursor_file,
            rewind_s=settings.jetstream_rewind_s,
            stall_timeout_s=settings.jetstream_stall_timeout_s,
            forward_unknown_deletes=settings.jetstream_forward_unknown_deletes,
        )

    # -------------------------------------------------------------- cursor

    @property
    def cursor(self) -> int | None:
        return self._cursor_us

    def _advance(self, time_us: int) -> None:
        """Called with the lock held: the cursor may move to time_us."""
        if self._cursor_us is None or time_us > self._cursor_us:
            self._cursor_us = time_us
        if time.monotonic() - self._saved_at >= self.save_interval_s or (
            self.stop.is_set() and not self._pending
        ):
            self._save_locked()

    def _save_locked(self) -> None:
        if self._cursor_us is not None and self._cursor_us != self._saved_us:
            self.cursor_store.save(self._cursor_us)
            self._saved_us = self._cursor_us
        self._saved_at = time.monotonic()

    def save_cursor(self) -> None:
        with self._lock:
            self._save_locked()

    def _acked(self, time_us: int) -> None:
        with self._lock:
            self._pending -= 1
            # The sink acknowledges in order: everything read up to time_us is done; if nothing
            # forwarded is outstanding, so is everything read so far (skipped events included).
            self._advance(self._seen_us if self._pending == 0 else time_us)

    # -------------------------------------------------------------- connection

    def connect_url(self) -> str:
        params: dict[str, Any] = {"wantedCollections": "app.bsky.feed.post"}
        with self._lock:
            cursor = self._cursor_us
        if cursor is not None:
            params["cursor"] = max(cursor - self.rewind_us, 0)
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}{urlencode(params)}"

    def close(self) -> None:
        self.stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass

    def items(self) -> Iterator[Item]:
        delays = RECONNECT.delays()
        try:
            while not self.stop.is_set():
                got_any = False
                cause = "closed"
                try:
                    with self.connect(
                        self.connect_url(), open_timeout=10, close_timeout=2, max_size=2**22
                    ) as ws:
                        self._ws = ws
                        log.info("jetstream connected", extra={"cursor": self._cursor_us})
                        while not self.stop.is_set():
                            try:
                                message = ws.recv(timeout=self.stall_timeout_s)
                            except TimeoutError:
                                cause = "stall"
                                break
                            got_any = True
                            yield from self._handle(message)
                except Exception as exc:  # noqa: BLE001 - any connection trouble means reconnect
                    if self.stop.is_set():
                        break
                    cause = type(exc).__name__
                    log.warning("jetstream connection lost", extra={"error": repr(exc)[:300]})
                finally:
                    self._ws = None
                if self.stop.is_set():
                    break
                if got_any:  # a connection that delivered: the schedule starts over
                    delays = RECONNECT.delays()
                delay = next(delays)
                self.delays.append(delay)
                metrics.RECONNECTS.labels(source=self.name, cause=cause).inc()
                self.sleep(delay)
        finally:
            with self._lock:
                if self._pending == 0 and self._seen_us:
                    self._advance(self._seen_us)
                self._save_locked()

    def _handle(self, message: str | bytes) -> list[Item]:
        """One Jetstream message -> the items to forward. Whatever the message holds, its time_us
        is marked read, so the cursor moves past it (a message that fails stays skipped)."""
        received = now_ms()
        try:
            doc = orjson.loads(message)
        except orjson.JSONDecodeError as exc:
            self.stats.skip(self.name, "bad_json", "jetstream", str(exc))
            return []
        time_us = doc.get("time_us") if isinstance(doc, dict) else None
        time_us = time_us if isinstance(time_us, int) and not isinstance(time_us, bool) else 0
        where = f"jetstream:{time_us}"
        forwarded = self.stats.isolated(self.name, where, lambda: self._forwardable(doc, received, where))
        # One step under the lock: what was read and what is outstanding never disagree.
        with self._lock:
            self._seen_us = max(self._seen_us, time_us)
            self._pending += len(forwarded)
            if not forwarded and self._pending == 0:
                self._advance(time_us)
        return [
            Item(event=event, source=where, on_sent=lambda t=time_us: self._acked(t)) for event in forwarded
        ]

    def _forwardable(self, doc: Any, received: int, where: str) -> list[Event]:
        """The message's events that concern a tracked brand (and deletes of posts forwarded)."""
        events = parse_jetstream(doc, received_ms=received) if isinstance(doc, dict) else []
        forwarded: list[Event] = []
        for event in events:
            if isinstance(event, Upsert):
                if not self.filter.mentions_brand(event.post):
                    self.stats.skip(self.name, "not_tracked", where)
                    continue
                self.known[event.id] = None
                self.known.move_to_end(event.id)
                if len(self.known) > KNOWN_IDS_MAX:
                    self.known.popitem(last=False)
            elif isinstance(event, Delete):
                if event.id not in self.known and not self.forward_unknown_deletes:
                    self.stats.skip(self.name, "not_tracked", where)
                    continue
                self.known.pop(event.id, None)
            forwarded.append(event)
        return forwarded
