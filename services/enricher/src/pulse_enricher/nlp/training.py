"""Model fitting shared by `pulse-train` (fit on all training data, save artifacts) and
`pulse-eval` (5-fold cross-validation). Deterministic: fixed seeds, sorted inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from .artifacts import DEFAULT_MODEL_DIR
from .datasets import TargetExample
from .lexicon import OpinionLexicon
from .models import (
    POST_BITS,
    TARGET_BITS,
    LinearModel,
    PostSentimentModel,
    aspect_features,
    post_features,
    target_features,
)
from .pipeline import build_nlp

SEED = 0
POST_ALPHA = 1.5e-4
TARGET_ALPHA = 1e-3
ASPECT_ALPHA = 1e-3
POLARITIES = ("negative", "neutral", "positive")  # SemEval's "conflict" terms are left out
TAGGER_C1 = 0.05  # crfsuite L1 (keeps the weight matrix sparse: small artifact)
TAGGER_C2 = 0.01  # crfsuite L2
TAGGER_ITERATIONS = 150
TAGGER_SPAN_BIAS = 0.0


@dataclass
class Analyzed:
    text: str
    words: list[str]
    valences: list[float]
    offsets: list[int]


class TextAnalyzer:
    """spaCy tokens + lexicon valences, as the Enricher computes them."""

    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR, spacy_model: str = "blank:en") -> None:
        self.nlp = build_nlp(spacy_model)
        self.lexicon = OpinionLexicon(model_dir / "domain_lexicon.json")

    def __call__(self, text: str) -> Analyzed:
        doc = self.nlp.make_doc(text)
        words = [t.text for t in doc]
        return Analyzed(text, words, self.lexicon.token_valences(words), [t.idx for t in doc])


def to_csr(rows: list[dict[int, float]], bits: int) -> sp.csr_matrix:
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    for row in rows:
        indices.extend(row.keys())
        data.extend(row.values())
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.array(data, dtype=np.float32), np.array(indices, dtype=np.int64), np.array(indptr)),
        shape=(len(rows), 1 << bits),
    )


def sgd(alpha: float) -> SGDClassifier:
    return SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        class_weight="balanced",
        max_iter=30,
        tol=None,
        random_state=SEED,
        average=False,
    )


def fit_post(
    analyzer: TextAnalyzer,
    texts: list[str],
    labels: list[str],
    alpha: float = POST_ALPHA,
    clusters: dict[str, int] | None = None,
) -> LinearModel:
    rows = []
    for text in texts:
        a = analyzer(text)
        rows.append(post_features(a.words, a.valences, text, POST_BITS, clusters=clusters))
    clf = sgd(alpha).fit(to_csr(rows, POST_BITS), np.array(labels))
    return LinearModel.from_sklearn(
        clf,
        POST_BITS,
        {"kind": "post_sentiment", "alpha": alpha, "n": len(texts), "clusters": clusters is not None},
    )


def shared_post_features(
    post_model: PostSentimentModel | None, a: Analyzed, bits: int
) -> tuple[np.ndarray | None, dict[int, float] | None]:
    """The post model's probabilities and feature columns, as `Enricher.enrich` shares them with
    the target and aspect models (columns only when the models hash alike)."""
    if post_model is None:
        return None, None
    feats = post_model.features(a.words, a.valences, a.text)
    proba = post_model.model.proba(feats)
    return proba, feats if post_model.model.bits == bits else None


def target_span(a: Analyzed, start: int, end: int) -> tuple[int, int]:
    """Token span covering characters [start, end)."""
    t_start = t_end = None
    for i, (w, off) in enumerate(zip(a.words, a.offsets, strict=True)):
        if t_start is None and off + len(w) > start:
            t_start = i
        if off < end:
            t_end = i + 1
    if t_start is None:
        t_start = max(len(a.words) - 1, 0)
    if t_end is None or t_end <= t_start:
        t_end = t_start + 1
    return t_start, t_end


def target_rows(
    analyzer: TextAnalyzer, post_model: PostSentimentModel | None, examples: list[TargetExample]
) -> list[dict[int, float]]:
    rows = []
    cache: dict[str, tuple[Analyzed, np.ndarray | None, dict[int, float] | None]] = {}
    for ex in examples:
        if ex.text not in cache:
            a = analyzer(ex.text)
            cache[ex.text] = (a, *shared_post_features(post_model, a, TARGET_BITS))
        a, p, shared = cache[ex.text]
        if not a.words:
            rows.append({})
            continue
        s, e = target_span(a, ex.start, ex.end)
        rows.append(target_features(a.words, a.valences, ex.text, s, e, p, post_feats=shared))
    return rows


def fit_target(rows: list[dict[int, float]], labels: list[str], alpha: float = TARGET_ALPHA) -> LinearModel:
    clf = sgd(alpha).fit(to_csr(rows, TARGET_BITS), np.array(labels))
    return LinearModel.from_sklearn(
        clf, TARGET_BITS, {"kind": "target_sentiment", "alpha": alpha, "n": len(rows)}
    )


def aspect_rows(
    analyzer: TextAnalyzer, post_model: PostSentimentModel | None, sentences: list
) -> list[tuple[int, dict[int, float], str]]:
    """(sentence index, features, gold polarity) for every non-conflict aspect term."""
    out = []
    for k, sent in enumerate(sentences):
        terms = [t for t in sent.terms if t[3] in POLARITIES]
        if not terms:
            continue
        a = analyzer(sent.text)
        if not a.words:
            continue
        proba, shared = shared_post_features(post_model, a, TARGET_BITS)
        n_aspects = len(sent.terms)
        for start, end, _term, polarity in terms:
            s, e = target_span(a, start, end)
            feats = aspect_features(a.words, a.valences, sent.text, s, e, proba, n_aspects, post_feats=shared)
            out.append((k, feats, polarity))
    return out


def fit_aspect_polarity(
    rows: list[dict[int, float]], labels: list[str], alpha: float = ASPECT_ALPHA
) -> LinearModel:
    clf = sgd(alpha).fit(to_csr(rows, TARGET_BITS), np.array(labels))
    return LinearModel.from_sklearn(
        clf, TARGET_BITS, {"kind": "aspect_sentiment", "alpha": alpha, "n": len(rows)}
    )


def kfold_indices(n: int, k: int = 5, seed: int = SEED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    return [order[i::k] for i in range(k)]


def tagger_sequences(
    analyzer: TextAnalyzer, sentences: list, clusters: dict[str, int] | None = None
) -> list[tuple[np.ndarray, list[str]]]:
    """Per sentence: the tagger's hashed feature rows (n_tokens, n_templates) and BIO tags."""
    from .tagger import TAGGER_BITS, token_rows

    out = []
    for sent in sentences:
        a = analyzer(sent.text)
        if not a.words:
            continue
        tags = ["O"] * len(a.words)
        for start, end, _term, _pol in sent.terms:
            s, e = target_span(a, start, end)
            tags[s] = "B"
            for i in range(s + 1, e):
                tags[i] = "I"
        out.append((token_rows(a.words, a.valences, TAGGER_BITS, clusters), tags))
    return out


