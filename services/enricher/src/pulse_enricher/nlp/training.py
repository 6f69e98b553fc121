"""Model fitting shared by `pulse-train` (fit on all training data, save artifacts) and
`pulse-eval` (5-fold cross-validation). Deterministic: fixed seeds, sorted inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import SGDClassifier

from .artifacts import DEFAULT_MODEL_DIR
from .aspect_model import aspect_features, aspect_vector_features
from .datasets import TargetExample
from .features import fold_tokens
from .lexicon import OpinionLexicon, clause_ids
from .linear_model import LinearModel
from .pipeline import build_nlp
from .post_model import POST_BITS, PostSentimentModel, post_features
from .target_model import TARGET_BITS, add_missing, target_context_features, target_features
from .word_vectors import WordVectors

SEED = 0
POST_ALPHA = 1.5e-4
TARGET_ALPHA = 2e-3
TARGET_EPOCHS = 50
TARGET_SEEDS = 5  # the target model averages the weights of this many SGD runs (seeds 0..4)
ASPECT_ALPHA = 1e-3
ASPECT_EPOCHS = 50
ASPECT_SEEDS = 5  # as TARGET_SEEDS
ASPECT_NB_SHARE = 0.3  # share of the NB-scaled weights in the aspect model's (see sgd_nb_mix)
ASPECT_NB_SMOOTHING = 0.25
POLARITIES = ("negative", "neutral", "positive")  # SemEval's "conflict" terms are left out
TAGGER_C1 = 0.05  # crfsuite L1 (keeps the weight matrix sparse: small artifact)
TAGGER_C2 = 1.5  # crfsuite L2 (chosen by 5-fold CV on the aspect training files)
TAGGER_ITERATIONS = 150
TAGGER_SPAN_BIAS = 0.0
TAGGER_JACKKNIFE = 5  # parts of the training sentences for the gazetteer features (see tagger_sequences)
# One item in this many of each jackknife part sees an empty gazetteer (rarer: a little more
# in-domain f1 on one set, less on the other and across domains; see the README's eval notes).
TAGGER_EMPTY_GAZETTEER_EVERY = 2
CLASS_GRANULARITIES = (32, 128, 512, 1024)
VECTOR_DIMS = 50  # the word vectors the target model pools: the first 50 of the 100 SVD dimensions


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


def sgd(alpha: float, max_iter: int = 30, seed: int = SEED) -> SGDClassifier:
    return SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        class_weight="balanced",
        max_iter=max_iter,
        tol=None,
        random_state=seed,
        average=False,
    )


def sgd_seed_average(
    x: sp.csr_matrix, y: np.ndarray, alpha: float, max_iter: int, seeds: int
) -> SGDClassifier:
    """One linear model whose weights are the mean of `seeds` SGD fits (seeds 0..n-1): each fit
    depends on its shuffling order, the mean much less (a bagging of the orders at no run-time cost)."""
    fits = [sgd(alpha, max_iter, seed).fit(x, y) for seed in range(seeds)]
    clf = fits[0]
    clf.coef_ = np.mean([f.coef_ for f in fits], axis=0)
    clf.intercept_ = np.mean([f.intercept_ for f in fits], axis=0)
    return clf


def nb_scaled_weights(
    x: sp.csr_matrix, y: np.ndarray, alpha: float, max_iter: int, seeds: int, smoothing: float
) -> tuple[np.ndarray, np.ndarray]:
    """NBSVM-style weights (Wang & Manning 2012), one class against the rest: each class's
    binary columns scaled by their naive-Bayes log-count ratio, a seed-averaged SGD fit on
    them, the ratios folded back into its weights (real-valued columns unscaled). Returns
    (coef (classes × columns), intercept) in `np.unique(y)` order, as an SGD fit's."""
    x = x.tocsc()
    occurring = np.flatnonzero(np.diff(x.indptr))
    real = np.zeros(x.shape[1], dtype=bool)
    col_of = np.repeat(np.arange(x.shape[1]), np.diff(x.indptr))
    real[col_of[x.data != 1.0]] = True
    binary = occurring[~real[occurring]]
    x = x.tocsr()
    classes = np.unique(y)
    counts = {c: int((y == c).sum()) for c in classes}
    coef = np.zeros((len(classes), x.shape[1]), dtype=np.float64)
    intercept = np.zeros(len(classes), dtype=np.float64)
    xb = x[:, binary]
    for k, c in enumerate(classes):
        is_c = y == c
        p = smoothing + np.asarray(xb[is_c].sum(axis=0)).ravel()
        q = smoothing + np.asarray(xb[~is_c].sum(axis=0)).ravel()
        ratio = np.log((p / p.sum()) / (q / q.sum()))
        scale = np.ones(x.shape[1], dtype=np.float64)
        scale[binary] = ratio
        xs = (x @ sp.diags(scale.astype(np.float32))).tocsr()
        weight = {True: len(y) / (len(classes) * counts[c]), False: 1.0}
        fits = []
        for seed in range(seeds):
            clf = sgd(alpha, max_iter, seed)
            clf.set_params(class_weight=weight)
            fits.append(clf.fit(xs, is_c))
        coef[k] = np.mean([f.coef_[0] for f in fits], axis=0) * scale
        intercept[k] = np.mean([f.intercept_[0] for f in fits])
    return coef, intercept


