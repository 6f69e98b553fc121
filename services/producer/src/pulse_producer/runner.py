"""Reader thread -> bounded queue -> batching sink; graceful stop flushes everything received."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from . import metrics
from .events import Item
from .sink import KinesisSink, SinkError

log = logging.getLogger("pulse.producer.runner")

_END = object()


@dataclass
class Summary:
    received: int = 0
    put: int = 0
    failed: int = 0
    skipped: int = 0
    dead_letter: int = 0
    error: str | None = None
    outcomes: dict[str, int] | None = None  # what was read: posts, deletes, hides, ... (SourceStats)
    refused: dict[str, int] | None = None  # what was skipped, by reason

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "received": self.received,
            "put": self.put,
            "failed": self.failed,
            "skipped": self.skipped,
            "dead_letter": self.dead_letter,
        }
        if self.outcomes is not None:
            out["outcomes"] = dict(sorted(self.outcomes.items()))
        if self.refused is not None:
            out["refused"] = dict(sorted(self.refused.items()))
        if self.error:
            out["error"] = self.error
        return out


class Runner:
    def __init__(
        self, source: Any, sink: KinesisSink, *, queue_size: int = 10_000, linger_s: float = 0.1
    ) -> None:
        self.source = source
        self.sink = sink
        self.linger_s = linger_s
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self.received = 0
        self.reader_error: BaseException | None = None
        self.sink_error: SinkError | None = None
        self._abort = threading.Event()  # the sink gave up: the reader must not block on a full queue
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Graceful stop: the source stops reading, everything already received is flushed."""
        self._stopping.set()
        self.source.close()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # ------------------------------------------------------------ reader

    def _read(self) -> None:
        source_name = getattr(self.source, "name", "source")
        counter = metrics.POSTS_RECEIVED.labels(source=source_name)
        try:
            for item in self.source.items():
                while True:
                    try:
                        self.queue.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        if self._abort.is_set():
                            return
                self.received += 1
                counter.inc()
        except BaseException as exc:
            self.reader_error = exc
            log.exception("source failed", extra={"source": source_name})
        finally:
            while not self._abort.is_set():
                try:
                    self.queue.put(_END, timeout=0.2)
                    break
                except queue.Full:
                    continue

    # ------------------------------------------------------------ sink loop

    def run(self) -> Summary:
        reader = threading.Thread(target=self._read, name="producer-reader", daemon=True)
        reader.start()
        error: str | None = None
        deadline = 0.0
        try:
            while True:
                metrics.QUEUE_DEPTH.set(self.queue.qsize())
                if self.sink.buffered:
                    timeout = max(0.0, deadline - time.monotonic())
                else:
                    timeout = 0.5
                try:
                    item = self.queue.get(timeout=timeout)
                except queue.Empty:
                    if self.sink.buffered and time.monotonic() >= deadline:
                        self.sink.flush()
                    continue
                if item is _END:
                    break
                assert isinstance(item, Item)
                if not self.sink.buffered:
                    deadline = time.monotonic() + self.linger_s
                self.sink.add(item)
                if self.sink.buffered and time.monotonic() >= deadline:
                    self.sink.flush()
            self.sink.flush()
        except SinkError as exc:
            self.sink_error = exc
            error = str(exc)
            log.error("sink failed; stopping", extra={"error": error})
        finally:
            if error is not None:
                self._abort.set()
                self.source.close()
                reader.join(timeout=5)
                left = 0
                while True:
                    try:
                        if self.queue.get_nowait() is not _END:
                            left += 1
                    except queue.Empty:
                        break
                self.sink.failed += left
            else:
                reader.join(timeout=5)
            metrics.QUEUE_DEPTH.set(0)
        if error is None and self.reader_error is not None:
            error = f"source failed: {type(self.reader_error).__name__}: {self.reader_error}"
        stats = getattr(self.source, "stats", None)
        return Summary(
            received=self.received,
            put=self.sink.put,
            failed=self.sink.failed,
            skipped=stats.skipped if stats is not None else 0,
            dead_letter=self.sink.dead_lettered,
            error=error,
            outcomes=dict(stats.outcomes) if stats is not None else None,
            refused=dict(stats.skipped_by_reason) if stats is not None else None,
        )
