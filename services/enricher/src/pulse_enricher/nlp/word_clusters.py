"""Distributional word clusters and classes learnt without labels (`pulse-train`): the clusters
(one granularity) are read by the post model and the aspect tagger, the classes (four
granularities) by the tagger. Each loader returns None when its artifact is absent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

WORD_CLUSTERS = "word_clusters.json.gz"
WORD_CLASSES = "word_classes.json.gz"


def load_word_clusters(model_dir: Path) -> dict[str, int] | None:
    """The word clusters artifact (word -> cluster id), None when there is none."""
    path = model_dir / WORD_CLUSTERS
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def load_word_classes(model_dir: Path) -> dict[str, list[int]] | None:
    """The word classes artifact (word -> class id at each granularity), None when there is none."""
    path = model_dir / WORD_CLASSES
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)["classes"]
