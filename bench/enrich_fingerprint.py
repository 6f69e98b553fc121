"""A digest of what `Enricher.enrich` returns, to show that a change to the enrichment core's
speed leaves every output as it was.

Runs the enricher over the bundled sample (data/sample), bench_enrich's synthetic posts and the
development datasets' texts (/work/shared/datasets or $PULSE_DATASETS_DIR: sentiment, target and
aspect files; each text as a post), with fixed timestamps and a duplicate tracker, and prints one
SHA-256 per source and one over everything. `--out FILE` also writes each post's digest, one a
line, so two runs can be diffed to the first post that differs.

    python bench/enrich_fingerprint.py [--out digests.txt] [--limit N]

Compare the output of two code versions (e.g. main's tree on PYTHONPATH, then yours): equal
digests mean byte-identical EnrichedPost JSON for every post.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import os
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pulse_common.schema import Author, Post
from pulse_common.tracking import load_tracking_config

REPO = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("PULSE_DATASETS_DIR", "/work/shared/datasets"))
FIXED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def sample_posts() -> Iterator[Post]:
    from pulse_producer.events import Upsert
    from pulse_producer.parsers import parse_line

    for path in sorted((REPO / "data" / "sample").glob("posts.jsonl*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            for line in fh:
                for event in parse_line(line):
                    if isinstance(event, Upsert):
                        yield event.post


def synthetic_posts() -> Iterator[Post]:
    sys.path.insert(0, str(REPO / "bench"))
    from bench_enrich import N_POSTS, make_posts

    yield from make_posts(N_POSTS)


def _tsv_texts(path: Path, column: int) -> Iterator[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(row) > column:
                yield row[column]


def _xml_texts(path: Path) -> Iterator[str]:
    for sentence in ET.parse(path).getroot().iter("sentence"):
        text = sentence.findtext("text")
        if text:
            yield text


def dataset_sources() -> list[tuple[str, Iterator[str]]]:
    return [
        ("tweeteval_val", _tsv_texts(DATASETS / "sentiment" / "tweeteval_val.tsv", 1)),
        ("vader_tweets", _tsv_texts(DATASETS / "sentiment" / "vader_tweets.tsv", 1)),
        ("semeval2017_train", _tsv_texts(DATASETS / "sentiment" / "semeval2017_train.tsv", 1)),
        ("dong2014_train", _tsv_texts(DATASETS / "target" / "dong2014_train.tsv", 3)),
        ("semeval14_laptops", _xml_texts(DATASETS / "aspects" / "semeval14_laptops_train.xml")),
        ("semeval14_restaurants", _xml_texts(DATASETS / "aspects" / "semeval14_restaurants_train.xml")),
    ]


def text_posts(name: str, texts: Iterator[str]) -> Iterator[Post]:
    author = Author(id="a1", username="someone", followers=120, following=80, posts_count=900,
                    created_at=datetime(2020, 1, 1, tzinfo=UTC))
    for i, text in enumerate(texts):
        yield Post(id=f"{name}:{i}", network="synthetic", native_id=str(i), created_at=FIXED,
                   text=text, author=author, version=1 + i, lang="en" if i % 5 else None)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, help="write each post's digest here, one a line")
    parser.add_argument("--limit", type=int, default=0, help="at most N posts per source (0: all)")
    args = parser.parse_args()

    from pulse_enricher.nlp import DuplicateTracker, Enricher

    enricher = Enricher(load_tracking_config())
    sources: list[tuple[str, Iterator[Post]]] = [("sample", sample_posts()), ("synthetic", synthetic_posts())]
    sources += [(name, text_posts(name, texts)) for name, texts in dataset_sources()]
    total = hashlib.sha256()
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    try:
        for name, posts in sources:
            digest = hashlib.sha256()
            tracker = DuplicateTracker()
            n = 0
            for post in posts:
                if args.limit and n >= args.limit:
                    break
                enriched = enricher.enrich(post, FIXED, enriched_at=FIXED, duplicates=tracker)
                data = enriched.model_dump_json().encode()
                digest.update(data)
                digest.update(b"\n")
                if out is not None:
                    out.write(f"{post.id}\t{hashlib.sha256(data).hexdigest()[:16]}\n")
                n += 1
            total.update(digest.digest())
            print(f"{name}: {n} posts {digest.hexdigest()[:16]}", flush=True)
    finally:
        if out is not None:
            out.close()
    print(f"all: {total.hexdigest()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
