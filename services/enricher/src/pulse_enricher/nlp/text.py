"""Text normalization and entity extraction (pure, no I/O).

Normalized text = HTML entities unescaped, Unicode NFC, runs of whitespace collapsed.
URLs, mentions and hashtags stay in the text (they are entities, extracted alongside).
"""

from __future__ import annotations

import html
import re
import unicodedata

import emoji as _emoji

URL_RE = re.compile(r"https?://[^\s<>\"']+|www\.[^\s<>\"']+", re.IGNORECASE)
MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_])?)")
HASHTAG_RE = re.compile(r"(?<![\w#&])[#＃](\w*[^\W\d_]\w*)")
RETWEET_PREFIX_RE = re.compile(r"^\s*RT\s+@\w+\s*:", re.IGNORECASE)
_WS_RE = re.compile(r"\s+")
# Cheap pre-check: any code point in the usual emoji / symbol blocks. Only then is the
# (slower, exact) `emoji` library asked for the grapheme clusters.
_EMOJI_HINT_RE = re.compile(
    "[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf"
    "\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]|[#*0-9]\ufe0f?\u20e3"
)
_LETTER_EMOJI = frozenset("\u00a9\u00ae\u2122")


def normalize_text(text: str) -> str:
    """Unescape HTML entities (twice-escaped too), NFC, collapse whitespace."""
    if not text:
        return ""
    out = text
    if "&" in out:
        out = html.unescape(html.unescape(out))
    if not out.isascii():  # ASCII text is already NFC
        out = unicodedata.normalize("NFC", out)
    # Nothing to collapse when no space is doubled and the text is printable (the only
    # whitespace character a printable string can hold is ' ').
    if "  " not in out and out.isprintable():
        return out.strip()
    return _WS_RE.sub(" ", out).strip()


def extract_urls(text: str) -> list[str]:
    if "://" not in text and "www." not in text.lower():
        return []
    return [m.group(0).rstrip(".,;:!?)]}") for m in URL_RE.finditer(text)]


def extract_mentions(text: str) -> list[str]:
    if "@" not in text:
        return []
    return [
        m.group(1)
        for m in MENTION_RE.finditer(URL_RE.sub(" ", text) if "://" in text or "www." in text else text)
    ]


def extract_hashtags(text: str) -> list[str]:
    """Hashtags without '#', lower-cased."""
    if "#" not in text and "＃" not in text:
        return []
    return [
        m.group(1).lower()
        for m in HASHTAG_RE.finditer(URL_RE.sub(" ", text) if "://" in text or "www." in text else text)
    ]


_EMOJI_SET = frozenset(_emoji.EMOJI_DATA)
_EMOJI_MAX = max(len(e) for e in _EMOJI_SET)


def extract_emojis(text: str) -> list[str]:
    """Emojis (full sequences: ZWJ, skin tones, flags) in order, by longest match."""
    hint = _EMOJI_HINT_RE.search(text)
    if hint is None:
        return []
    out = []
    i = hint.start()
    n = len(text)
    while i < n:
        for length in range(min(_EMOJI_MAX, n - i), 0, -1):
            piece = text[i : i + length]
            if piece in _EMOJI_SET:
                if piece not in _LETTER_EMOJI:
                    out.append(piece)
                i += length
                break
        else:
            nxt = _EMOJI_HINT_RE.search(text, i + 1)
            if nxt is None:
                break
            i = nxt.start()
            continue
        nxt = _EMOJI_HINT_RE.search(text, i)
        if nxt is None:
            break
        i = nxt.start()
    return out


def is_manual_retweet(text: str) -> bool:
    return bool(RETWEET_PREFIX_RE.match(text))


def merge_unique_folded(*lists: list[str]) -> list[str]:
    """`merge_unique` ignoring case (mentions: @Salvini and @salvini are one account); the first
    spelling is kept (the entity's, listed first)."""
    seen: dict[str, str] = {}
    for items in lists:
        for item in items:
            if item:
                seen.setdefault(item.casefold(), item)
    return list(seen.values())


_TCO = ("https://t.co/", "http://t.co/")
_CUT = ("…", "...")


def _url_key(url: str) -> str:
    key = url.casefold()
    for prefix in ("https://", "http://"):
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    if key.startswith("www."):
        key = key[4:]
    return key.rstrip("/")


def merge_urls(entity_urls: list[str], text_urls: list[str]) -> list[str]:
    """The post's links: its entity URLs (expanded by the network), then those found only in the
    text. A text URL is left out when it is the network's wrapper of an entity link (a `t.co` link
    of a post that has entities), a display text cut with "…" (X's truncated retweets, Bluesky's
    link facets), or the start of an entity URL (the visible part of a shortened link)."""
    out = merge_unique(entity_urls)
    if not text_urls:
        return out
    keys = [_url_key(u) for u in out]
    for url in text_urls:
        if url.endswith(_CUT) or (out and url.startswith(_TCO)):
            continue
        key = _url_key(url)
        if key and not any(k.startswith(key) for k in keys):
            keys.append(key)
            out.append(url)
    return out


def merge_unique(*lists: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for items in lists:
        for item in items:
            if item:
                seen.setdefault(item, None)
    return list(seen)
