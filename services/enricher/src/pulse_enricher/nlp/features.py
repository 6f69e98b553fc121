"""Hashed sparse features shared by training (`pulse-train`) and inference.

Features are strings hashed with CRC32 into 2**bits buckets (no vocabulary to ship);
the same function builds the training matrix and scores a post at run time, so the two
can never drift apart. Dense lexicon features (VADER scores, counts) use the first
`N_DENSE` columns.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter
from zlib import crc32

TOKEN_RE = re.compile(
    r"https?://\S+|www\.\S+|@\w+|#\w+|\w+(?:['’]\w+)?|[!?]+|\.{2,}|[:;=8][\-o\*']?[\)\]\(\[dDpP/\\|@3]|<3|[^\w\s]",
    re.UNICODE,
)
_ELONG_RE = re.compile(r"(\w)\1{2,}")
_DIGIT_RE = re.compile(r"\d")
NEGATORS = frozenset(
    "not no never nothing nobody none neither nor cannot cant can't don't dont doesn't doesnt "
    "isn't isnt wasn't wasnt aren't arent won't wont didn't didnt couldn't couldnt shouldn't "
    "shouldnt wouldn't wouldnt ain't aint without hardly barely n't".split()
)
SCOPE_END = frozenset(".,!?;:") | {"but", "however", "although", "though", "yet"}
N_DENSE = 32


@lru_cache(maxsize=200_000)
def fold_word(w: str) -> str:
    """One spaCy token text -> its feature token (see `fold_tokens`)."""
    low = w.lower()
    first = low[0] if low else ""
    if (first == "h" and low.startswith(("http://", "https://"))) or low.startswith("www."):
        return "<url>"
    if first == "@" and len(low) > 1:
        return "<user>"
    if low.isdigit():
        return "<num>"
    if first in "!?" and len(low) > 1:
        return low[:2]
    if not first or first.isspace():
        return "<sp>"  # keep one feature token per input token (alignment)
    return _ELONG_RE.sub(r"\1\1", low) if len(low) > 3 else low


def fold_tokens(words: list[str]) -> list[str]:
    """spaCy token texts -> lower-cased feature tokens: URLs, mentions, numbers folded,
    elongations squeezed ("sooooo" -> "soo"), runs of !/? shortened."""
    return list(map(fold_word, words))


def tokenize(text: str) -> list[str]:
    """Regex tokenizer (no spaCy) giving the same kind of tokens as `fold_tokens`."""
    return fold_tokens(TOKEN_RE.findall(text.replace("’", "'")))


NEGATION_SCOPE = 4  # tokens a negator reaches ("not good at all, love it": 'love' is not negated)


_SCOPE_ENDS, _NEGATES, _PLAIN = 1, 2, 3  # a token's part in negation marking
_NEGATION_ROLES: dict[str, int] = {}  # token -> its part (bounded: cleared when full)


def _negation_role(tok: str) -> int:
    if tok in SCOPE_END or tok[0] in ".,!?;:":
        role = _SCOPE_ENDS
    elif tok in NEGATORS or tok.endswith("n't"):
        role = _NEGATES
    else:
        role = _PLAIN
    if len(_NEGATION_ROLES) >= 100_000:
        _NEGATION_ROLES.clear()
    _NEGATION_ROLES[tok] = role
    return role


def mark_negation(tokens: list[str]) -> list[str]:
    """Suffix "_NEG" to the tokens a negator governs: up to `NEGATION_SCOPE` tokens after it,
    never past punctuation or a contrast word ("but", "however", ...)."""
    roles = list(map(_NEGATION_ROLES.get, tokens))
    if not all(roles):  # roles are never 0: only a miss (None) is falsy
        roles = [r or _negation_role(tok) for r, tok in zip(roles, tokens, strict=True)]
    if _NEGATES not in roles:
        return list(tokens)  # no negator (most posts): nothing to mark
    out = []
    left = 0
    for tok, role in zip(tokens, roles, strict=True):
        if role == _PLAIN:
            if left:
                out.append(tok + "_NEG")
                left -= 1
            else:
                out.append(tok)
        else:
            left = NEGATION_SCOPE if role == _NEGATES else 0
            out.append(tok)
    return out


@lru_cache(maxsize=300_000)
def feature_column(feature: str, bits: int) -> int:
    """Column of one feature string: CRC32 into [N_DENSE, 2**bits - 1)."""
    mask = (1 << bits) - 1
    return N_DENSE + (crc32(feature.encode("utf-8")) & mask) % (mask - N_DENSE)


_COLUMNS: dict[int, dict[str, int]] = {}  # bits -> {feature: column}; plain dicts beat lru_cache here
_COLUMNS_CAP = 300_000  # like the lru_cache above; the caches below hold 100k each (cleared when full)
_DERIVED_CAP = 100_000


def _columns_miss(cache: dict[str, int], feature: str, bits: int) -> int:
    if len(cache) >= _COLUMNS_CAP:
        cache.clear()
    mask = (1 << bits) - 1
    col = cache[feature] = N_DENSE + (crc32(feature.encode("utf-8")) & mask) % (mask - N_DENSE)
    return col


def hash_features(feats: list[str], bits: int, prefix: str = "") -> dict[int, float]:
    """Hash feature strings into columns ≥ N_DENSE (binary: a repeated feature counts once).

    Same columns as `feature_column`, in the same order (columns are never 0, so `or` only
    falls through on a cache miss).
    """
    cache = _COLUMNS.get(bits)
    if cache is None:
        cache = _COLUMNS[bits] = {}
    get = cache.get
    if prefix:
        feats = [prefix + f for f in feats]
    return dict.fromkeys([get(f) or _columns_miss(cache, f, bits) for f in feats], 1.0)


_PAIR_COLUMNS: dict[tuple[int, str], dict[tuple[str, str], int]] = {}  # (bits, prefix) -> {(a, b): col}
_PREFIXED_COLUMNS: dict[tuple[int, str], dict[str, int]] = {}  # (bits, prefix) -> {token: prefix+token's col}


def _prefixed_miss(
    prefixed: dict[str, int], cache: dict[str, int], prefix: str, token: str, bits: int
) -> int:
    if len(prefixed) >= _DERIVED_CAP:
        prefixed.clear()
    feature = prefix + token
    col = prefixed[token] = cache.get(feature) or _columns_miss(cache, feature, bits)
    return col


def ngram_columns(tokens: list[str], bits: int, prefix: str = "") -> dict[int, float]:
    """`hash_features(word_ngrams(tokens, prefix), bits)`, without building the bigram strings
    (their columns are cached per token pair)."""
    return dict.fromkeys(ngram_column_list(tokens, bits, prefix), 1.0)


def ngram_column_list(tokens: list[str], bits: int, prefix: str = "") -> list[int]:
    """The columns of `word_ngrams(tokens, prefix)` in order, repeats kept (see `ngram_columns`)."""
    cache = _COLUMNS.get(bits)
    if cache is None:
        cache = _COLUMNS[bits] = {}
    get = cache.get
    if prefix:
        prefixed = _PREFIXED_COLUMNS.get((bits, prefix))
        if prefixed is None:
            prefixed = _PREFIXED_COLUMNS[(bits, prefix)] = {}
        cols = list(map(prefixed.get, tokens))
        if not all(cols):  # a column is never 0: only a miss (None) is falsy
            cols = [
                c or _prefixed_miss(prefixed, cache, prefix, t, bits)
                for c, t in zip(cols, tokens, strict=True)
            ]
    else:
        cols = list(map(get, tokens))
        if not all(cols):
            cols = [c or _columns_miss(cache, t, bits) for c, t in zip(cols, tokens, strict=True)]
    pairs = _PAIR_COLUMNS.get((bits, prefix))
    if pairs is None:
        pairs = _PAIR_COLUMNS[(bits, prefix)] = {}
    pair_cols = list(map(pairs.get, pairwise(tokens)))
    if not all(pair_cols):
        for k, pair in enumerate(pairwise(tokens)):
            if pair_cols[k] is None:
                if len(pairs) >= _DERIVED_CAP:
                    pairs.clear()
                feature = f"{prefix}{pair[0]} {pair[1]}"
                pair_cols[k] = pairs[pair] = get(feature) or _columns_miss(cache, feature, bits)
    cols += pair_cols
    return cols


def unigram_columns(tokens: list[str], bits: int, prefix: str) -> list[int]:
    """The columns of `prefix + token` for each token (`hash_features` of them, in order, repeats kept)."""
    cache = _COLUMNS.get(bits)
    if cache is None:
        cache = _COLUMNS[bits] = {}
    prefixed = _PREFIXED_COLUMNS.get((bits, prefix))
    if prefixed is None:
        prefixed = _PREFIXED_COLUMNS[(bits, prefix)] = {}
    cols = list(map(prefixed.get, tokens))
    if not all(cols):
        cols = [
            c or _prefixed_miss(prefixed, cache, prefix, t, bits) for c, t in zip(cols, tokens, strict=True)
        ]
    return cols


# (bits, prefix, id(mapping)) -> (mapping, {token: column of prefix + str(mapping[token]), 0: none})
_MAPPED_COLUMNS: dict[tuple[int, str, int], tuple[dict, dict[str, int]]] = {}


def mapped_columns(tokens: list[str], mapping: dict[str, int], bits: int, prefix: str) -> list[int]:
    """`unigram_columns([str(mapping[t]) for t in tokens if t in mapping], bits, prefix)`, with
    each token's column cached (a token `mapping` lacks has none)."""
    key = (bits, prefix, id(mapping))
    entry = _MAPPED_COLUMNS.get(key)
    if entry is None or entry[0] is not mapping:
        if len(_MAPPED_COLUMNS) >= 16:  # a few mappings live at a time; never keep many alive
            _MAPPED_COLUMNS.clear()
        entry = _MAPPED_COLUMNS[key] = (mapping, {})
    cache = entry[1]
    cols = list(map(cache.get, tokens))
    if None in cols:
        get = mapping.get
        for k, t in enumerate(tokens):
            if cols[k] is None:
                value = get(t)
                col = 0 if value is None else unigram_columns([str(value)], bits, prefix)[0]
                if len(cache) >= _DERIVED_CAP:
                    cache.clear()
                cols[k] = cache[t] = col
    return [c for c in cols if c]