def fit_tagger(
    sequences: list[tuple[np.ndarray, list[str]]],
    c1: float = TAGGER_C1,
    c2: float = TAGGER_C2,
    iterations: int = TAGGER_ITERATIONS,
    span_bias: float = TAGGER_SPAN_BIAS,
) -> LinearModel:
    """A linear-chain CRF (python-crfsuite, L-BFGS) over the hashed token features.

    The attributes crfsuite sees are the hashed column numbers, so its state-feature weights
    copy straight into a (2**bits × 3) matrix that `AspectTagger` sums at run time; the
    transition weights go into the model's meta. L-BFGS is deterministic: same data, same bytes.
    """
    import tempfile

    import pycrfsuite

    from .tagger import TAGGER_BITS, TAGS

    trainer = pycrfsuite.Trainer(verbose=False)
    n_tokens = 0
    for rows, tags in sequences:
        trainer.append([[str(c) for c in row] for row in rows.tolist()], tags)
        n_tokens += len(tags)
    trainer.set_params(
        {"c1": c1, "c2": c2, "max_iterations": iterations, "feature.possible_transitions": True}
    )
    with tempfile.TemporaryDirectory(prefix="pulse-crf-") as tmp:
        path = f"{tmp}/tagger.crfsuite"
        trainer.train(path)
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        info = tagger.info()
        tagger.close()
    index = {t: k for k, t in enumerate(TAGS)}
    weights = np.zeros((1 << TAGGER_BITS, len(TAGS)), dtype=np.float32)
    for (attr, label), w in sorted(info.state_features.items()):
        weights[int(attr), index[label]] += w
    transitions = [[0.0] * len(TAGS) for _ in TAGS]
    for (a, b), w in info.transitions.items():
        transitions[index[a]][index[b]] = round(float(w), 6)
    meta = {
        "kind": "aspect_crf",
        "bits": TAGGER_BITS,
        "c1": c1,
        "c2": c2,
        "iterations": iterations,
        "n_sentences": len(sequences),
        "n_tokens": n_tokens,
        "transitions": transitions,
        "span_bias": span_bias,
    }
    return LinearModel(weights, np.zeros(len(TAGS), dtype=np.float32), list(TAGS), meta)


