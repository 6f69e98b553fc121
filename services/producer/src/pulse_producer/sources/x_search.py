"""X API v2 search: backfill the days before tracking started, through tweepy's `Client` and `Paginator`.

One query per stream rule of the tracking config (`x_stream.rules_for`: the same terms the filtered
stream follows), each paged with `tweepy.Paginator` over `search_recent_tweets` (the last 7 days) or,
with `archive=True`, `search_all_tweets` (full archive; needs an account with that access), bounded by
`since` / `until` (start_time / end_time). Each page is parsed like a stream message (the same
expansions and fields) and goes to the same batched sink.

Resumable: a JSON checkpoint file holds the query in progress and the `next_token` of the first page
not yet fully sent (`Item.on_sent` acknowledges each post; a page's token is saved only once every post
of the pages before it was put), so a restart with the same window resumes there instead of paying
for the pages again. A finished query moves the checkpoint to the next one; a finished backfill
removes the file.

Rate limits: a 429 (`tweepy.TooManyRequests`) waits until X's `x-rate-limit-reset` (or 60 s when
the header is missing), with a wait `close()` interrupts, then asks for the same page again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tweepy

from pulse_common.tracking import TrackingConfig

from ..events import Item, now_ms
from ..parsers import parse_document
from . import SourceStats, write_atomically
from .x_stream import EXPANSIONS, PLACE_FIELDS, TWEET_FIELDS, USER_FIELDS, XStreamError, rules_for

log = logging.getLogger("pulse.producer.x_search")

DEFAULT_RATE_LIMIT_WAIT_S = 60.0
MAX_RESULTS = {False: 100, True: 500}  # recent search pages hold up to 100 posts, full archive 500


@dataclass
class _Page:
    query: int
    token_after: str | None  # the next_token that follows this page (None: the query's last page)
    pending: int


@dataclass
class Checkpoint:
    """Where a backfill resumes: the query's index and the next_token of the first unsent page."""

    path: Path | None
    window: str  # since/until/archive: a checkpoint of another window is not resumed
    queries: int = 1
    query: int = 0
    next_token: str | None = None
    _pages: list[_Page] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, path: Path | None, window: str, queries: int) -> Checkpoint:
        checkpoint = cls(path, window, queries)
        if path is not None and path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved.get("window") == window:
                checkpoint.query = int(saved.get("query", 0))
                checkpoint.next_token = saved.get("next_token")
        return checkpoint

    def page(self, query: int, token_after: str | None, posts: int) -> Callable[[], None]:
        """Register a page of `posts` items; returns the acknowledgement each of its items calls."""
        entry = _Page(query, token_after, posts)
        with self._lock:
            self._pages.append(entry)
        if posts == 0:
            self._advance()

        def acked() -> None:
            with self._lock:
                entry.pending -= 1
            self._advance()

        return acked

    def _advance(self) -> None:
        with self._lock:
            moved = False
            while self._pages and self._pages[0].pending <= 0:
                done = self._pages.pop(0)
                if done.token_after is None:  # the query's last page: the next query starts
                    self.query, self.next_token = done.query + 1, None
                else:
                    self.query, self.next_token = done.query, done.token_after
                moved = True
            if moved:
                self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        if self.query >= self.queries:  # every post of every query was sent: the backfill is done
            self.path.unlink(missing_ok=True)
            return
        state = {"window": self.window, "query": self.query, "next_token": self.next_token}
        write_atomically(self.path, json.dumps(state))


class XSearchSource:
    name = "x-search"

    def __init__(
        self,
        *,
        bearer_token: str,
        tracking: TrackingConfig,
        since: datetime | None = None,
        until: datetime | None = None,
        archive: bool = False,
        checkpoint_file: str | None = None,
        exclude_retweets: bool | None = None,
        client: tweepy.Client | None = None,
        stop: threading.Event | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client or tweepy.Client(bearer_token=bearer_token, return_type=dict)
        self.queries = [rule.value for rule in rules_for(tracking, exclude_retweets=exclude_retweets)]
        self.since, self.until, self.archive = since, until, archive
        window = f"{since.isoformat() if since else ''}/{until.isoformat() if until else ''}/{archive}"
        self.checkpoint = Checkpoint.load(Path(checkpoint_file) if checkpoint_file else None, window,
                                          len(self.queries))
        self.stop = stop or threading.Event()
        self.clock = clock
        self.stats = SourceStats()
        self.waits: list[float] = []  # every rate-limit wait, in order (observability and tests)
        self.pages = 0

    def close(self) -> None:
        self.stop.set()

    def _search(self) -> Callable[..., Any]:
        return self.client.search_all_tweets if self.archive else self.client.search_recent_tweets

    def items(self) -> Iterator[Item]:
        for index in range(self.checkpoint.query, len(self.queries)):
            if self.stop.is_set():
                return
            query = self.queries[index]
            token = self.checkpoint.next_token if index == self.checkpoint.query else None
            pages = iter(tweepy.Paginator(
                self._search(), query=query, start_time=self.since, end_time=self.until,
                max_results=MAX_RESULTS[self.archive], tweet_fields=TWEET_FIELDS, expansions=EXPANSIONS,
                user_fields=USER_FIELDS, place_fields=PLACE_FIELDS,
                pagination_token=token,
            ))
            while not self.stop.is_set():
                try:
                    page = next(pages)
                except StopIteration:
                    break
                except tweepy.TooManyRequests as exc:
                    self._wait_for_reset(exc)
                    continue
                except (tweepy.Unauthorized, tweepy.Forbidden) as exc:
                    raise XStreamError(
                        f"X refused the search ({exc.response.status_code}): check "
                        "PULSE_PRODUCER_X_BEARER_TOKEN and the account's access (full archive needs it)"
                    ) from exc
                yield from self._page_items(index, page, pages.next_token)

    def _page_items(self, query: int, page: dict[str, Any], token_after: str | None) -> list[Item]:
        self.pages += 1
        where = f"x-search:page:{self.pages}"
        events = self.stats.isolated(self.name, where, lambda: parse_document(page, received_ms=now_ms()))
        acked = self.checkpoint.page(query, token_after, len(events))
        return [Item(event=event, source=where, on_sent=acked) for event in events]

    def _wait_for_reset(self, exc: tweepy.TooManyRequests) -> None:
        reset = getattr(exc, "reset_time", None)
        delay = DEFAULT_RATE_LIMIT_WAIT_S if reset is None else max(1.0, reset - self.clock() + 1)
        self.waits.append(delay)
        log.warning("x search rate limited; waiting", extra={"delay_s": round(delay, 1)})
        self.stop.wait(delay)
