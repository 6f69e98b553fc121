"""pulse-train and pulse-eval end to end on tiny fixture files (seconds, not minutes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "nlp" / "datasets"
EVAL_LINE = re.compile(r"^eval: \S+( [a-z_0-9]+=\d+\.\d{4})+$")


@pytest.fixture(scope="module")
def trained_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pulse_enricher.train import main

    out = tmp_path_factory.mktemp("models")
    assert main(["--datasets", str(DATA), "--out", str(out)]) == 0
    return out


def test_train_writes_every_artifact_and_a_manifest(trained_dir: Path):
    names = {p.name for p in trained_dir.iterdir()}
    assert {
        "post_sentiment.npz.gz",
        "target_sentiment.npz.gz",
        "aspect_tagger.npz.gz",
        "word_clusters.json.gz",
        "domain_lexicon.json",
        "MANIFEST.json",
    } <= names
    manifest = json.loads((trained_dir / "MANIFEST.json").read_text())
    assert manifest["inputs"]["semeval2017"]["file"] == "semeval2017_train.tsv"


def test_training_twice_gives_the_same_version(trained_dir: Path, tmp_path: Path):
    from pulse_enricher.nlp.artifacts import version_string
    from pulse_enricher.train import main

    assert main(["--datasets", str(DATA), "--out", str(tmp_path)]) == 0
    assert version_string(tmp_path) == version_string(trained_dir)


def test_an_enricher_runs_on_freshly_trained_models(trained_dir: Path, tracking, make_post):
    from pulse_enricher.nlp import Enricher

    out = Enricher(tracking, model_dir=trained_dir).enrich(make_post("I love the Nova 12 camera"))
    assert out.sentiment.label in {"negative", "neutral", "positive"}


def test_an_enricher_without_any_trained_model_falls_back_to_lexicon_rules(
    tracking, make_post, tmp_path: Path
):
    from pulse_enricher.nlp import Enricher

    out = Enricher(tracking, model_dir=tmp_path).enrich(make_post("The Nova 12 camera is awful"))
    assert out.sentiment.label == "negative"
    assert out.aspects[0].polarity == "negative"


def test_eval_prints_one_line_per_dataset_and_writes_json(trained_dir: Path, tmp_path: Path, capsys):
    from pulse_enricher.eval import main

    out = tmp_path / "eval.json"
    rc = main(
        [
            "--sentiment",
            str(DATA / "sentiment" / "tweeteval_val.tsv"),
            "--target",
            str(DATA / "target" / "dong2014_train.tsv"),
            "--aspects",
            str(DATA / "aspects" / "semeval14_laptops_train.xml"),
            "--model-dir",
            str(trained_dir),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("eval: ")]
    assert [line.split()[1] for line in lines] == [
        "tweeteval_val",
        "dong2014_train_cv",
        "semeval14_laptops_train_cv",
    ]
    assert all(EVAL_LINE.match(line) for line in lines)
    assert "macro_recall=" in lines[0] and "accuracy=" in lines[0] and "macro_f1=" in lines[0]
    assert "polarity_accuracy=" in lines[2] and " f1=" in lines[2]
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"tweeteval_val", "dong2014_train_cv", "semeval14_laptops_train_cv"}


def test_the_packaged_artifacts_stay_small():
    from pulse_enricher.nlp.artifacts import DEFAULT_MODEL_DIR, artifact_files

    total = sum(p.stat().st_size for p in artifact_files(DEFAULT_MODEL_DIR))
    assert 0 < total < 50 * 1024 * 1024
