"""`pulse-eval`: score the enrichment against human-labelled files, through `Enricher.enrich`.

  --sentiment FILE   label<TAB>text                          post sentiment: macro_recall, accuracy, macro_f1
  --target FILE      polarity<TAB>target<TAB>start<TAB>text  sentiment toward the target: same metrics
  --aspects FILE.xml SemEval-2014 Task 4 XML                 aspect terms: precision, recall, f1 (exact
                                                             spans); polarity of the gold terms

Before anything is scored, every file must exist and pass its format check (a sentiment
file given as --target, a rating file, a truncated XML: an error naming the file and line,
exit 2, nothing written).

How each figure is scored (printed on every line as scoring=...):
  packaged  the packaged models (or --model-dir), for files that are not training data
  cv5       5-fold cross-validation, for files whose name contains "train" (or --cv always):
            the models that file trains are retrained on 4/5 of it and score the other 1/5
Aspect files are cross-validated together, as `pulse-train` uses them: fold k's tagger and
aspect-polarity model learn from every aspect file minus its fold k (train=all) and score
each file's fold k. With two or more aspect files, each is also scored by models trained on
one file alone (train=<file>): in-domain, and cross-domain on the others.

Everything goes through the production code: each text becomes a `Post` and
`Enricher.enrich` runs on it. Post sentiment is `enriched.sentiment`; a target is the one
tracked product of a tracking config made for it, and its sentiment is the brand mention's;
aspect terms are the enriched aspects found with a taxonomy-free tracking config (the
tagger alone; `f1_with_taxonomy` adds the --tracking taxonomy); aspect polarity is
`SentimentScorer.aspect_polarities` (what `enrich` calls for each aspect) on the gold terms
("conflict" left out), and `found_polarity_accuracy` the polarity `enrich` gave the terms it
found exactly. Results go to --out as JSON only when --out is given.

Defaults: tweeteval_val, dong2014_train and both SemEval-2014 training files under
$PULSE_DATASETS_DIR (else the nearest shared/datasets beside the repo).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pulse_common.schema import Author, Post
from pulse_common.tracking import Brand, TrackingConfig, load_tracking_config

from .nlp import training
from .nlp.aspect_model import AspectSentimentModel
from .nlp.datasets import (
    LABELS,
    AspectSentence,
    DatasetFormatError,
    TargetExample,
    datasets_dir,
    read_semeval_xml,
    read_sentiment_tsv,
    read_target_tsv,
)
from .nlp.enricher import Enricher
from .nlp.tagger import AspectTagger
from .nlp.target_model import TargetSentimentModel
from .nlp.word_vectors import PRETRAINED_WORD_VECTORS, WordVectors

FOLDS = 5
_AUTHOR = Author(id="pulse-eval")
_CREATED = datetime(2026, 1, 1, tzinfo=UTC)
# A taxonomy-free config: aspect terms then come from the tagger alone.
NO_TAXONOMY = TrackingConfig(products=[Brand(id="none", name="pulse-eval-no-product")])


def _f(x: float) -> float:
    return round(float(x), 4)


def _log(msg: str) -> None:
    print(f"pulse-eval: {msg}", file=sys.stderr, flush=True)


def _post(text: str, n: int = 0) -> Post:
    return Post(
        id=f"eval:{n}",
        network="synthetic",
        native_id=str(n),
        created_at=_CREATED,
        text=text,
        author=_AUTHOR,
        version=1,
        lang="en",  # the datasets are English; production posts mostly carry the network's tag
    )


def classification_metrics(gold: list[str], pred: list[str]) -> dict[str, float]:
    recalls, f1s = [], []
    for c in LABELS:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        n_gold = sum(g == c for g in gold)
        n_pred = sum(p == c for p in pred)
        r = tp / n_gold if n_gold else 0.0
        p = tp / n_pred if n_pred else 0.0
        recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / max(len(gold), 1)
    return {
        "macro_recall": _f(np.mean(recalls)),
        "accuracy": _f(acc),
        "macro_f1": _f(np.mean(f1s)),
        "n": len(gold),
    }


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": _f(p), "recall": _f(r), "f1": _f(2 * p * r / (p + r) if p + r else 0.0)}


def raw_offsets(raw: str, normalized: str) -> Callable[[int], int]:
    """Maps a character offset in `normalize_text(raw)` back to `raw` (they differ when the
    normalizer unescaped entities or collapsed whitespace)."""
    if raw == normalized:
        return lambda i: i
    table = [len(raw)] * (len(normalized) + 1)
    for a, b, size in difflib.SequenceMatcher(None, raw, normalized, autojunk=False).get_matching_blocks():
        for k in range(size + 1):
            if b + k <= len(normalized):
                table[b + k] = min(table[b + k], a + k) if k == size else a + k
    return lambda i: table[i]


# -- loading: every file checked before anything is scored ------------------------------------
@dataclass
class Job:
    kind: str  # sentiment | target | aspects
    path: Path
    cv: bool
    data: object = field(default=None)

    @property
    def name(self) -> str:
        return self.path.stem


def load_jobs(jobs: list[Job]) -> list[str]:
    """Reads and checks every file; returns the problems (empty: all good)."""
    problems = [f"{j.path}: no such file" for j in jobs if not j.path.is_file()]
    if problems:
        return problems
    readers = {"sentiment": read_sentiment_tsv, "target": read_target_tsv, "aspects": read_semeval_xml}
    for job in jobs:
        try:
            job.data = readers[job.kind](job.path)
        except DatasetFormatError as exc:
            problems.append(str(exc))
    names = [(j.kind, j.name) for j in jobs]
    for kind, name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"two {kind} files are both named {name!r}: their results would mix")
    return problems


# -- post sentiment ---------------------------------------------------------------------------
def eval_sentiment(enricher: Enricher, data: tuple[list[str], list[str]]) -> dict:
    texts, gold = data
    pred = [enricher.enrich(_post(text, n)).sentiment.label for n, text in enumerate(texts)]
    return classification_metrics(gold, pred)


# -- target sentiment -------------------------------------------------------------------------
def _target_enrichers(enricher: Enricher, examples: list[TargetExample]) -> dict[str, Enricher]:
    """One enricher per distinct target, tracking that target as its only product."""
    out = {}
    for target in sorted({e.target for e in examples}):
        config = TrackingConfig(products=[Brand(id="target", name=target)], languages=["en"])
        out[target] = enricher.with_tracking(config)
    return out


def _target_label(enricher: Enricher, ex: TargetExample, n: int) -> str | None:
    brands = enricher.enrich(_post(ex.text, n)).brands
    if not brands:
        return None
    mention = next((b for b in brands if b.start == ex.start), brands[0])
    return mention.sentiment.label if mention.sentiment is not None else "neutral"


def eval_target(enricher: Enricher, examples: list[TargetExample], cv: bool) -> dict:
    per_target = _target_enrichers(enricher, examples)
    gold = [e.label for e in examples]
    pred: list[str | None] = [None] * len(examples)
    if cv:
        analyzer = training.TextAnalyzer(enricher.model_dir)
        vectors = WordVectors.load(enricher.model_dir)
        rows = training.target_rows(analyzer, enricher.post_model, examples, vectors)
        for k, fold in enumerate(training.kfold_indices(len(examples), FOLDS)):
            held = set(fold.tolist())
            train = [i for i in range(len(examples)) if i not in held]
            model = TargetSentimentModel(
                training.fit_target([rows[i] for i in train], [gold[i] for i in train]), vectors
            )
            for i in fold.tolist():
                ex = examples[i]
                pred[i] = _target_label(per_target[ex.target].with_models(target_model=model), ex, i)
            _log(f"target fold {k + 1}/{FOLDS} done")
    else:
        if enricher.target_model is None:
            raise SystemExit("pulse-eval: no packaged target model: run pulse-train first")
        for i, ex in enumerate(examples):
            pred[i] = _target_label(per_target[ex.target], ex, i)
    unmatched = sum(p is None for p in pred)
    metrics = classification_metrics(gold, [p or "neutral" for p in pred])
    metrics["targets_not_found"] = unmatched
    return metrics


# -- aspect terms and their polarity ----------------------------------------------------------
@dataclass
class AspectCounts:
    spans: list[int] = field(default_factory=lambda: [0, 0, 0])  # tp, fp, fn
    with_taxonomy: list[int] = field(default_factory=lambda: [0, 0, 0])
    gold_polarity: list[tuple[str, str]] = field(default_factory=list)  # (gold, predicted)
    found_polarity: list[tuple[str, str]] = field(default_factory=list)

    def result(self) -> dict:
        out = _prf(*self.spans)
        gold, pred = zip(*self.gold_polarity, strict=True) if self.gold_polarity else ((), ())
        pol = classification_metrics(list(gold), list(pred))
        out["polarity_accuracy"] = pol["accuracy"]
        out["polarity_macro_f1"] = pol["macro_f1"]
        ok = sum(g == p for g, p in self.found_polarity)
        out["found_polarity_accuracy"] = _f(ok / len(self.found_polarity) if self.found_polarity else 0.0)
        if any(self.with_taxonomy):
            out["f1_with_taxonomy"] = _prf(*self.with_taxonomy)["f1"]
        out["n_terms"] = self.spans[0] + self.spans[2]
        out["n_polarity_terms"] = len(self.gold_polarity)
        return out


def score_sentence(
    enricher: Enricher,
    sent: AspectSentence,
    n: int,
    counts: AspectCounts,
    with_taxonomy: Enricher | None = None,
) -> None:
    """One sentence through `enrich`: its aspect spans and polarities against the gold terms."""
    post = _post(sent.text, n)
    out = enricher.enrich(post)
    to_raw = raw_offsets(sent.text, out.text_normalized)
    gold = {(s, e): pol for s, e, _t, pol in sent.terms}
    found = {(to_raw(a.start), to_raw(a.end)): a.polarity for a in out.aspects}
    c = counts.spans
    c[0] += len(found.keys() & gold.keys())
    c[1] += len(found.keys() - gold.keys())
    c[2] += len(gold.keys() - found.keys())
    for span in found.keys() & gold.keys():
        if gold[span] in LABELS:
            counts.found_polarity.append((gold[span], found[span]))
    if with_taxonomy is not None:
        both = {(to_raw(a.start), to_raw(a.end)) for a in with_taxonomy.enrich(post).aspects}
        t = counts.with_taxonomy
        t[0] += len(both & gold.keys())
        t[1] += len(both - gold.keys())
        t[2] += len(gold.keys() - both)
    terms = [(s, e, p) for s, e, _t, p in sent.terms if p in LABELS]
    if not terms:
        return
    doc, words, valences = enricher.analyze(out.text_normalized)
    if not words:
        return
    to_norm = {to_raw(i): i for i in range(len(out.text_normalized) + 1)}
    spans = []
    for s, e, _p in terms:
        span = doc.char_span(to_norm.get(s, s), to_norm.get(e, e), alignment_mode="expand")
        spans.append((span.start, span.end) if span is not None and len(span) else (0, 1))
    _sentiment, proba = enricher.post_sentiment(out.text_normalized, words, valences)
    scored = enricher.scorer.aspect_polarities(words, valences, spans, proba, text=out.text_normalized)
    counts.gold_polarity.extend((p, res.polarity) for (_s, _e, p), res in zip(terms, scored, strict=True))


def _fit_aspect_models(
    items: dict[str, list],
    pol_rows: dict[str, list],
    folds: dict[str, list[set[int]]],
    names: list[str],
    k: int,
    clusters: dict[str, int] | None,
    classes: dict[str, list[int]] | None,
    vectors: WordVectors | None,
) -> tuple[AspectTagger, AspectSentimentModel]:
    """Fold k's tagger and polarity model, trained on `names` minus their fold k: the tagger's
    gazetteer too knows only the training sentences' terms (jackknifed inside them)."""
    train_items = [
        it for name in names for i, it in enumerate(items[name]) if it is not None and i not in folds[name][k]
    ]
    seqs, gazetteer = training.tagger_sequences(train_items, clusters, classes)
    rows = [r for name in names for r in pol_rows[name] if r[0] not in folds[name][k]]
    tagger = AspectTagger(training.fit_tagger(seqs), clusters, classes, gazetteer)  # type: ignore[arg-type]
    fitted = training.fit_aspect_polarity(
        [r[1] for r in rows], [r[2] for r in rows], vectors=PRETRAINED_WORD_VECTORS if vectors else None
    )
    return tagger, AspectSentimentModel(fitted, vectors)


