"""Reading the real payloads of `tests/fixtures/real/` (origins in its SOURCES.md)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import yaml

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def path(name: str) -> Path:
    return REAL / name


def lines(name: str) -> list[bytes]:
    """The non-empty lines of a JSON-lines fixture, as bytes (what replay reads)."""
    return [line for line in path(name).read_bytes().splitlines() if line.strip()]


def document(name: str) -> bytes:
    """A whole-file JSON example (X's documentation blocks keep their indentation) as one line."""
    return json.dumps(json.loads(path(name).read_text(encoding="utf-8"))).encode()


def cassette_bodies(name: str) -> list[bytes]:
    """The response bodies of a vcrpy cassette, un-gzipped as the client would read them."""
    cassette: dict[str, Any] = yaml.safe_load(path(name).read_text(encoding="utf-8"))
    bodies = []
    for interaction in cassette["interactions"]:
        body = interaction["response"]["body"]["string"]
        body = body if isinstance(body, bytes) else body.encode()
        bodies.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)
    return bodies
