"""Where the local stack keeps its state: everything under <repo>/.local/."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCAL_DIR = Path(os.environ.get("PULSE_LOCAL_DIR", REPO_ROOT / ".local"))
LOG_DIR = LOCAL_DIR / "logs"
RUN_DIR = LOCAL_DIR / "run"
CACHE_DIR = LOCAL_DIR / "cache"
DATA_DIR = LOCAL_DIR / "data"
STACK_ENV_FILE = LOCAL_DIR / "stack.env"


def ensure_dirs() -> None:
    for directory in (LOG_DIR, RUN_DIR, CACHE_DIR, DATA_DIR):
        directory.mkdir(parents=True, exist_ok=True)
