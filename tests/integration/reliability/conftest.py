"""The reliability scenarios are what `make reliability` runs (bench/scenarios): importable here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
