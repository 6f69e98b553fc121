"""Replay files (or stdin) of X v1.1 / X v2 / twarc / twarc2 / Jetstream JSON lines, gzip or plain."""

from __future__ import annotations

import gzip
import io
import os
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from ..events import Item
from ..parsers import parse_line
from . import Pacer, SourceStats

GZIP_MAGIC = b"\x1f\x8b"


def open_input(path: str, stdin: BinaryIO | None = None) -> BinaryIO:
    """Open a path ("-" = stdin) for binary reading, transparently un-gzipping by magic bytes."""
    raw: BinaryIO
    if path == "-":
        raw = stdin if stdin is not None else sys.stdin.buffer
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
        head = buffered.peek(2)[:2]
        return gzip.GzipFile(fileobj=buffered) if head == GZIP_MAGIC else buffered  # type: ignore[return-value]
    raw = open(path, "rb")
    head = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw) if head == GZIP_MAGIC else raw  # type: ignore[return-value]


class ReplaySource:
    name = "replay"

    def __init__(
        self,
        paths: list[str],
        *,
        rate: float = 0.0,
        loop: bool = False,
        stop: threading.Event | None = None,
        stdin: BinaryIO | None = None,
        compliance_ids: str = "auto",
    ) -> None:
        self.paths = paths
        self.compliance_ids = compliance_ids
        self.loop = loop
        self.stop = stop or threading.Event()
        self.pacer = Pacer(rate, self.stop)
        self.stdin = stdin
        self.stats = SourceStats()

    def close(self) -> None:
        self.stop.set()

    def items(self) -> Iterator[Item]:
        while True:
            for path in self.paths:
                yield from self._replay(path)
                if self.stop.is_set():
                    return
            if not self.loop or self.paths == ["-"]:
                return

    def _replay(self, path: str) -> Iterator[Item]:
        shown = "stdin" if path == "-" else path
        ids = self.compliance_ids
        if ids == "auto":  # twarc2 names its batch-compliance output users_compliance.jsonl / tweets_...
            ids = "users" if "user" in os.path.basename(shown).lower() else "tweets"
        with open_input(path, self.stdin) as handle:
            lineno = 0
            while True:
                try:
                    line = handle.readline()
                except (OSError, EOFError) as exc:  # truncated or corrupt gzip
                    self.stats.skip(self.name, "unreadable", f"{shown}:{lineno + 1}", str(exc))
                    return
                if not line:
                    return
                lineno += 1
                if self.stop.is_set():
                    return
                where = f"{shown}:{lineno}"
                events = self.stats.isolated(
                    self.name, where, lambda line=line: parse_line(line, compliance_ids=ids))
                for event in events:
                    if not self.pacer.wait():
                        return
                    yield Item(event=event, source=f"replay:{shown}:{lineno}")