def word_ngrams(tokens: list[str], prefix: str = "") -> list[str]:
    feats = [prefix + t for t in tokens]
    feats.extend(f"{prefix}{a} {b}" for a, b in pairwise(tokens))
    return feats


def char_ngrams(text: str, lo: int = 3, hi: int = 5) -> list[str]:
    """Character n-grams inside word boundaries (like sklearn's char_wb)."""
    feats = []
    for word in text.split():
        if word.startswith(("http", "@", "www.")):
            continue
        w = f" {word} "
        n_w = len(w)
        for n in range(lo, hi + 1):
            if n > n_w:
                break
            feats.extend("c" + w[i : i + n] for i in range(n_w - n + 1))
    return feats


_FIRST_CHAR = itemgetter(slice(None, 1))  # t[:1]


def lexicon_dense(valences: list[float], tokens: list[str], text: str) -> dict[int, float]:
    """Dense lexicon and surface features in columns [0, N_DENSE).

    `valences` are the per-token VADER-lexicon valences after negation/booster rules
    (`OpinionLexicon.token_valences`), so VADER's lexicon is the feature without a second
    pass of VADER itself.
    """
    opinions = list(filter(None, valences))  # usually a handful: the sums below add them in order
    pos = sum([v for v in opinions if v > 0])
    neg = -sum([v for v in opinions if v < 0])
    s = pos - neg
    compound = s / math.sqrt(s * s + 15.0)
    # min(a, b) / max(a, b) written as comparisons (b only when it is strictly below / above a)
    n_tok = len(tokens) or 1
    heads = "".join(map(_FIRST_CHAR, tokens))
    excl = heads.count("!")  # tokens starting with '!'
    quest = heads.count("?")
    caps = len([w for w in text.split() if len(w) > 2 and w.isupper() and w.isalpha()])
    last = opinions[-1] / 4.0 if opinions else 0.0
    return {
        0: compound,
        1: pos / (pos + neg + n_tok),
        2: neg / (pos + neg + n_tok),
        3: 1.0 if compound >= 0.05 else 0.0,
        4: 1.0 if compound <= -0.05 else 0.0,
        5: compound * compound,
        6: (3 if 3 < excl else excl) / 3.0,
        7: (3 if 3 < quest else quest) / 3.0,
        8: (3 if 3 < caps else caps) / 3.0,
        9: (40 if 40 < n_tok else n_tok) / 40.0,
        10: 1.0,
        11: last,
        12: (8.0 if 8.0 < pos else pos) / 8.0,
        13: (8.0 if 8.0 < neg else neg) / 8.0,
    }
