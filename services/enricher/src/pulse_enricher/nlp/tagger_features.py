"""The aspect tagger's hashed token features: `token_rows` (the reference) and `RowBuilder` (the
same matrix from per-bigram and per-sign-pattern caches, what run time uses).

Per token: the word and its ±2 neighbours, lemma, 3-letter prefix/suffix, word shape,
neighbouring bigrams, the opinion-word signs around it, and with the word representations the
tagger was trained with: word clusters, word classes at four granularities, gazetteer marks and
the word's in-term ratio. Each base string is hashed once per token (CRC32); context templates
are combined arithmetically into columns of a (2**bits) weight matrix.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import compress, pairwise
from operator import add
from zlib import crc32

import numpy as np

from .features import N_DENSE
from .gazetteer import Gazetteer
from .pipeline import lemmatize

TAGGER_BITS = 18
_SHAPE_SUBS = [(re.compile(r"[A-Z]+"), "X"), (re.compile(r"[a-z]+"), "x"), (re.compile(r"[0-9]+"), "d")]
_P1 = 1_000_003
_P2 = 7_919


def _h(s: str) -> int:
    return crc32(s.encode("utf-8"))


@lru_cache(maxsize=200_000)
def shape(word: str) -> str:
    out = word
    for pattern, sub in _SHAPE_SUBS:
        out = pattern.sub(sub, out)
    return out[:6]


@lru_cache(maxsize=200_000)
def _word_hashes(word: str) -> tuple[int, int, int, int, int]:
    """Per-word base hashes: lower-cased form, suffix, prefix, shape, lemma."""
    low = word.lower()
    return (
        _h(low),
        _h("s:" + low[-3:]),
        _h("p:" + low[:3]),
        _h("h:" + shape(word)),
        _h("l:" + lemmatize(word)),
    )


@lru_cache(maxsize=200_000)
def _word_row(word: str) -> bytes:
    """`_word_hashes` packed as five native uint64 (joined and read back with one frombuffer)."""
    return np.array(_word_hashes(word), dtype=np.uint64).tobytes()


_PAD = np.array([_h("<s2>"), _h("<s>")], dtype=np.uint64)
_END = np.array([_h("<e>"), _h("<e2>")], dtype=np.uint64)
_U = np.uint64
# Columns of the per-token base matrix: word-level hashes and ids, then per-token codes that
# depend on the context (opinion sign, gazetteer mark), then the multi-granularity classes.
_W, _SUF, _PRE, _SHP, _LEM, _OP, _CL, _ZERO, _GZ, _GR, _K0, _K1, _K2, _K3 = range(14)
_N_BASE = 14
_CLASS_COLS = (_K0, _K1, _K2, _K3)
_CODE_COLS = frozenset({_OP, _GZ})
_CODE_PAD = {_OP: 3, _GZ: 7}  # the code of the padding tokens
# Templates: (template id, (offset, column), (offset, column)); feature = hash(a, b, id).
_Z = (0, _ZERO)
_TEMPLATES = [
    (1, _Z, (0, _W)),
    (2, _Z, (-1, _W)),
    (3, _Z, (1, _W)),
    (4, _Z, (-2, _W)),
    (5, _Z, (2, _W)),
    (6, (-1, _W), (0, _W)),
    (7, (0, _W), (1, _W)),
    (8, _Z, (0, _LEM)),
    (9, _Z, (0, _SUF)),
    (10, _Z, (0, _PRE)),
    (11, _Z, (0, _SHP)),
    (12, _Z, (-1, _SHP)),
    (13, _Z, (1, _SHP)),
    (14, _Z, (-1, _SUF)),
    (15, _Z, (1, _SUF)),
    (16, (-1, _OP), (1, _OP)),
    (17, (-2, _OP), (2, _OP)),
    (18, _Z, (0, _OP)),
    (19, (-1, _W), (0, _SHP)),
    (20, _Z, _Z),
]
_CLUSTER_TEMPLATES = [
    (21, _Z, (0, _CL)),
    (22, _Z, (-1, _CL)),
    (23, _Z, (1, _CL)),
    (24, (-1, _CL), (0, _CL)),
    (25, (0, _CL), (1, _CL)),
    (26, (0, _W), (1, _CL)),
]


_CLASS_TEMPLATES = [
    (30 + 3 * j + k, _Z, (off, col)) for j, col in enumerate(_CLASS_COLS) for k, off in enumerate((0, -1, 1))
]
_GAZETTEER_TEMPLATES = [
    (50, _Z, (0, _GZ)),
    (51, _Z, (-1, _GZ)),
    (52, _Z, (1, _GZ)),
    (53, _Z, (0, _GR)),
]


def templates_for(clusters: bool, classes: bool, gazetteer: bool) -> list:
    """The templates of a tagger trained with these word representations (in this order)."""
    out = list(_TEMPLATES)
    if clusters:
        out += _CLUSTER_TEMPLATES
    if classes:
        out += _CLASS_TEMPLATES
    if gazetteer:
        out += _GAZETTEER_TEMPLATES
    return out


def _template_arrays(templates: list) -> tuple[np.ndarray, ...]:
    ids = np.array([t for t, _a, _b in templates], dtype=np.uint64)
    a_off = np.array([a[0] for _t, a, _b in templates]) + 2
    a_col = np.array([a[1] for _t, a, _b in templates])
    b_off = np.array([b[0] for _t, _a, b in templates]) + 2
    b_col = np.array([b[1] for _t, _a, b in templates])
    return ids, a_off, a_col, b_off, b_col


_ARRAYS: dict[tuple[bool, bool, bool], tuple[np.ndarray, ...]] = {}


def token_rows(
    words: list[str],
    valences: list[float],
    bits: int = TAGGER_BITS,
    clusters: dict[str, int] | None = None,
    classes: dict[str, list[int]] | None = None,
    gazetteer: Gazetteer | None = None,
) -> np.ndarray:
    """Hashed feature columns for each token: an (n_tokens, n_templates) int64 array.

    Templates: word at -2..+2, bigrams (-1,0) (0,+1), lemma, suffix, prefix, shape (0, ±1),
    neighbour suffixes, opinion-word signs at ±1 / ±2 / 0, previous word × shape, bias,
    (with word clusters) cluster ids at 0 / ±1 and their bigrams, (with word classes) the
    class at each granularity at 0 / ±1, (with a gazetteer) its mark at 0 / ±1 and the word's
    in-term ratio. Vectorised: one gather and one multiply-add over all templates; uint64
    arithmetic wraps.
    """
    n = len(words)
    if n == 0:
        return np.zeros((0, 0), dtype=np.int64)
    base = np.zeros((n + 4, _N_BASE), dtype=np.uint64)
    base[2:-2, :5] = np.frombuffer(b"".join([_word_row(w) for w in words]), dtype=np.uint64).reshape(n, 5)
    base[:2, _W] = _PAD
    base[-2:, _W] = _END
    base[:, _OP] = _CODE_PAD[_OP]
    base[2:-2, _OP] = [1 if v > 0 else 2 if v < 0 else 0 for v in valences]
    if clusters is not None:
        get = clusters.get
        base[2:-2, _CL] = [get(w.lower(), -1) + 2 for w in words]
    if classes is not None:
        base[2:-2, _K0 : _K3 + 1] = [_class_ids(classes, w.lower()) for w in words]
    if gazetteer is not None:
        lows = [w.lower() for w in words]
        base[:, _GZ] = _CODE_PAD[_GZ]
        base[2:-2, _GZ] = gazetteer.marks(lows)
        base[2:-2, _GR] = [_h(gazetteer.ratio_feature(w)) for w in lows]
    key = (clusters is not None, classes is not None, gazetteer is not None)
    arrays = _ARRAYS.get(key)
    if arrays is None:
        arrays = _ARRAYS[key] = _template_arrays(templates_for(*key))
    ids, a_off, a_col, b_off, b_col = arrays
    rows = np.arange(n)[:, None]
    left = base[rows + a_off, a_col]
    right = base[rows + b_off, b_col]
    mat = (left * _U(_P1) + right) * _U(_P2) + ids
    span = _U(((1 << bits) - 1) - N_DENSE)
    return ((mat & _U(0xFFFFFFFFFFFF)) % span + _U(N_DENSE)).astype(np.int64)


_WORD_COLS = frozenset({_W, _SUF, _PRE, _SHP, _LEM, _CL, _GR, *_CLASS_COLS})
_UNKNOWN_CLASSES = [1] * len(_CLASS_COLS)


def _class_ids(classes: dict[str, list[int]], low: str) -> list[int]:
    """The word's class at each granularity, + 2 (1: an unknown word, 0: padding)."""
    ids = classes.get(low)
    return [c + 2 for c in ids] if ids is not None else _UNKNOWN_CLASSES


