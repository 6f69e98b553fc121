"""A small, dependency-free language guesser for short posts.

The network's own language tag wins when it names a language; otherwise the script
of the letters decides for non-Latin text, and stop-word counts decide among the
common Latin-script languages. Returns "und" when nothing is decidable (empty,
emoji-only, URL-only posts).

A tag the *author* declared (`declared=True`: Bluesky's `langs`, which clients fill with the
app's default language) yields to the text when the text is clear about another language
(`CLEAR_MIN_WORDS` words or more, and either a non-Latin script, or at least
`CLEAR_MIN_STOPWORDS` stop words of one language making up a quarter of the words and more
than any other language's). X's `lang` is X's own detection from the text and always wins.
"""

from __future__ import annotations

import re

_WORD_RE = re.compile(r"[^\W\d_]+", re.UNICODE)
_STRIP_RE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the a an and or but is are was were be been am i you he she it we they my your his her "
        "its our their this that these those of to in on for with at by from not no so just "
        "have has had do does did can cant can't don't dont won't will would should could what "
        "when why how who all get got me love like good great bad new phone really very too "
        "about out up now one if than then there here lol im i'm it's".split()
    ),
    "es": frozenset(
        "el la los las un una y o pero es son fue ser estoy está esta están de del que en con "
        "por para no sí mi tu su nos muy más mas como cuando porque pero también ya lo le se "
        "me te al este esta esto eso hay tiene tengo".split()
    ),
    "pt": frozenset(
        "o a os as um uma e ou mas é são foi ser estou está de do da dos das que em no na com "
        "por para não sim meu minha seu sua muito mais como quando porque também já lo se me "
        "isso este esta tem tenho você".split()
    ),
    "fr": frozenset(
        "le la les un une et ou mais est sont était être je tu il elle nous vous ils de du des "
        "que qui en dans avec pour pas ne oui mon ma mes ton son sa très plus comme quand "
        "parce aussi déjà ce cette c'est j'ai au aux sur".split()
    ),
    "de": frozenset(
        "der die das ein eine und oder aber ist sind war sein ich du er sie es wir ihr von zu "
        "im in mit für nicht kein ja mein dein sehr mehr wie wann weil auch schon dieser diese "
        "auf den dem ist's habe hat gut".split()
    ),
    "it": frozenset(
        "il lo la i gli le un una e o ma è sono era essere io tu lui lei noi voi di del della "
        "che in con per non sì mio mia molto più come quando perché anche già questo questa "
        "ho ha".split()
    ),
    "nl": frozenset(
        "de het een en of maar is zijn was ik jij hij zij wij van te in met voor niet geen ja "
        "mijn zeer meer hoe wanneer omdat ook al deze dit dat op".split()
    ),
}

_SCRIPTS: list[tuple[str, re.Pattern[str]]] = [
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
]
_UNDETERMINED_TAGS = frozenset({"", "und", "qme", "qht", "zxx", "qam", "qct", "qst", "art"})


CLEAR_MIN_WORDS = 4
CLEAR_MIN_STOPWORDS = 2


def detect_language(text: str, hint: str | None = None, *, declared: bool = False) -> str:
    """ISO 639-1-ish code, or "und". `declared`: the hint is the author's claim (see above)."""
    if hint:
        tag = hint.strip().lower().replace("_", "-").split("-")[0]
        if tag not in _UNDETERMINED_TAGS:
            if declared:
                clear = clear_text_language(text)
                if clear is not None and clear != tag:
                    return clear
            return tag
    return text_language(text)


def clear_text_language(text: str) -> str | None:
    """The text's language when the text alone is clear about it, else None."""
    words = _WORD_RE.findall(_STRIP_RE.sub(" ", text).lower())
    if len(words) < CLEAR_MIN_WORDS:
        return None
    guess = text_language(text)
    if guess == "und":
        return None
    stop = _STOPWORDS.get(guess)
    if stop is None:
        return guess  # decided by its script
    counts = {code: sum(1 for w in words if w in words_of) for code, words_of in _STOPWORDS.items()}
    n = counts[guess]
    if n >= CLEAR_MIN_STOPWORDS and n * 4 >= len(words) and all(
        n > other for code, other in counts.items() if code != guess
    ):
        return guess
    return None


def text_language(text: str) -> str:
    """The language of the text alone (script, then stop words), or "und"."""
    stripped = _STRIP_RE.sub(" ", text)
    words = _WORD_RE.findall(stripped.lower())
    if not words:
        return "und"
    letters = "".join(words)
    if not letters.isascii():  # every script range above is non-ASCII
        for code, pattern in _SCRIPTS:
            hits = len(pattern.findall(letters))
            if hits and hits * 2 >= len(letters):
                return code
        ascii_letters = sum(ch.isascii() for ch in letters)
        if ascii_letters * 2 < len(letters):
            return "und"
    english = _STOPWORDS["en"]
    n_en = sum(1 for w in words if w in english)
    if n_en >= 2 and n_en * 4 >= len(words):
        return "en"  # the common case, decided without scoring the other languages
    scores = {code: sum(1 for w in words if w in stop) for code, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda code: (scores[code], code == "en"))
    if scores[best] == 0:
        # No function word at all (e.g. "Nova 12 camera 🔥"): short product talk, assume English.
        return "en"
    if best != "en" and scores[best] <= scores["en"]:
        return "en"
    return best