def sgd_nb_mix(
    x: sp.csr_matrix, y: np.ndarray, alpha: float, max_iter: int, seeds: int, share: float, smoothing: float
) -> SGDClassifier:
    """`sgd_seed_average`'s weights mixed with `nb_scaled_weights`' (`share` of the latter)."""
    clf = sgd_seed_average(x, y, alpha, max_iter, seeds)
    if share > 0 and len(clf.classes_) > 2:
        coef, intercept = nb_scaled_weights(x, y, alpha, max_iter, seeds, smoothing)
        clf.coef_ = (1 - share) * clf.coef_ + share * coef
        clf.intercept_ = (1 - share) * clf.intercept_ + share * intercept
    return clf


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
    analyzer: TextAnalyzer,
    post_model: PostSentimentModel | None,
    examples: list[TargetExample],
    vectors: WordVectors | None = None,
    context: bool = True,
) -> list[dict[int, float]]:
    """The target model's features per example (with `context`: `target_context_features` too)."""
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
        feats = target_features(a.words, a.valences, ex.text, s, e, p, post_feats=shared)
        if context:
            context = target_context_features(fold_tokens(a.words), a.valences, s, e, vectors, TARGET_BITS)
            add_missing(feats, context)
        rows.append(feats)
    return rows


def fit_target(
    rows: list[dict[int, float]], labels: list[str], alpha: float = TARGET_ALPHA, context: bool = True
) -> LinearModel:
    """`context`: the rows carry `target_context_features` (as `target_rows` builds them)."""
    clf = sgd_seed_average(to_csr(rows, TARGET_BITS), np.array(labels), alpha, TARGET_EPOCHS, TARGET_SEEDS)
    meta = {"kind": "target_sentiment", "alpha": alpha, "epochs": TARGET_EPOCHS, "seeds": TARGET_SEEDS}
    return LinearModel.from_sklearn(clf, TARGET_BITS, {**meta, "n": len(rows), "context": context})


def aspect_rows(
    analyzer: TextAnalyzer,
    post_model: PostSentimentModel | None,
    sentences: list,
    vectors: WordVectors | None = None,
) -> list[tuple[int, dict[int, float], str]]:
    """(sentence index, features, gold polarity) for every non-conflict aspect term (with
    `vectors`: `aspect_vector_features` too)."""
    out = []
    for k, sent in enumerate(sentences):
        terms = [t for t in sent.terms if t[3] in POLARITIES]
        if not terms:
            continue
        a = analyzer(sent.text)
        if not a.words:
            continue
        proba, _shared = shared_post_features(post_model, a, TARGET_BITS)
        n_aspects = len(sent.terms)
        for start, end, _term, polarity in terms:
            s, e = target_span(a, start, end)
            # The post model's probabilities, not its n-grams (see AspectSentimentModel.post_ngrams).
            feats = aspect_features(a.words, a.valences, sent.text, s, e, proba, n_aspects, own_only=True)
            if vectors is not None and vectors.dims:
                add_missing(
                    feats, aspect_vector_features(fold_tokens(a.words), s, e, vectors, clause_ids(a.words))
                )
            out.append((k, feats, polarity))
    return out