_M48 = 0xFFFFFFFFFFFF
_CACHE_CAP = 100_000  # entries per cache (words, bigrams); cleared when full, so memory stays bounded


def _column(template: int, left: int, right: int, span: int) -> int:
    """One hashed column exactly as `token_rows` computes it (uint64 arithmetic wraps mod 2**64,
    and the low 48 bits of the wrapped value are the low 48 bits of the unbounded one)."""
    return (((left * _P1 + right) * _P2 + template) & _M48) % span + N_DENSE


def _pack(columns: list[int]) -> bytes:
    return np.array(columns, dtype=np.int64).tobytes()


class RowBuilder:
    """`token_rows` from per-bigram and per-sign-pattern caches: the same matrix.

    Every template reads either one token's word columns, two adjacent tokens' word columns
    (both cached per bigram: the pair's columns and the right token's own), per-token codes
    at -2..+2 (opinion signs and gazetteer marks, cached per pattern), or nothing (the bias).
    The cached rows hold final column numbers; a post's rows are joined into one buffer and
    a per-length index (cached) gathers them back in template order, so the model sums its
    weights in exactly the same order as before.
    """

    def __init__(
        self,
        bits: int = TAGGER_BITS,
        clusters: dict[str, int] | None = None,
        classes: dict[str, list[int]] | None = None,
        gazetteer: Gazetteer | None = None,
    ) -> None:
        self.bits = bits
        self.clusters = clusters
        self.classes = classes
        self.gazetteer = gazetteer
        templates = templates_for(clusters is not None, classes is not None, gazetteer is not None)
        self.n_templates = len(templates)
        self._span = ((1 << bits) - 1) - N_DENSE
        # Per template: (kind, index inside its cached row, offset of the row's token).
        self._singles: list[tuple[int, int]] = []  # (template, word column)
        self._pairs: list[tuple[int, int, int]] = []  # (template, left column, right column)
        # (template, left code column, left offset, right code column, right offset); None: 0
        self._ops: list[tuple[int, int | None, int, int | None, int]] = []
        self._const: list[int] = []
        self._where: list[tuple[str, int, int]] = []
        for tid, (a_off, a_col), (b_off, b_col) in templates:
            if a_col == _ZERO and b_col == _ZERO:
                self._where.append(("const", len(self._const), 0))
                self._const.append(tid)
            elif a_col in _CODE_COLS or b_col in _CODE_COLS:
                if {a_col, b_col} - _CODE_COLS - {_ZERO}:
                    raise ValueError(f"template {tid} mixes per-token codes with word columns")
                self._where.append(("op", len(self._ops), 0))
                self._ops.append(
                    (tid, a_col if a_col != _ZERO else None, a_off, b_col if b_col != _ZERO else None, b_off)
                )
            elif a_col == _ZERO and b_col in _WORD_COLS:
                self._where.append(("single", len(self._singles), b_off))
                self._singles.append((tid, b_col))
            elif a_col in _WORD_COLS and b_col in _WORD_COLS and b_off == a_off + 1:
                self._where.append(("pair", len(self._pairs), a_off))
                self._pairs.append((tid, a_col, b_col))
            else:
                raise ValueError(f"template {tid} has no cached form")
        self._index: dict[int, np.ndarray] = {}
        self._base: dict[object, tuple[int, ...]] = {}
        self._bigrams: dict[tuple[object, object], bytes] = {}
        self._signs: dict[bytes, bytes] = {}
        self._const_row = _pack([_column(t, 0, 0, self._span) for t in self._const])
        self._pad_keys = (0, 1, 2, 3)  # ints: never equal to a word (a str)
        for key, w_hash in zip(self._pad_keys, (*_PAD.tolist(), *_END.tolist()), strict=True):
            base = [0] * _N_BASE
            base[_W] = int(w_hash)
            self._base[key] = tuple(base)
        self._first_row = self._single_row(self._base[0])  # the first padding token's own columns

    def _word_base(self, word: str) -> tuple[int, ...]:
        base = self._base.get(word)
        if base is None:
            if len(self._base) >= _CACHE_CAP:
                self._base = {k: self._base[k] for k in self._pad_keys}
            row = [0] * _N_BASE
            row[_W], row[_SUF], row[_PRE], row[_SHP], row[_LEM] = _word_hashes(word)
            low = word.lower()
            if self.clusters is not None:
                row[_CL] = self.clusters.get(low, -1) + 2
            if self.classes is not None:
                row[_K0], row[_K1], row[_K2], row[_K3] = _class_ids(self.classes, low)
            if self.gazetteer is not None:
                row[_GR] = _h(self.gazetteer.ratio_feature(low))
            base = self._base[word] = tuple(row)
        return base

    def _single_row(self, base: tuple[int, ...]) -> bytes:
        span = self._span
        return _pack([_column(t, 0, base[c], span) for t, c in self._singles])

    def _bigram_row(self, key: tuple[object, object]) -> bytes:
        """The pair templates' columns for (left, right), then the right token's own columns."""
        if len(self._bigrams) >= _CACHE_CAP:
            self._bigrams = {}
        a = self._word_base(key[0])  # type: ignore[arg-type]
        b = self._word_base(key[1])  # type: ignore[arg-type]
        span = self._span
        row = _pack([_column(t, a[ac], b[bc], span) for t, ac, bc in self._pairs]) + self._single_row(b)
        self._bigrams[key] = row
        return row

    def _sign_row(self, pattern: bytes) -> bytes:
        """The code templates' columns for one token from its ±2 window of codes: opinion signs
        (bytes 0..4 of the pattern), then gazetteer marks (bytes 5..9, with a gazetteer)."""
        where = {_OP: 2, _GZ: 7}  # the pattern byte of the token itself, per code column
        cols = [
            _column(
                t,
                pattern[where[ac] + ao] if ac is not None else 0,
                pattern[where[bc] + bo] if bc is not None else 0,
                self._span,
            )
            for t, ac, ao, bc, bo in self._ops
        ]
        if len(self._signs) >= _CACHE_CAP:
            self._signs = {}
        row = self._signs[pattern] = _pack(cols)
        return row

    def _layout(self, n: int) -> np.ndarray:
        """Where each (template, token) column sits in a post's joined buffer of n tokens.

        Buffer: the first padding token's own columns, then for each adjacent pair of padded
        positions (p, p+1), p = 0..n+2, the pair columns and position p+1's own columns; then
        the sign-pattern columns per token; then the constant columns.
        """
        n_s, n_p, n_o = len(self._singles), len(self._pairs), len(self._ops)
        stride = n_p + n_s
        sign_at = n_s + (n + 3) * stride
        const_at = sign_at + n * n_o
        index = np.empty((self.n_templates, n), dtype=np.intp)
        tok = np.arange(n)
        for j, (kind, k, off) in enumerate(self._where):
            if kind == "single":
                pos = tok + 2 + off  # padded position
                index[j] = np.where(pos == 0, k, n_s + (pos - 1) * stride + n_p + k)
            elif kind == "pair":
                index[j] = n_s + (tok + 2 + off) * stride + k
            elif kind == "op":
                index[j] = sign_at + tok * n_o + k
            else:
                index[j] = const_at + k
        if len(self._index) < 1_000:
            self._index[n] = index
        return index

    def rows(self, words: list[str], valences: list[float]) -> np.ndarray:
        """Exactly `token_rows(words, valences, bits, clusters)` (a transposed view of `columns`)."""
        if not words:
            return np.zeros((0, 0), dtype=np.int64)
        return self.columns(words, valences).T

    def columns(self, words: list[str], valences: list[float]) -> np.ndarray:
        """The (n_templates, n_tokens) transpose of `token_rows`, C-contiguous. Needs ≥ 1 word."""
        n = len(words)
        parts = [self._first_row]
        pairs = list(pairwise([0, 1, *words, 2, 3]))
        rows = list(map(self._bigrams.get, pairs))
        if not all(rows):  # rows are never empty: only a miss (None) is falsy
            rows = [r or self._bigram_row(k) for r, k in zip(rows, pairs, strict=True)]
        parts += rows
        # Opinion-sign codes of the padded tokens (3: padding, 0: no opinion, 1: +, 2: -).
        codes = bytearray(n + 4)
        codes[:2] = codes[-2:] = b"\x03\x03"
        for i in compress(range(n), valences):
            codes[i + 2] = 1 if valences[i] > 0 else 2
        signs = bytes(codes)
        if self.gazetteer is None:
            keys = list(map(signs.__getitem__, map(slice, range(n), range(5, n + 5))))
        else:  # each token's five signs, then its five marks
            marks = bytes([7, 7, *self.gazetteer.marks(list(map(str.lower, words))), 7, 7])
            sign_keys = map(signs.__getitem__, map(slice, range(n), range(5, n + 5)))
            mark_keys = map(marks.__getitem__, map(slice, range(n), range(5, n + 5)))
            keys = list(map(add, sign_keys, mark_keys))
        rows = list(map(self._signs.get, keys))
        if not all(rows):
            rows = [r or self._sign_row(k) for r, k in zip(rows, keys, strict=True)]
        parts += rows
        parts.append(self._const_row)
        buf = np.frombuffer(b"".join(parts), dtype=np.int64)
        index = self._index.get(n)
        if index is None:
            index = self._layout(n)
        return buf[index]
