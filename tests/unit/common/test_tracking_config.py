from pathlib import Path

import pytest

from pulse_common.tracking import TrackingConfigError, load_tracking_config


def test_the_bundled_tracking_config_loads_with_products_competitors_and_aspects():
    config = load_tracking_config()
    assert [b.id for b in config.products] == ["nova"]
    assert {b.id for b in config.competitors} == {"orbit", "lumen"}
    assert any(a.id == "battery" for a in config.aspects)
    assert "#nova12" in config.keywords()


def test_a_missing_tracking_file_gives_a_clear_error(tmp_path: Path):
    with pytest.raises(TrackingConfigError, match="not found"):
        load_tracking_config(tmp_path / "nope.yaml")


def test_a_bad_field_is_named_in_the_error(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("products:\n  - id: Bad Id!\n    name: X\n")
    with pytest.raises(TrackingConfigError, match=r"products\.0\.id"):
        load_tracking_config(bad)


def test_duplicate_brand_ids_are_rejected(tmp_path: Path):
    bad = tmp_path / "dup.yaml"
    bad.write_text("products:\n  - {id: a, name: A}\ncompetitors:\n  - {id: a, name: B}\n")
    with pytest.raises(TrackingConfigError, match="unique"):
        load_tracking_config(bad)