def eval_aspects_cv(
    enricher: Enricher, files: dict[str, list[AspectSentence]], taxonomy: Enricher, cross_domain: bool
) -> dict[str, dict]:
    """Every aspect file cross-validated together (train=all), plus train=<one file> per file."""
    analyzer = training.TextAnalyzer(enricher.model_dir)
    clusters = training.load_clusters(enricher.model_dir)
    classes = training.load_classes(enricher.model_dir)
    vectors = WordVectors.load(enricher.model_dir, PRETRAINED_WORD_VECTORS)
    names = list(files)
    items, pol_rows, folds = {}, {}, {}
    for name, sents in files.items():
        items[name] = training.tagger_items(analyzer, sents)
        pol_rows[name] = training.aspect_rows(analyzer, enricher.post_model, sents, vectors)
        folds[name] = [set(f.tolist()) for f in training.kfold_indices(len(sents), FOLDS)]
    recipes = [("all", names)]
    if cross_domain and len(names) > 1:
        recipes += [(name, [name]) for name in names]
    counts = {(recipe, test): AspectCounts() for recipe, _ in recipes for test in names}
    plain = enricher.with_tracking(NO_TAXONOMY)
    t0 = time.time()
    for k in range(FOLDS):
        for recipe, train_names in recipes:
            tagger, polarity = _fit_aspect_models(
                items, pol_rows, folds, train_names, k, clusters, classes, vectors
            )
            scorer = plain.with_models(tagger=tagger, aspect_model=polarity)
            with_tax = taxonomy.with_models(tagger=tagger, aspect_model=polarity) if recipe == "all" else None
            for test in names:
                for i in sorted(folds[test][k]):
                    score_sentence(scorer, files[test][i], i, counts[(recipe, test)], with_tax)
        _log(f"aspects fold {k + 1}/{FOLDS} done ({time.time() - t0:.0f}s)")
    out = {}
    for (recipe, test), c in counts.items():
        key = f"{test}_cv" if recipe == "all" else f"{test}_cv train={recipe}"
        res = c.result()
        res["train"] = "+".join(names) if recipe == "all" else recipe
        if recipe != "all":
            res.pop("f1_with_taxonomy", None)
        out[key] = res
    return out


