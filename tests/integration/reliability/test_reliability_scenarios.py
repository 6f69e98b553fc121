"""Small versions of the out-of-order reliability scenario (the full suite is `make reliability`): the real
producer, enricher (KCL daemon) and indexer on the local stack, each run on its own resources;
the stores are compared with the expected state computed from the input (see
bench/scenarios for the exact definitions of lost and sink duplicates)."""

from __future__ import annotations

import os

import pytest
import scenarios as reliability

pytestmark = pytest.mark.integration


def _options(tmp_path, posts: int, **more) -> reliability.Options:
    return reliability.Options(posts=posts, rate=300, base_env=dict(os.environ), log_root=tmp_path, **more)


def test_shuffled_versions_end_with_the_newest_version_in_both_stores(local_stack, tmp_path):
    result = reliability.s7_out_of_order(_options(tmp_path, 240, older_after_delete=False))
    assert (result.lost, result.sink_duplicates) == (0, 0), result.notes
    assert result.posts == 80


def test_an_upsert_older_than_an_applied_delete_never_resurrects_the_post(local_stack, tmp_path):
    result = reliability.s7_out_of_order(_options(tmp_path, 240, older_after_delete=True,
                                                   converge_timeout_s=40))
    assert (result.lost, result.sink_duplicates) == (0, 0), result.notes
