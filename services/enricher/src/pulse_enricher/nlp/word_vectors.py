"""Word vectors, and their pooling over a target's context.

The target model reads vectors learnt without labels from the training texts, pooled (max,
min, mean) over the left context, the right context, the target and the whole post; the
aspect model reads pretrained ones pooled over the term's ±3-token window. `PooledScorer`
adds that share of a model's scores as one matrix product.
"""

from __future__ import annotations

import gzip
import io
from itertools import repeat
from pathlib import Path

import numpy as np

from .features import feature_column
from .linear_model import LinearModel

WORD_VECTORS = "word_vectors.npz.gz"
# The committed pretrained vectors (pretrained/SOURCES.md), copied into the models dir for the aspect model.
PRETRAINED_WORD_VECTORS = "pretrained_word_vectors.npz.gz"


class WordVectors:
    """Word vectors learnt without labels (`training.word_embeddings`), stored as int8 codes
    with one scale (a quarter of the float16 size); looked up by feature token."""

    def __init__(self, vocab: list[str], codes: np.ndarray, scale: float) -> None:
        self.vocab = list(vocab)
        self.codes = codes.astype(np.int8)
        self.scale = float(scale)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.matrix = self.codes.astype(np.float32) * np.float32(self.scale)
        self.dims = self.matrix.shape[1] if self.matrix.ndim == 2 else 0

    @classmethod
    def from_floats(cls, vocab: list[str], vectors: np.ndarray) -> WordVectors:
        peak = float(np.abs(vectors).max()) if vectors.size else 1.0
        scale = round(peak / 127.0, 8) or 1.0
        return cls(vocab, np.clip(np.rint(vectors / scale), -127, 127).astype(np.int8), scale)

    def save(self, path: Path) -> None:
        buf = io.BytesIO()
        np.savez(buf, vocab=np.array(self.vocab), codes=self.codes, scale=np.array(self.scale))
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as fh:
            fh.write(buf.getvalue())

    @classmethod
    def load(cls, model_dir: Path, name: str = WORD_VECTORS) -> WordVectors | None:
        path = model_dir / name
        if not path.exists():
            return None
        with gzip.open(path, "rb") as fh:
            data = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            return cls([str(w) for w in data["vocab"]], data["codes"], float(data["scale"]))


_POOL_COLUMNS: dict[tuple[int, int], np.ndarray] = {}  # (bits, dims) -> (4 regions, 3 pools, dims) columns
REGIONS = ("L", "R", "T", "F")


def pool_columns(bits: int, dims: int) -> np.ndarray:
    cols = _POOL_COLUMNS.get((bits, dims))
    if cols is None:
        names = [f"e{r}{p}{d}" for r in REGIONS for p in ("mx", "mn", "av") for d in range(dims)]
        cols = np.array([feature_column(f, bits) for f in names], dtype=np.int64)
        cols = _POOL_COLUMNS[(bits, dims)] = cols.reshape(len(REGIONS), 3, dims)
    return cols


def pooled_matrix(
    toks: list[str], t_start: int, t_end: int, vectors: WordVectors
) -> tuple[np.ndarray, list[bool]] | None:
    """`pooled_vectors` as one (regions, 3, dims) float32 array (a region without a known word
    is zeros) and which regions have one; None when no word of the post is known."""
    found = list(map(vectors.index.get, toks, repeat(-1, len(toks))))  # each token's row, -1: unknown
    rows = list(filter((-1).__ne__, found))
    if not rows:
        return None
    n = len(rows)
    before, inside = found[:t_start], found[t_start:t_end]
    left = len(before) - before.count(-1)  # known words left of the target
    mid = left + len(inside) - inside.count(-1)  # ... and up to its end
    post = vectors.matrix.take(rows, axis=0)
    zero = _zero_row(vectors.dims)
    maximum, minimum, add = np.maximum.reduce, np.minimum.reduce, np.add.reduce
    parts: list[np.ndarray] = []  # per region: max, min, mean (joined into one array at the end)
    present = []
    for lo, hi in ((0, left), (mid, n), (left, mid), (0, n)):
        size = hi - lo
        present.append(size > 0)
        if size == 0:
            parts += (zero, zero, zero)
        elif size == 1:
            row = post[lo]  # one word: its vector is the max, the min and the mean
            parts += (row, row, row)
        elif size == 2:  # one comparison or addition per value: any order gives the same bits
            a, b = post[lo], post[lo + 1]
            parts += (np.maximum(a, b), np.minimum(a, b), (a + b) / _FLOAT32[2])
        else:
            # What block.max/min/sum(axis=0) compute (the sum row after row), without their wrappers.
            block = post if size == n else post[lo:hi]
            parts += (maximum(block, axis=0), minimum(block, axis=0), add(block, axis=0) / _float32(size))
    # The means divide the float32 sums in float32: numpy's mean divides them as float64 and
    # rounds to float32, which gives the same bits (a quotient of two floats rounded to double
    # and then to float is the quotient rounded to float once: 53 >= 2 * 24 + 2 bits).
    return np.concatenate(parts).reshape(len(REGIONS), 3, vectors.dims), present


