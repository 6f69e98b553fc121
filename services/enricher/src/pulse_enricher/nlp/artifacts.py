"""Where the versioned model artifacts live, the version string that names them, and the
reproducible JSON writer (the same data gives the same bytes, so the same version)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

RULESET_VERSION = "2026.11.1"
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
ARTIFACT_SUFFIXES = (".json", ".txt", ".bin", ".pkl", ".joblib", ".gz")


def artifact_files(model_dir: Path) -> list[Path]:
    if not model_dir.is_dir():
        return []
    return sorted(p for p in model_dir.iterdir() if p.is_file() and p.name.endswith(ARTIFACT_SUFFIXES))


def artifact_hash(model_dir: Path) -> str:
    """Short content hash of every artifact (names and bytes): changes whenever a model does."""
    digest = hashlib.sha256()
    for path in artifact_files(model_dir):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def version_string(model_dir: Path) -> str:
    return f"pulse-nlp/{RULESET_VERSION}+{artifact_hash(model_dir)}"


def write_json_gz(path: Path, data: object) -> None:
    """Compact, key-sorted JSON, gzip'd with mtime 0: the same data gives the same bytes."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
        fh.write(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