def fit_aspect_polarity(
    rows: list[dict[int, float]], labels: list[str], alpha: float = ASPECT_ALPHA, vectors: str | None = None
) -> LinearModel:
    """`vectors`: the file (in the models dir) of the word vectors whose `aspect_vector_features`
    the rows carry (as `aspect_rows` builds them with those vectors)."""
    clf = sgd_nb_mix(
        to_csr(rows, TARGET_BITS),
        np.array(labels),
        alpha,
        ASPECT_EPOCHS,
        ASPECT_SEEDS,
        ASPECT_NB_SHARE,
        ASPECT_NB_SMOOTHING,
    )
    meta = {"kind": "aspect_sentiment", "alpha": alpha, "epochs": ASPECT_EPOCHS, "seeds": ASPECT_SEEDS}
    meta = {**meta, "n": len(rows), "post_ngrams": False}
    if ASPECT_NB_SHARE > 0:
        meta.update(nb_share=ASPECT_NB_SHARE, nb_smoothing=ASPECT_NB_SMOOTHING)
    if vectors:
        meta["vectors"] = vectors
    return LinearModel.from_sklearn(clf, TARGET_BITS, meta)


def kfold_indices(n: int, k: int = 5, seed: int = SEED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    return [order[i::k] for i in range(k)]


@dataclass
class TaggerItem:
    """One aspect-annotated sentence as the tagger sees it: tokens, valences, gold token spans."""

    words: list[str]
    valences: list[float]
    spans: list[tuple[int, int]]

    @property
    def lows(self) -> list[str]:
        return [w.lower() for w in self.words]

    @property
    def tags(self) -> list[str]:
        tags = ["O"] * len(self.words)
        for s, e in self.spans:
            tags[s] = "B"
            for i in range(s + 1, e):
                tags[i] = "I"
        return tags


def tagger_items(analyzer: TextAnalyzer, sentences: list) -> list[TaggerItem | None]:
    """Per sentence (None for a sentence without tokens): tokens, valences and gold spans."""
    out: list[TaggerItem | None] = []
    for sent in sentences:
        a = analyzer(sent.text)
        if not a.words:
            out.append(None)
            continue
        spans = sorted({target_span(a, start, end) for start, end, _term, _pol in sent.terms})
        out.append(TaggerItem(a.words, a.valences, spans))
    return out


def tagger_gazetteer(items: list[TaggerItem]):
    from .gazetteer import Gazetteer

    return Gazetteer.build([(it.lows, it.spans) for it in items])


def tagger_sequences(
    items: list[TaggerItem],
    clusters: dict[str, int] | None = None,
    classes: dict[str, list[int]] | None = None,
    gazetteer: bool = True,
    jackknife: int = TAGGER_JACKKNIFE,
) -> tuple[list[tuple[np.ndarray, list[str]]], object]:
    """The tagger's hashed feature rows (n_tokens, n_templates) and BIO tags per item, and the
    gazetteer of every item's terms (None without one).

    Each item's gazetteer features come from a gazetteer built on the other `jackknife` − 1
    parts of the items (deterministic split): in training the CRF sees, as on unseen text,
    only terms known from other sentences; the returned gazetteer, built on all of them, is
    what the trained tagger reads at run time. One item in `TAGGER_EMPTY_GAZETTEER_EVERY` of
    each part sees an empty gazetteer instead, as text of a domain the gazetteer does not
    know: the CRF then learns to find terms without it too, so it still travels to other
    products.
    """
    from .gazetteer import Gazetteer
    from .tagger_features import TAGGER_BITS, token_rows

    gaz_of: list[object] = [None] * len(items)
    full = None
    if gazetteer:
        empty = Gazetteer({}, {})
        for part in range(jackknife):
            others = [it for j, it in enumerate(items) if j % jackknife != part]
            gaz = tagger_gazetteer(others)
            for j in range(part, len(items), jackknife):
                gaz_of[j] = empty if (j // jackknife) % TAGGER_EMPTY_GAZETTEER_EVERY == 0 else gaz
        full = tagger_gazetteer(items)
    out = [
        (token_rows(it.words, it.valences, TAGGER_BITS, clusters, classes, gaz_of[j]), it.tags)  # type: ignore[arg-type]
        for j, it in enumerate(items)
    ]
    return out, full


def fit_tagger(
    sequences: list[tuple[np.ndarray, list[str]]],
    c1: float = TAGGER_C1,
    c2: float = TAGGER_C2,
    iterations: int = TAGGER_ITERATIONS,
    span_bias: float = TAGGER_SPAN_BIAS,
    features: tuple[str, ...] = ("clusters", "classes", "gazetteer"),
) -> LinearModel:
    """A linear-chain CRF (python-crfsuite, L-BFGS) over the hashed token features.

    The attributes crfsuite sees are the hashed column numbers, so its state-feature weights
    copy straight into a (2**bits × 3) matrix that `AspectTagger` sums at run time; the
    transition weights go into the model's meta. L-BFGS is deterministic: same data, same bytes.
    """
    import tempfile

    import pycrfsuite

    from .tagger import TAGS
    from .tagger_features import TAGGER_BITS

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
        "features": list(features),
    }
    return LinearModel(weights, np.zeros(len(TAGS), dtype=np.float32), list(TAGS), meta)


def cooccurrences(
    texts: list[str], n_context: int, window: int, min_count: int, max_vocab: int
) -> tuple[list[str], sp.csr_matrix]:
    """The vocabulary (words seen `min_count` times, with a letter; the `max_vocab` most frequent)
    and its position-aware co-occurrence counts with the `n_context` most frequent words within
    ±`window` words: column = context word × 2·window + relative position."""
    from collections import Counter

    from .features import TOKEN_RE

    sents = [[w.lower() for w in TOKEN_RE.findall(t)] for t in texts]
    counts = Counter(w for s in sents for w in s)
    vocab = [w for w, c in counts.most_common(max_vocab) if c >= min_count and any(ch.isalpha() for ch in w)]
    vidx = {w: i for i, w in enumerate(vocab)}
    cidx = {w: i for i, (w, _c) in enumerate(counts.most_common(n_context))}
    width = 2 * window
    rows, cols = [], []
    for s in sents:
        n = len(s)
        for i, w in enumerate(s):
            r = vidx.get(w)
            if r is None:
                continue
            for j in range(max(0, i - window), min(n, i + window + 1)):
                if j != i:
                    c = cidx.get(s[j])
                    if c is not None:
                        rows.append(r)
                        cols.append(c * width + (j - i + window if j < i else j - i + window - 1))
    mat = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(vocab), len(cidx) * width)
    )
    mat.sum_duplicates()
    return vocab, mat


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
    from sklearn.cluster import MiniBatchKMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    vocab, counts_mat = cooccurrences(texts, n_context, 2, min_count, max_vocab)
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


