"""Small versions of two reliability scenarios (the full suite is `make reliability`): the real
producer, enricher (KCL daemon) and indexer on the local stack, each run on its own resources;
the stores are compared with the expected state computed from the input (see
pulse_devstack.reliability for the exact definitions of lost and sink duplicates)."""

from __future__ import annotations

import os

import pytest

from pulse_devstack import reliability

pytestmark = pytest.mark.integration


def _options(tmp_path, posts: int) -> reliability.Options:
    return reliability.Options(posts=posts, rate=300, base_env=dict(os.environ), log_root=tmp_path)


def test_a_killed_enricher_restarts_without_losing_or_duplicating_a_post(local_stack, tmp_path):
    result = reliability.s1_enricher_kill(_options(tmp_path, 400))
    assert (result.lost, result.sink_duplicates) == (0, 0), result.notes
    assert result.recovered_s >= 0, result.notes


def test_out_of_order_versions_and_deletes_end_with_the_newest_version_in_both_stores(local_stack, tmp_path):
    result = reliability.s7_out_of_order(_options(tmp_path, 240))
    assert (result.lost, result.sink_duplicates) == (0, 0), result.notes
    assert result.posts == 80