def eval_aspects_packaged(enricher: Enricher, sents: list[AspectSentence], taxonomy: Enricher) -> dict:
    counts = AspectCounts()
    plain = enricher.with_tracking(NO_TAXONOMY)
    for i, sent in enumerate(sents):
        score_sentence(plain, sent, i, counts, taxonomy)
    res = counts.result()
    res["train"] = "packaged"
    return res


# -- output -----------------------------------------------------------------------------------
_QUIET = ("n", "n_terms", "n_polarity_terms", "train", "seconds", "file", "scoring")


def eval_line(name: str, metrics: dict) -> str:
    parts = [
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in metrics.items()
        if k not in _QUIET and not isinstance(v, dict)
    ]
    base, _, _ = name.partition(" ")
    tail = f" scoring={metrics['scoring']}"
    if "train" in metrics and metrics["scoring"] != "packaged":
        tail += f" train={metrics['train']}"
    return f"eval: {base} " + " ".join(parts) + tail


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pulse-eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sentiment", type=Path, action="append", default=None, metavar="FILE")
    ap.add_argument("--target", type=Path, action="append", default=None, metavar="FILE")
    ap.add_argument("--aspects", type=Path, action="append", default=None, metavar="FILE.xml")
    ap.add_argument(
        "--out", type=Path, default=None, help="write every result as JSON here (default: nowhere)"
    )
    ap.add_argument("--model-dir", type=Path, default=None, help="models dir (default: the packaged models)")
    ap.add_argument(
        "--tracking",
        type=Path,
        default=None,
        help="tracking config for f1_with_taxonomy (default: config/tracking.yaml)",
    )
    ap.add_argument(
        "--cv",
        choices=("auto", "always", "never"),
        default="auto",
        help="cross-validate target/aspect files: auto = files named *train*",
    )
    ap.add_argument(
        "--no-cross-domain",
        action="store_true",
        help="with several aspect files, skip the models trained on one file alone",
    )
    args = ap.parse_args(argv)

    if args.sentiment is None and args.target is None and args.aspects is None:
        d = datasets_dir()
        args.sentiment = [d / "sentiment" / "tweeteval_val.tsv"]
        args.target = [d / "target" / "dong2014_train.tsv"]
        args.aspects = [d / "aspects" / f"semeval14_{n}_train.xml" for n in ("laptops", "restaurants")]

    def use_cv(path: Path) -> bool:
        return args.cv == "always" or (args.cv == "auto" and "train" in path.stem)

    jobs = [Job("sentiment", p, False) for p in args.sentiment or []]
    jobs += [Job("target", p, use_cv(p)) for p in args.target or []]
    jobs += [Job("aspects", p, use_cv(p)) for p in args.aspects or []]
    problems = load_jobs(jobs)
    if args.out is not None and args.out.is_dir():
        problems.append(f"--out {args.out} is a directory; give a file name")
    if problems:
        for problem in problems:
            print(f"pulse-eval: error: {problem}", file=sys.stderr)
        print("pulse-eval: nothing was scored", file=sys.stderr)
        return 2
    try:
        taxonomy_config = load_tracking_config(args.tracking)
    except ValueError as exc:
        print(f"pulse-eval: error: {exc}", file=sys.stderr)
        return 2

    enricher = Enricher(taxonomy_config, model_dir=args.model_dir)
    _log(f"models {enricher.version} from {enricher.model_dir}")
    results: dict[str, dict] = {}

    def record(name: str, metrics: dict, path: Path | list[Path], scoring: str, t: float) -> None:
        metrics["scoring"] = scoring
        metrics["seconds"] = round(time.time() - t, 1)
        metrics["file"] = [str(p) for p in path] if isinstance(path, list) else str(path)
        results[name] = metrics
        print(eval_line(name, metrics), flush=True)

    for job in jobs:
        t = time.time()
        if job.kind == "sentiment":
            record(job.name, eval_sentiment(enricher, job.data), job.path, "packaged", t)  # type: ignore[arg-type]
        elif job.kind == "target":
            name = job.name + ("_cv" if job.cv else "")
            metrics = eval_target(enricher, job.data, job.cv)  # type: ignore[arg-type]
            record(name, metrics, job.path, "cv5" if job.cv else "packaged", t)
    aspect_cv = {j.name: j.data for j in jobs if j.kind == "aspects" and j.cv}
    if aspect_cv:
        t = time.time()
        cv_results = eval_aspects_cv(enricher, aspect_cv, enricher, not args.no_cross_domain)  # type: ignore[arg-type]
        paths = [j.path for j in jobs if j.kind == "aspects" and j.cv]
        for name, metrics in cv_results.items():
            record(name, metrics, paths, "cv5", t)
    for job in jobs:
        if job.kind == "aspects" and not job.cv:
            t = time.time()
            record(job.name, eval_aspects_packaged(enricher, job.data, enricher), job.path, "packaged", t)  # type: ignore[arg-type]

    cross = sorted(n for n, m in results.items() if m["scoring"] == "cv5")
    packaged = sorted(n for n, m in results.items() if m["scoring"] == "packaged")
    print(f"eval: cross-validated ({FOLDS} folds, models retrained per fold): {', '.join(cross) or 'none'}")
    print(f"eval: packaged models ({enricher.version}): {', '.join(packaged) or 'none'}")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"enrichment_version": enricher.version, "folds": FOLDS, "results": results}
        args.out.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _log(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
