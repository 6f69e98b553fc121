"""`pulse-eval`: score the enrichment against human-labelled data.

Prints one line per dataset, `eval: <dataset> <metric>=<value> ...`, and writes all
results as JSON (--out, default bench/results/eval.json).

  --sentiment FILE   label<TAB>text               -> macro_recall, accuracy, macro_f1 (post level)
  --target FILE      polarity<TAB>target<TAB>start<TAB>text -> accuracy, macro_f1 (target given)
  --aspects FILE.xml SemEval-2014 XML             -> precision, recall, f1 (exact spans), polarity_accuracy

Files whose name contains "train" are scored by 5-fold cross-validation (dataset name
gets "_cv"): the model is retrained on 4/5 and scored on the held-out 1/5; other files are
scored with the packaged models. Post-level sentiment always uses the packaged model (the
exact `Enricher` code path). Aspect polarity accuracy is over gold terms, "conflict"
excluded, using the Enricher's clause-scoped opinion rules plus the post-level prior.
Defaults: the development
files under $PULSE_DATASETS_DIR or <repo>/../shared/datasets.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from .nlp import training
from .nlp.datasets import LABELS, datasets_dir, read_semeval_xml, read_sentiment_tsv, read_target_tsv
from .nlp.enricher import Enricher
from .nlp.tagger import AspectTagger

FOLDS = 5


def _f(x: float) -> float:
    return round(float(x), 4)


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


def eval_sentiment(enricher: Enricher, path: Path) -> tuple[str, dict]:
    from .nlp.text import normalize_text

    texts, gold = read_sentiment_tsv(path)
    pred = []
    for text in texts:
        sentiment, _ = enricher.post_sentiment(normalize_text(text))
        pred.append(sentiment.label)
    return path.stem, classification_metrics(gold, pred)


def eval_target(enricher: Enricher, path: Path, cv: bool) -> tuple[str, dict]:
    examples = read_target_tsv(path)
    analyzer = training.TextAnalyzer(enricher.model_dir)
    rows = training.target_rows(analyzer, enricher.post_model, examples)
    gold = [e.label for e in examples]
    pred = ["neutral"] * len(examples)
    if cv:
        for fold in training.kfold_indices(len(examples), FOLDS):
            held = set(fold.tolist())
            train = [i for i in range(len(examples)) if i not in held]
            model = training.fit_target([rows[i] for i in train], [gold[i] for i in train])
            for i in fold:
                if rows[i]:
                    pred[i] = LABELS[int(model.proba(rows[i]).argmax())]
    else:
        if enricher.target_model is None:
            raise SystemExit("no packaged target model: run pulse-train first")
        for i, row in enumerate(rows):
            if row:
                pred[i] = LABELS[int(enricher.target_model.model.proba(row).argmax())]
    return path.stem + ("_cv" if cv else ""), classification_metrics(gold, pred)


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": _f(p), "recall": _f(r), "f1": _f(2 * p * r / (p + r) if p + r else 0.0)}


def eval_aspects(enricher: Enricher, path: Path, cv: bool) -> tuple[str, dict]:
    sentences = read_semeval_xml(path)
    analyzed = [enricher.analyze(s.text) for s in sentences]
    taggers: list[AspectTagger | None] = [enricher.tagger] * len(sentences)
    if cv:
        analyzer = training.TextAnalyzer(enricher.model_dir)
        clusters = training.load_clusters(enricher.model_dir)
        for fold in training.kfold_indices(len(sentences), FOLDS):
            held = set(fold.tolist())
            rows, labels, _ = training.tagger_data(
                analyzer, [s for i, s in enumerate(sentences) if i not in held], clusters
            )
            model = training.fit_tagger(rows, labels, training.TAGGER_ALPHA, average=True)
            model.meta["span_bias"] = training.TAGGER_SPAN_BIAS
            tagger = AspectTagger(model, clusters)
            for i in fold:
                taggers[i] = tagger
    counts = {"tagger": [0, 0, 0], "with_taxonomy": [0, 0, 0]}
    pol_ok = pol_n = 0
    saved = enricher.tagger
    try:
        for sent, (doc, words, valences), tagger in zip(sentences, analyzed, taggers, strict=True):
            gold = {(s, e) for s, e, _t, _p in sent.terms}
            tagged: set[tuple[int, int]] = set()
            if tagger is not None and words:
                for s, e in tagger.tag_spans(words, valences):
                    tagged.add((doc[s].idx, doc[e - 1].idx + len(doc[e - 1].text)))
            enricher.tagger = tagger
            combined = (
                {(h.start, h.end) for h in enricher.extract_aspects(doc, words, valences)} if words else set()
            )
            for key, pred in (("tagger", tagged), ("with_taxonomy", combined)):
                c = counts[key]
                c[0] += len(pred & gold)
                c[1] += len(pred - gold)
                c[2] += len(gold - pred)
            terms = [(s, e, p) for s, e, _t, p in sent.terms if p in LABELS]
            if terms and words:
                spans = []
                for s, e, _p in terms:
                    span = doc.char_span(s, e, alignment_mode="expand")
                    spans.append((span.start, span.end) if span is not None else (0, 1))
                _sentiment, proba = enricher.post_sentiment(sent.text, words, valences)
                scored = enricher.aspect_polarities(words, valences, spans, proba)
                for (_s, _e, gold_pol), res in zip(terms, scored, strict=True):
                    pol_n += 1
                    pol_ok += res.polarity == gold_pol
    finally:
        enricher.tagger = saved
    result = _prf(*counts["tagger"])
    result["polarity_accuracy"] = _f(pol_ok / pol_n if pol_n else 0.0)
    result["with_taxonomy"] = _prf(*counts["with_taxonomy"])
    result["n_sentences"] = len(sentences)
    result["n_terms"] = sum(len(s.terms) for s in sentences)
    return path.stem + ("_cv" if cv else ""), result


def _line(name: str, metrics: dict) -> str:
    parts = [
        f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in metrics.items()
        if not isinstance(v, dict) and k not in ("n", "n_sentences", "n_terms")
    ]
    extra = metrics.get("with_taxonomy")
    if isinstance(extra, dict):
        parts.append(f"f1_with_taxonomy={extra['f1']:.4f}")
    return f"eval: {name} " + " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pulse-eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sentiment", type=Path, action="append", default=None, metavar="FILE")
    ap.add_argument("--target", type=Path, action="append", default=None, metavar="FILE")
    ap.add_argument("--aspects", type=Path, action="append", default=None, metavar="FILE.xml")
    ap.add_argument("--out", type=Path, default=Path("bench/results/eval.json"))
    ap.add_argument("--model-dir", type=Path, default=None, help="models dir (default: the packaged models)")
    ap.add_argument(
        "--tracking", type=Path, default=None, help="tracking config (default: config/tracking.yaml)"
    )
    ap.add_argument(
        "--cv",
        choices=("auto", "always", "never"),
        default="auto",
        help="cross-validate target/aspect files: auto = files named *train*",
    )
    args = ap.parse_args(argv)
    from pulse_common.tracking import load_tracking_config

    d = datasets_dir()
    if args.sentiment is None and args.target is None and args.aspects is None:
        args.sentiment = [d / "sentiment" / "tweeteval_val.tsv"]
        args.target = [d / "target" / "dong2014_train.tsv"]
        args.aspects = [d / "aspects" / "semeval14_laptops_train.xml"]
    enricher = Enricher(load_tracking_config(args.tracking), model_dir=args.model_dir)

    def use_cv(path: Path) -> bool:
        return args.cv == "always" or (args.cv == "auto" and "train" in path.stem)

    results: dict[str, dict] = {}
    jobs = [(eval_sentiment, p, None) for p in args.sentiment or []]
    jobs += [(eval_target, p, use_cv(p)) for p in args.target or []]
    jobs += [(eval_aspects, p, use_cv(p)) for p in args.aspects or []]
    for fn, path, cv in jobs:
        if not path.exists():
            print(f"eval: {path.stem} error=missing_file path={path}", file=sys.stderr)
            return 2
        t = time.time()
        name, metrics = fn(enricher, path) if cv is None else fn(enricher, path, cv)
        metrics["seconds"] = round(time.time() - t, 1)
        metrics["file"] = str(path)
        results[name] = metrics
        print(_line(name, {k: v for k, v in metrics.items() if k not in ("seconds", "file")}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"enrichment_version": enricher.version, "results": results}
    args.out.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
