"""pulse-train and pulse-eval end to end on tiny fixture files (seconds, not minutes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "nlp" / "datasets"
EVAL_LINE = re.compile(r"^eval: \S+( [a-z_0-9]+=(\d+\.\d{4}|\d+))+ scoring=(cv5|packaged)( train=\S+)?$")
SENTIMENT = DATA / "sentiment" / "tweeteval_val.tsv"
TARGET = DATA / "target" / "dong2014_train.tsv"
LAPTOPS = DATA / "aspects" / "semeval14_laptops_train.xml"
RESTAURANTS = DATA / "aspects" / "semeval14_restaurants_train.xml"


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
        "aspect_sentiment.npz.gz",
        "word_clusters.json.gz",
        "word_classes.json.gz",
        "word_vectors.npz.gz",
        "aspect_gazetteer.json.gz",
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


def _eval_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("eval: ") and "=" in line.split()[2]]


def test_eval_prints_one_line_per_figure_says_how_each_was_scored_and_writes_json(
    trained_dir: Path, tmp_path: Path, capsys
):
    from pulse_enricher.eval import main

    out = tmp_path / "eval.json"
    rc = main(
        [
            *["--sentiment", str(SENTIMENT), "--target", str(TARGET), "--aspects", str(LAPTOPS)],
            *["--model-dir", str(trained_dir), "--out", str(out)],
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    lines = _eval_lines(printed)
    assert [line.split()[1] for line in lines] == [
        "tweeteval_val",
        "dong2014_train_cv",
        "semeval14_laptops_train_cv",
    ]
    assert all(EVAL_LINE.match(line) for line in lines), lines
    assert lines[0].endswith("scoring=packaged") and "macro_recall=" in lines[0] and "macro_f1=" in lines[0]
    assert "scoring=cv5" in lines[1] and "scoring=cv5" in lines[2]
    assert "polarity_accuracy=" in lines[2] and " f1=" in lines[2]
    assert (
        "eval: cross-validated (5 folds, models retrained per fold): "
        "dong2014_train_cv, semeval14_laptops_train_cv" in printed
    )
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"tweeteval_val", "dong2014_train_cv", "semeval14_laptops_train_cv"}
    assert results["dong2014_train_cv"]["scoring"] == "cv5"


def test_eval_with_two_aspect_files_adds_in_domain_and_cross_domain_lines(trained_dir: Path, capsys):
    from pulse_enricher.eval import main

    rc = main(["--aspects", str(LAPTOPS), "--aspects", str(RESTAURANTS), "--model-dir", str(trained_dir)])
    assert rc == 0
    trained_on = [
        (line.split()[1], line.rsplit("train=", 1)[1]) for line in _eval_lines(capsys.readouterr().out)
    ]
    both = "semeval14_laptops_train+semeval14_restaurants_train"
    assert sorted(trained_on) == sorted(
        [
            ("semeval14_laptops_train_cv", both),
            ("semeval14_restaurants_train_cv", both),
            ("semeval14_laptops_train_cv", "semeval14_laptops_train"),
            ("semeval14_restaurants_train_cv", "semeval14_laptops_train"),
            ("semeval14_laptops_train_cv", "semeval14_restaurants_train"),
            ("semeval14_restaurants_train_cv", "semeval14_restaurants_train"),
        ]
    )


def test_eval_writes_no_file_unless_out_is_given(trained_dir: Path, tmp_path: Path, monkeypatch):
    from pulse_enricher.eval import main

    monkeypatch.chdir(tmp_path)
    assert main(["--sentiment", str(SENTIMENT), "--model-dir", str(trained_dir)]) == 0
    assert list(tmp_path.iterdir()) == []


def test_eval_scores_every_text_through_enrich(trained_dir: Path, monkeypatch, capsys):
    from pulse_enricher.eval import main
    from pulse_enricher.nlp import enricher as enricher_module

    seen: list[str] = []
    real = enricher_module.Enricher.enrich

    def spy(self, post, *args, **kwargs):
        seen.append(post.text)
        return real(self, post, *args, **kwargs)

    monkeypatch.setattr(enricher_module.Enricher, "enrich", spy)
    assert main(["--sentiment", str(SENTIMENT), "--model-dir", str(trained_dir)]) == 0
    texts = [line.split("\t", 1)[1] for line in SENTIMENT.read_text().splitlines() if line]
    assert seen == texts


def test_a_sentiment_file_given_as_a_target_file_is_an_error_not_a_score(
    trained_dir: Path, tmp_path: Path, capsys
):
    from pulse_enricher.eval import main

    out = tmp_path / "eval.json"
    rc = main(
        [
            "--sentiment",
            str(SENTIMENT),
            "--target",
            str(SENTIMENT),
            "--model-dir",
            str(trained_dir),
            "--out",
            str(out),
        ]
    )
    captured = capsys.readouterr()
    assert rc == 2
    assert "looks like a sentiment file" in captured.err
    assert _eval_lines(captured.out) == []  # the valid sentiment file was not scored either
    assert not out.exists()


def test_a_target_file_given_as_sentiment_and_a_rating_file_are_refused(trained_dir: Path, capsys):
    from pulse_enricher.eval import main

    assert main(["--sentiment", str(TARGET), "--model-dir", str(trained_dir)]) == 2
    assert "looks like a target file" in capsys.readouterr().err
    assert (
        main(["--sentiment", str(DATA / "sentiment" / "vader_tweets.tsv"), "--model-dir", str(trained_dir)])
        == 2
    )
    assert "looks like a rating file" in capsys.readouterr().err
    assert main(["--aspects", str(SENTIMENT), "--model-dir", str(trained_dir)]) == 2
    assert "not XML" in capsys.readouterr().err


def test_a_missing_file_fails_before_anything_is_scored(trained_dir: Path, tmp_path: Path, capsys):
    from pulse_enricher.eval import main

    missing = tmp_path / "nope.tsv"
    rc = main(["--sentiment", str(SENTIMENT), "--target", str(missing), "--model-dir", str(trained_dir)])
    captured = capsys.readouterr()
    assert rc == 2
    assert f"{missing}: no such file" in captured.err
    assert _eval_lines(captured.out) == []


def test_the_packaged_artifacts_stay_small():
    from pulse_enricher.nlp.artifacts import DEFAULT_MODEL_DIR, artifact_files

    total = sum(p.stat().st_size for p in artifact_files(DEFAULT_MODEL_DIR))
    assert 0 < total < 50 * 1024 * 1024