def word_embeddings(
    texts: list[str],
    dims: int = 100,
    n_context: int = 3_000,
    window: int = 2,
    min_count: int = 3,
    max_vocab: int = 30_000,
) -> tuple[list[str], np.ndarray]:
    """Word vectors learnt without labels: position-aware co-occurrence (±`window` words) with
    the `n_context` most frequent words, PPMI with context-distribution smoothing (counts^0.75),
    truncated SVD, rows L2-normalised. Deterministic (fixed seed)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    vocab, mat = cooccurrences(texts, n_context, window, min_count, max_vocab)
    total = mat.sum()
    row_sum = np.asarray(mat.sum(axis=1)).ravel()
    col_p = np.asarray(mat.sum(axis=0)).ravel() ** 0.75
    col_sum = col_p / col_p.sum() * total
    coo = mat.tocoo()
    pmi = np.log(coo.data * total / (row_sum[coo.row] * col_sum[coo.col]) + 1e-9)
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=mat.shape)
    dims = max(1, min(dims, ppmi.shape[0] - 1, ppmi.shape[1] - 1))
    emb = normalize(TruncatedSVD(n_components=dims, random_state=SEED, n_iter=7).fit_transform(ppmi))
    return vocab, emb.astype(np.float32)


PRETRAINED_VECTORS = Path(__file__).resolve().parent.parent / "pretrained" / "minilm_word_vectors.npz.gz"


def build_word_classes(
    vocab: list[str], emb: np.ndarray, granularities: tuple[int, ...] = CLASS_GRANULARITIES
) -> dict[str, list[int]]:
    """Word classes at several granularities (k-means of `word_embeddings` into 32 ... 1024
    classes): coarse classes generalise, fine ones keep "screen" apart from "keyboard"."""
    from sklearn.cluster import MiniBatchKMeans

    if len(vocab) < 2:
        return {w: [0] * len(granularities) for w in vocab}
    labels = []
    for k in granularities:
        km = MiniBatchKMeans(n_clusters=min(k, len(vocab)), random_state=SEED, n_init=3, batch_size=4096).fit(
            emb
        )
        labels.append(km.labels_.tolist())
    return {w: [lab[i] for lab in labels] for i, w in enumerate(vocab)}


def load_clusters(model_dir: Path) -> dict[str, int] | None:
    from .word_clusters import load_word_clusters

    return load_word_clusters(model_dir)


def load_classes(model_dir: Path) -> dict[str, list[int]] | None:
    from .word_clusters import load_word_classes

    return load_word_classes(model_dir)
