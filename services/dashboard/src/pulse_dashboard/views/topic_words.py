"""What can be a topic of the emerging-topics view: words and phrases that name things people talk
about (features, issues: "night mode", "green tint", "overheating"), never function words, chatter
("got", "come", "maybe"), sentiment words ("fine", "disappointed", "regret": VADER's lexicon) nor
the tracked brands themselves (their names, aliases and hashtags)."""

from __future__ import annotations

import re
from functools import lru_cache

from pulse_common.tracking import TrackingConfig

# Function words, pronouns, auxiliaries and their contractions, and the verbs, adverbs and fillers
# of everyday chatter: frequent in any set of posts, never a topic by themselves.
STOPWORDS = frozenset(
    """a about above across after again against ago all almost along already also although always am among
an and another any anybody anyone anything anyway anywhere are aren't around as at away back be became because
become been before being below beside besides between both but by can can't cannot could couldn't did didn't
do does doesn't doing don't done down during each either else enough etc even ever every everybody everyone
everything everywhere except few for from further had hadn't has hasn't have haven't having he he'd he'll
he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've if in instead into
is isn't it it's its itself just least less let let's lot lots many may maybe me might mine more most much
must mustn't my myself neither never next no nobody none nor not nothing now nowhere of off often on once
one only onto or other others otherwise our ours ourselves out over own per perhaps please quite rather
really same several shall shan't she she'd she'll she's should shouldn't since so some somebody someone
something sometimes somewhat somewhere soon still such than that that's the their theirs them themselves
then there there's these they they'd they'll they're they've thing things this those though through thru
thus till to too toward towards under unless until up upon us very via was wasn't we we'd we'll we're
we've were weren't what what's whatever when when's whenever where where's wherever whether which while
who who's whoever whole whom whose why why's will with within without won't would wouldn't yet you you'd
you'll you're you've your yours yourself yourselves
ask asked asking came come comes coming could get gets getting go goes going gone got gotten guess had
keep keeps kept know knew known knows look looked looking looks made make makes making mean means meant
need needed needs put puts said say saying says see seeing seem seemed seems seen take taken takes taking
tell tells think thinks thought told tried tries try trying use used uses using want wanted wants went
actually almost already anyway basically definitely else especially exactly finally honestly just kinda
kind literally lol lmao maybe nah ok okay omg pretty probably quite rather really seriously simply
sort sorta still super surely tbh totally truly yeah yes yep yet gonna wanna gotta far way lie
today tonight tomorrow yesterday day days week weeks month months year years time times hour hours minute
minutes morning now ago one two three four five six seven eight nine ten first second third
rt amp https http co www com""".split()
)

_TOKEN = re.compile(r"[0-9a-z\u00c0-\u024f]+(?:['’][0-9a-z]+)*")
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_HANDLE_OR_TAG = re.compile(r"[@#][\w'’]+")
_BREAK = re.compile(r"[.!?;:,()\[\]\"“”…|/\n]+|\s[-–—]\s")  # phrases never cross these
MAX_PHRASE_WORDS = 3


@lru_cache(maxsize=1)
def sentiment_words() -> frozenset[str]:
    """VADER's lexicon: words (and emoticons) that carry sentiment."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return frozenset(SentimentIntensityAnalyzer().lexicon)


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens as OpenSearch's standard analyzer splits Latin text."""
    return _TOKEN.findall(text.lower().replace("’", "'"))


def brand_words(tracking: TrackingConfig) -> frozenset[str]:
    """Every tracked brand's name, aliases and hashtags, whole and word by word."""
    out: set[str] = set()
    for b in tracking.brands:
        for term in [*b.terms, *b.hashtags]:
            out.add(term.lower())
            out.add(" ".join(tokens(term)))
            out.add("".join(tokens(term)))
            out.update(tokens(term))
    out.discard("")
    return frozenset(out)


def taxonomy_terms(tracking: TrackingConfig) -> frozenset[str]:
    """The taxonomy's aspect names and synonyms (lower-cased, as token phrases)."""
    return frozenset(" ".join(tokens(t)) for a in tracking.aspects for t in a.terms)


class TopicFilter:
    """Proposes the topic phrases of a text: runs of 1..3 words inside a clause where every word
    may be part of a topic. A taxonomy term is always a topic ("lag" is a feature issue even though
    VADER scores it)."""

    def __init__(self, tracking: TrackingConfig) -> None:
        self.brands = brand_words(tracking)
        self.taxonomy = taxonomy_terms(tracking)
        feature_words = {w for t in self.taxonomy for w in t.split()}
        self._excluded = STOPWORDS | self.brands | (sentiment_words() - feature_words)

    def word_ok(self, word: str) -> bool:
        return (
            len(word) > 1
            and any(c.isalpha() for c in word)
            and word not in self._excluded
            and not word.endswith(("'s", "'ll", "'re", "'ve", "'d", "n't"))
        )

    def phrases(self, text: str) -> set[str]:
        """The distinct candidate phrases of one post."""
        clean = _HANDLE_OR_TAG.sub(" | ", _URL.sub(" | ", text))
        out: set[str] = set()
        for clause in _BREAK.split(clean):
            words = tokens(clause)
            run: list[str] = []
            for w in [*words, ""]:
                if w and self.word_ok(w):
                    run.append(w)
                    continue
                for i in range(len(run)):
                    for n in range(1, MAX_PHRASE_WORDS + 1):
                        if i + n <= len(run):
                            out.add(" ".join(run[i : i + n]))
                run = []
        return {p for p in out if p not in self.brands}

    def is_topic(self, phrase: str) -> bool:
        """Every word may be part of a topic, or the phrase is a taxonomy term; never a brand."""
        words = tokens(phrase)
        if not words or phrase.lower().lstrip("#") in self.brands:
            return False
        return " ".join(words) in self.taxonomy or all(self.word_ok(w) for w in words)

    def is_brand(self, name: str) -> bool:
        """An aspect name that only names a tracked brand (or its hashtag)."""
        low = name.lower().lstrip("#")
        words = tokens(low)
        return low in self.brands or (bool(words) and all(w in self.brands or w.isdigit() for w in words))
