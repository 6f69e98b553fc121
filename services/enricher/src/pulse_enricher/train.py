"""`pulse-train`: retrain every enrichment model from ../shared/datasets, reproducibly.

Writes into the packaged models directory (or --out):
  word_clusters.json.gz   distributional word classes (unlabelled text of all training files)
  word_vectors.npz.gz     word vectors (PPMI + SVD of the same texts), for the target model
  word_classes.json.gz    k-means classes of those vectors at 4 granularities, for the aspect tagger
  aspect_gazetteer.json.gz aspect terms of the training sentences, for the aspect tagger
  post_sentiment.npz.gz   post-level sentiment (SemEval-2017 train + VADER tweets)
  target_sentiment.npz.gz target-level sentiment (Dong 2014 train)
  aspect_tagger.npz.gz    aspect-term CRF tagger (SemEval-2014 laptops + restaurants train)
  aspect_sentiment.npz.gz aspect-term polarity (SemEval-2014 laptops + restaurants train)
  pretrained_word_vectors.npz.gz  the committed pretrained word vectors it reads (pretrained/)
  MANIFEST.json           inputs (sha256), hyper-parameters, sizes
No development file (tweeteval_val) is ever used for training. Fixed seeds: the same
data gives byte-identical artifacts, hence the same `Enricher.version`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

from .nlp import training
from .nlp.artifacts import DEFAULT_MODEL_DIR, artifact_files, version_string, write_json_gz
from .nlp.aspect_model import ASPECT_MODEL
from .nlp.datasets import datasets_dir, read_rating_tsv, read_semeval_xml, read_sentiment_tsv, read_target_tsv
from .nlp.gazetteer import ASPECT_GAZETTEER
from .nlp.post_model import POST_MODEL, PostSentimentModel
from .nlp.tagger import ASPECT_TAGGER
from .nlp.target_model import TARGET_MODEL
from .nlp.word_clusters import WORD_CLASSES, WORD_CLUSTERS
from .nlp.word_vectors import PRETRAINED_WORD_VECTORS, WORD_VECTORS, WordVectors

STEPS = ("clusters", "vectors", "post", "target", "aspects", "aspect_polarity")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def _log(msg: str) -> None:
    print(f"train: {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pulse-train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--datasets",
        type=Path,
        default=None,
        help="datasets dir (default: $PULSE_DATASETS_DIR or <repo>/../shared/datasets)",
    )
    ap.add_argument(
        "--out", type=Path, default=DEFAULT_MODEL_DIR, help="models dir (default: the packaged one)"
    )
    ap.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS))
    args = ap.parse_args(argv)
    d = args.datasets or datasets_dir()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "domain_lexicon.json").exists() and (DEFAULT_MODEL_DIR / "domain_lexicon.json").exists():
        (out / "domain_lexicon.json").write_bytes((DEFAULT_MODEL_DIR / "domain_lexicon.json").read_bytes())
    files = {
        "semeval2017": d / "sentiment" / "semeval2017_train.tsv",
        "vader": d / "sentiment" / "vader_tweets.tsv",
        "dong": d / "target" / "dong2014_train.tsv",
        "laptops": d / "aspects" / "semeval14_laptops_train.xml",
        "restaurants": d / "aspects" / "semeval14_restaurants_train.xml",
    }
    for name, path in files.items():
        if not path.exists():
            ap.error(f"missing {name} data: {path}")
    analyzer = training.TextAnalyzer(out)
    manifest_path = out / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["inputs"] = {name: {"file": p.name, "sha256": _sha(p)} for name, p in files.items()}
    manifest.setdefault("models", {})
    sem_x, sem_y = read_sentiment_tsv(files["semeval2017"])
    vad_x, vad_y = read_rating_tsv(files["vader"])
    dong = read_target_tsv(files["dong"])
    laptops = read_semeval_xml(files["laptops"])
    restaurants = read_semeval_xml(files["restaurants"])
    aspect_sets = {"semeval14_laptops_train": laptops, "semeval14_restaurants_train": restaurants}

    if "clusters" in args.only:
        t = time.time()
        texts = [s.text for s in laptops] + [s.text for s in restaurants]
        texts += sem_x + vad_x + [e.text for e in dong]
        clusters = training.build_word_clusters(texts)
        write_json_gz(out / WORD_CLUSTERS, clusters)
        manifest["models"]["word_clusters"] = {"words": len(clusters), "clusters": 256, "texts": len(texts)}
        _log(f"word clusters: {len(clusters)} words in {time.time() - t:.0f}s")

    if "vectors" in args.only:
        t = time.time()
        texts = [s.text for s in laptops] + [s.text for s in restaurants]
        texts += sem_x + vad_x + [e.text for e in dong]
        vocab, emb = training.word_embeddings(texts)
        WordVectors.from_floats(vocab, emb[:, : training.VECTOR_DIMS]).save(out / WORD_VECTORS)
        classes = training.build_word_classes(vocab, emb)
        write_json_gz(
            out / WORD_CLASSES, {"granularities": list(training.CLASS_GRANULARITIES), "classes": classes}
        )
        manifest["models"]["word_vectors"] = {
            "words": len(vocab),
            "dims": int(emb.shape[1]),
            "dims_shipped": training.VECTOR_DIMS,
            "class_granularities": list(training.CLASS_GRANULARITIES),
            "texts": len(texts),
        }
        _log(f"word vectors and classes: {len(vocab)} words in {time.time() - t:.0f}s")

    if "post" in args.only:
        t = time.time()
        clusters = training.load_clusters(out)
        model = training.fit_post(analyzer, sem_x + vad_x, sem_y + vad_y, clusters=clusters)
        model.save(out / POST_MODEL)
        manifest["models"]["post_sentiment"] = {
            **model.meta,
            "data": ["semeval2017_train", "vader_tweets(|r|>=0.5)"],
        }
        _log(f"post sentiment: {len(sem_x) + len(vad_x)} texts in {time.time() - t:.0f}s")

    if "target" in args.only:
        t = time.time()
        post = PostSentimentModel.load(out, training.load_clusters(out))
        rows = training.target_rows(analyzer, post, dong, WordVectors.load(out))
        model = training.fit_target(rows, [e.label for e in dong])
        model.save(out / TARGET_MODEL)
        manifest["models"]["target_sentiment"] = {**model.meta, "data": ["dong2014_train"]}
        _log(f"target sentiment: {len(dong)} targets in {time.time() - t:.0f}s")

    if "aspects" in args.only:
        t = time.time()
        items = [it for sents in aspect_sets.values() for it in training.tagger_items(analyzer, sents) if it]
        sequences, gazetteer = training.tagger_sequences(
            items, training.load_clusters(out), training.load_classes(out)
        )
        write_json_gz(out / ASPECT_GAZETTEER, gazetteer.to_json())  # type: ignore[union-attr]
        model = training.fit_tagger(sequences)
        model.save(out / ASPECT_TAGGER)
        meta = {k: v for k, v in model.meta.items() if k != "transitions"}
        manifest["models"]["aspect_tagger"] = {**meta, "data": sorted(aspect_sets)}
        _log(f"aspect tagger (CRF): {len(sequences)} sentences in {time.time() - t:.0f}s")

    if "aspect_polarity" in args.only:
        t = time.time()
        post = PostSentimentModel.load(out, training.load_clusters(out))
        (out / PRETRAINED_WORD_VECTORS).write_bytes(training.PRETRAINED_VECTORS.read_bytes())
        vectors = WordVectors.load(out, PRETRAINED_WORD_VECTORS)
        rows = [
            r for sents in aspect_sets.values() for r in training.aspect_rows(analyzer, post, sents, vectors)
        ]
        labels = [r[2] for r in rows]
        model = training.fit_aspect_polarity([r[1] for r in rows], labels, vectors=PRETRAINED_WORD_VECTORS)
        model.save(out / ASPECT_MODEL)
        manifest["models"]["aspect_sentiment"] = {**model.meta, "data": sorted(aspect_sets)}
        _log(f"aspect polarity: {len(rows)} terms in {time.time() - t:.0f}s")

    manifest["artifacts"] = {
        p.name: p.stat().st_size for p in artifact_files(out) if p.name != "MANIFEST.json"
    }
    manifest["total_bytes"] = sum(manifest["artifacts"].values())
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"train: wrote {out} ({manifest['total_bytes'] / 1e6:.1f} MB) version {version_string(out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