def build_word_clusters(
    texts: list[str],
    n_clusters: int = 256,
    min_count: int = 3,
    max_vocab: int = 30_000,
    n_context: int = 2_000,
    dims: int = 64,
) -> dict[str, int]:
    """Distributional word classes from unlabelled text: ±2-word co-occurrence with the
    most frequent context words, PPMI, truncated SVD, k-means. Gives the tagger a
    POS-like / semantic generalisation ("screen", "keyboard", "trackpad" share a class)."""
    from collections import Counter

    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    from .features import TOKEN_RE

    sents = [[w.lower() for w in TOKEN_RE.findall(t)] for t in texts]
    counts = Counter(w for s in sents for w in s)
    vocab = [w for w, c in counts.most_common(max_vocab) if c >= min_count and any(ch.isalpha() for ch in w)]
    vidx = {w: i for i, w in enumerate(vocab)}
    cidx = {w: i for i, (w, _c) in enumerate(counts.most_common(n_context))}
    rows, cols = [], []
    for s in sents:
        n = len(s)
        for i, w in enumerate(s):
            r = vidx.get(w)
            if r is None:
                continue
            for j in range(max(0, i - 2), min(n, i + 3)):
                if j != i:
                    c = cidx.get(s[j])
                    if c is not None:
                        rows.append(r)
                        cols.append(c * 4 + (j - i + 2 if j < i else j - i + 1))  # position-aware context
    counts_mat = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(vocab), len(cidx) * 4)
    )
    counts_mat.sum_duplicates()
    total = counts_mat.sum()
    row_sum = np.asarray(counts_mat.sum(axis=1)).ravel()
    col_sum = np.asarray(counts_mat.sum(axis=0)).ravel()
    counts_mat = counts_mat.tocoo()
    pmi = np.log(counts_mat.data * total / (row_sum[counts_mat.row] * col_sum[counts_mat.col] + 1e-9) + 1e-9)
    keep = pmi > 0
    pmi_mat = sp.csr_matrix((pmi[keep], (counts_mat.row[keep], counts_mat.col[keep])), shape=counts_mat.shape)
    dims = max(1, min(dims, pmi_mat.shape[0] - 1, pmi_mat.shape[1] - 1))
    n_clusters = max(1, min(n_clusters, len(vocab)))
    if len(vocab) < 2:
        return {w: 0 for w in vocab}
    emb = normalize(TruncatedSVD(n_components=dims, random_state=SEED).fit_transform(pmi_mat))
    km = MiniBatchKMeans(n_clusters=n_clusters, random_state=SEED, n_init=3, batch_size=4096).fit(emb)
    return {w: int(c) for w, c in zip(vocab, km.labels_, strict=True)}


def load_clusters(model_dir: Path) -> dict[str, int] | None:
    from .tagger import load_word_clusters

    return load_word_clusters(model_dir)
