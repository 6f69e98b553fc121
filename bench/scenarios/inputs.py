"""A scenario's input, and the state it must leave in the stores (computed from the input alone)."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .world import SAMPLE, Workspace


def sample_docs() -> list[dict]:
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Expected:
    """What the stores must hold at the end: id -> expected post (None: deleted)."""

    posts: dict[str, Any] = field(default_factory=dict)  # id -> Post | None
    versions: dict[str, int] = field(default_factory=dict)
    deleted_at: dict[str, int] = field(default_factory=dict)

    def apply_upsert(self, post) -> None:
        have = self.versions.get(post.id)
        if have is None or post.version > have:
            self.posts[post.id], self.versions[post.id] = post, post.version

    def apply_delete(self, post_id: str, version: int) -> None:
        have = self.versions.get(post_id)
        if have is None or version >= have:
            self.posts[post_id], self.versions[post_id] = None, version

    @property
    def present(self) -> dict[str, Any]:
        return {k: v for k, v in self.posts.items() if v is not None}

    def __len__(self) -> int:
        return len(self.posts)


def replay_lines(count: int, tag: str, *, start: int = 0, docs: list[dict] | None = None) -> list[str]:
    """`count` X v2 lines built from the sample with fresh ids `<tag><n>` (the sample's texts)."""
    docs = docs or sample_docs()
    lines = []
    for i in range(start, start + count):
        doc = json.loads(json.dumps(docs[i % len(docs)]))
        native = f"{tag}{i:07d}"
        doc["data"]["id"] = native
        doc["data"]["conversation_id"] = native
        doc["data"]["edit_history_tweet_ids"] = [native]
        lines.append(json.dumps(doc, separators=(",", ":")))
    return lines


def delete_line(native_id: str, version_ms: int) -> str:
    return json.dumps({"delete": {"status": {"id_str": native_id, "user_id_str": "1"},
                                  "timestamp_ms": str(version_ms)}})


def expected_from_lines(lines: Iterable[str], expected: Expected | None = None) -> Expected:
    from pulse_producer.events import Delete, Upsert
    from pulse_producer.parsers import ParseError, parse_line

    expected = expected or Expected()
    for line in lines:
        try:
            events = parse_line(line)
        except ParseError:
            continue
        for event in events:
            if isinstance(event, Upsert):
                expected.apply_upsert(event.post)
            elif isinstance(event, Delete):
                expected.apply_delete(event.id, event.version)
    return expected


def write_lines(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def put_direct(ws: Workspace, records: list[tuple[bytes, str]]) -> None:
    """put_records in order (chunks of 500), re-putting failed entries before the next chunk."""
    from pulse_common.aws import client
    from pulse_common.retry import RetryPolicy

    kinesis = client("kinesis", ws.stack)
    for start in range(0, len(records), 500):
        pending = [{"Data": d, "PartitionKey": k[:256]} for d, k in records[start:start + 500]]
        delays = RetryPolicy(base_s=0.05, cap_s=1.0).delays()
        for _attempt in range(50):
            if not pending:
                break
            response = kinesis.put_records(StreamName=ws.stack.stream_name, Records=pending)
            pending = [e for e, r in zip(pending, response["Records"], strict=True) if "ErrorCode" in r]
            if pending:
                time.sleep(next(delays))
        if pending:
            raise RuntimeError(f"{len(pending)} records could not be put")


def replay_input(ws: Workspace, count: int, tag: str) -> tuple[Expected, Path]:
    """`count` fresh posts built from the sample (ids tagged `tag`): their expected state, and the
    replay file the producer reads."""
    lines = replay_lines(count, tag)
    return expected_from_lines(lines), write_lines(ws.log_dir / "input.jsonl", lines)