_ZERO_ROWS: dict[int, np.ndarray] = {}
_FLOAT32 = [np.float32(k) for k in range(64)]


def _zero_row(dims: int) -> np.ndarray:
    row = _ZERO_ROWS.get(dims)
    if row is None:
        row = _ZERO_ROWS[dims] = np.zeros(dims, dtype=np.float32)
        row.flags.writeable = False
    return row


def _float32(k: int) -> np.float32:
    return _FLOAT32[k] if k < len(_FLOAT32) else np.float32(k)


def pooled_vectors(
    toks: list[str], t_start: int, t_end: int, vectors: WordVectors
) -> list[np.ndarray | None]:
    """Per region (left context, right context, target, whole post): [max, min, mean] of the
    known words' vectors (3 × dims float32), None for a region without a known word."""
    pooled = pooled_matrix(toks, t_start, t_end, vectors)
    if pooled is None:
        return [None] * len(REGIONS)
    values, present = pooled
    return [values[r].ravel() if here else None for r, here in enumerate(present)]


class PooledScorer:
    """The pooled word vectors' share of a linear model's scores as one matrix product:
    (regions × 3·dims values) @ the weight rows of their columns. Equal to adding them as
    features (`target_context_features` + `add_missing`): a pooled column that is already a
    feature of the mention or of the post counts with that feature's value, and where two
    pooled columns share a hashed column the later region's value counts, as in the dict
    (only the float32 summation order differs)."""

    def __init__(self, model: LinearModel, dims: int) -> None:
        cols = pool_columns(model.bits, dims).reshape(len(REGIONS), -1)
        self.columns = frozenset(cols.ravel().tolist())
        self.weights = np.ascontiguousarray(model.W[cols.ravel()])  # (regions · 3 · dims, classes)
        width = cols.shape[1]
        flat = cols.ravel().tolist()
        # (position, region of a later position with the same column): dropped when that region is there
        self.shadowed = [
            (pos, later // width)
            for pos, col in enumerate(flat)
            for later in range(pos + 1, len(flat))
            if flat[later] == col
        ]
        self.width = width
        self.positions: dict[int, list[int]] = {}
        for pos, col in enumerate(flat):
            self.positions.setdefault(col, []).append(pos)

    def scores(self, pooled: list[np.ndarray | None], taken: set[int]) -> list[float]:
        """`taken`: the pooled columns that are already features (their feature value counts)."""
        values = np.zeros((len(pooled), self.width), dtype=np.float32)
        for r, v in enumerate(pooled):
            if v is not None:
                values[r] = v
        return self.matrix_scores(values, [v is not None for v in pooled], taken)

    def matrix_scores(self, values: np.ndarray, present: list[bool], taken: set[int]) -> list[float]:
        """`scores` of `pooled_matrix`'s output (`values` is zeroed in place where a column is
        shadowed or taken)."""
        flat = values.reshape(-1)
        for pos, region in self.shadowed:
            if present[region]:
                flat[pos] = 0.0
        for col in taken:
            flat[self.positions[col]] = 0.0
        return flat.dot(self.weights).tolist()
