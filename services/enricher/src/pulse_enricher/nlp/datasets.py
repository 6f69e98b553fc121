"""Readers for the labelled data in ../shared/datasets (used by pulse-train and pulse-eval only).

Each reader checks its format line by line and raises `DatasetFormatError` (file, line,
what is wrong, and which kind of file it looks like instead), so a sentiment file passed
as a target file is an error before anything is scored, never a score.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
LABELS = ("negative", "neutral", "positive")
ASPECT_POLARITIES = (*LABELS, "conflict")
MAX_OFFSET_PROBLEMS = 0.01  # SemEval files whose term offsets miss the text more often are refused


class DatasetFormatError(ValueError):
    """A labelled file is not in the format its option expects."""

    def __init__(self, path: Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {problem}")


def _guess(fields: list[str]) -> str:
    """What a tab-separated line looks like, for error messages."""
    if len(fields) == 4 and fields[2].strip().isdigit():
        return " (this looks like a target file: polarity<TAB>target<TAB>start<TAB>text, for --target)"
    if len(fields) == 2 and fields[0] in LABELS:
        return " (this looks like a sentiment file: label<TAB>text, for --sentiment)"
    if len(fields) == 2 and _is_number(fields[0]):
        return " (this looks like a rating file: mean_rating<TAB>text, which pulse-eval does not score)"
    return ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _lines(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, start=1):
                line = line.rstrip("\n")
                if line.strip():
                    yield n, line
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(path, None, f"not UTF-8 text ({exc.reason})") from exc


def datasets_dir() -> Path:
    """`PULSE_DATASETS_DIR`, else the nearest `shared/datasets` beside the repo or one of its
    parents (<repo>/../shared/datasets for a clone, further up for a git worktree)."""
    env = os.environ.get("PULSE_DATASETS_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    repo = next((p for p in here.parents if (p / ".git").exists() or (p / "Makefile").exists()), Path.cwd())
    for parent in repo.parents:
        candidate = parent / "shared" / "datasets"
        if candidate.is_dir():
            return candidate
    return repo.parent / "shared" / "datasets"


def _decode(text: str) -> str:
    # semeval2017_train keeps some characters as literal \uXXXX escapes.
    if "\\u" in text:
        text = _U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def read_sentiment_tsv(path: Path) -> tuple[list[str], list[str]]:
    """label<TAB>text, no header, no quoting; label is negative, neutral or positive."""
    texts, labels = [], []
    for n, line in _lines(path):
        fields = line.split("\t")
        if len(fields) != 2:
            raise DatasetFormatError(
                path, n, f"expected 2 tab-separated fields (label, text), found {len(fields)}{_guess(fields)}"
            )
        label, text = fields
        if label not in LABELS:
            raise DatasetFormatError(
                path, n, f"label {label!r} is not one of {', '.join(LABELS)}{_guess(fields)}"
            )
        labels.append(label)
        texts.append(_decode(text))
    if not texts:
        raise DatasetFormatError(path, None, "no labelled lines")
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
    """polarity<TAB>target<TAB>start<TAB>text, where text[start:start+len(target)] == target."""
    out = []
    for n, line in _lines(path):
        fields = line.split("\t", 3)
        if len(fields) != 4:
            raise DatasetFormatError(
                path,
                n,
                f"expected 4 tab-separated fields (polarity, target, start, text), found {len(fields)}"
                + _guess(line.split("\t")),
            )
        label, target, start, text = fields
        if label not in LABELS:
            raise DatasetFormatError(path, n, f"polarity {label!r} is not one of {', '.join(LABELS)}")
        if not start.isdigit():
            raise DatasetFormatError(path, n, f"start {start!r} is not a character offset")
        if not target or text[int(start) : int(start) + len(target)] != target:
            raise DatasetFormatError(path, n, f"target {target!r} is not at offset {start} of the text")
        out.append(TargetExample(text, target, int(start), label))
    if not out:
        raise DatasetFormatError(path, None, "no labelled lines")
    return out


@dataclass
class AspectSentence:
    id: str
    text: str
    terms: list[tuple[int, int, str, str]] = field(default_factory=list)  # (from, to, term, polarity)


def read_semeval_xml(path: Path) -> list[AspectSentence]:
    """SemEval-2014 Task 4 XML: <sentence id><text/><aspectTerms><aspectTerm term polarity from to/>.

    A term whose offsets miss its text (the laptops training file has 9) is moved to the
    nearest occurrence of the term in the sentence, or left out when there is none; more
    than 1 % of such terms means the file is not what it claims to be.
    """
    try:
        root = ET.parse(path).getroot()  # noqa: S314 (local labelled files)
    except ET.ParseError as exc:
        raise DatasetFormatError(path, None, f"not XML ({exc}); --aspects wants SemEval-2014 XML") from exc
    sentences = list(root.iter("sentence"))
    if not sentences:
        raise DatasetFormatError(path, None, "no <sentence> elements: not a SemEval-2014 aspect file")
    out = []
    n_terms = moved = 0
    for sent in sentences:
        text = sent.findtext("text")
        if text is None:
            raise DatasetFormatError(path, None, f"sentence {sent.get('id')!r} has no <text>")
        terms = []
        for at in sent.iter("aspectTerm"):
            n_terms += 1
            term, polarity = at.get("term") or "", at.get("polarity")
            try:
                start, end = int(at.get("from", "")), int(at.get("to", ""))
            except ValueError as exc:
                raise DatasetFormatError(
                    path, None, f"sentence {sent.get('id')!r}: aspectTerm {term!r} without integer from/to"
                ) from exc
            if polarity not in ASPECT_POLARITIES:
                raise DatasetFormatError(
                    path, None, f"sentence {sent.get('id')!r}: polarity {polarity!r} of {term!r} is unknown"
                )
            if text[start:end] != term:
                moved += 1
                found = [m.start() for m in re.finditer(re.escape(term), text)] if term else []
                if not found:
                    continue
                start = min(found, key=lambda s: abs(s - start))
                end = start + len(term)
            terms.append((start, end, term, polarity))
        out.append(AspectSentence(sent.get("id", ""), text, terms))
    if n_terms and moved > max(5, MAX_OFFSET_PROBLEMS * n_terms):
        raise DatasetFormatError(
            path, None, f"{moved} of {n_terms} aspect terms have offsets that miss the text"
        )
    return out
