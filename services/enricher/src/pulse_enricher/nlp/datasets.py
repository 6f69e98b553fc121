"""Readers for the labelled data in ../shared/datasets (used by pulse-train and pulse-eval only)."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
LABELS = ("negative", "neutral", "positive")


def datasets_dir() -> Path:
    """`PULSE_DATASETS_DIR`, else <repo>/../shared/datasets (the repo holds this package)."""
    env = os.environ.get("PULSE_DATASETS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / ".git").exists() or (parent / "Makefile").exists():
            return parent.parent / "shared" / "datasets"
    return Path.cwd().parent / "shared" / "datasets"


def _decode(text: str) -> str:
    # semeval2017_train keeps some characters as literal \uXXXX escapes.
    if "\\u" in text:
        text = _U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def read_sentiment_tsv(path: Path) -> tuple[list[str], list[str]]:
    """label<TAB>text, no header, no quoting."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            label, _, text = line.partition("\t")
            if label not in LABELS:
                raise ValueError(f"{path}: unknown label {label!r}")
            labels.append(label)
            texts.append(_decode(text))
    return texts, labels


def read_rating_tsv(path: Path, band: float = 0.5) -> tuple[list[str], list[str]]:
    """mean_rating<TAB>text (VADER's tweets, −4..+4) mapped to three labels."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            rating, _, text = line.partition("\t")
            r = float(rating)
            labels.append("positive" if r >= band else "negative" if r <= -band else "neutral")
            texts.append(_decode(text))
    return texts, labels


@dataclass
class TargetExample:
    text: str
    target: str
    start: int
    label: str

    @property
    def end(self) -> int:
        return self.start + len(self.target)


def read_target_tsv(path: Path) -> list[TargetExample]:
    """polarity<TAB>target<TAB>start<TAB>text."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            label, target, start, text = line.split("\t", 3)
            out.append(TargetExample(text, target, int(start), label))
    return out


@dataclass
class AspectSentence:
    id: str
    text: str
    terms: list[tuple[int, int, str, str]] = field(default_factory=list)  # (from, to, term, polarity)


def read_semeval_xml(path: Path) -> list[AspectSentence]:
    root = ET.parse(path).getroot()  # noqa: S314 (our own, local labelled files)
    out = []
    for sent in root.iter("sentence"):
        text = sent.findtext("text") or ""
        terms = []
        for at in sent.iter("aspectTerm"):
            terms.append((int(at.get("from")), int(at.get("to")), at.get("term"), at.get("polarity")))
        out.append(AspectSentence(sent.get("id", ""), text, terms))
    return out
