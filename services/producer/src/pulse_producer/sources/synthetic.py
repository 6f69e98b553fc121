"""Synthetic source: the sample generator with live timestamps, ids `synthetic:<n>`, paced by `rate`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from pulse_common.schema import Post

from ..events import Item, Upsert, ms_of
from ..parsers.x_v2 import parse_v2_document
from ..sample import Generator
from . import Pacer, SourceStats


def synthetic_post(made_n: int, ref_n: int | None, post: Post, at: datetime) -> Post:
    """Re-key a generated X-shaped post as network `synthetic` with live created_at and version."""
    return post.model_copy(
        update={
            "id": f"synthetic:{made_n}",
            "network": "synthetic",
            "native_id": str(made_n),
            "created_at": at,
            "referenced_id": f"synthetic:{ref_n}" if ref_n is not None else None,
            "conversation_id": None,
            "author": post.author.model_copy(update={"id": post.author.id.replace("x:", "synthetic:", 1)}),
            "source_format": "synthetic",
            "version": ms_of(at),
        }
    )


class SyntheticSource:
    name = "synthetic"

    def __init__(
        self,
        *,
        rate: float = 0.0,
        count: int | None = None,
        seed: int = 12,
        stop: threading.Event | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.count = count
        self.stop = stop or threading.Event()
        self.pacer = Pacer(rate, self.stop)
        self.generator = Generator(seed)
        self.clock = clock
        self.stats = SourceStats()

    def close(self) -> None:
        self.stop.set()

    def items(self) -> Iterator[Item]:
        produced = 0
        while self.count is None or produced < self.count:
            if not self.pacer.wait():
                return
            at = self.clock()
            made = self.generator.make(at)
            (event,) = parse_v2_document(made.doc, received_ms=None)
            assert isinstance(event, Upsert)
            post = synthetic_post(made.n, made.ref_n, event.post, at)
            produced += 1
            yield Item(event=Upsert(post), source=f"synthetic:{made.n}")
