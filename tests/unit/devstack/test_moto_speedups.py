"""The Kinesis speedups must return exactly what moto's own scan returns."""

from __future__ import annotations

import pytest
from moto.kinesis import models as km

from pulse_devstack import aws_emulator


@pytest.fixture
def shard_with_records():
    original = (km.Shard.get_records, km.Shard.get_max_sequence_number, km.Shard.get_min_sequence_number)
    shard = km.Shard(0, 0, 2**128)
    for n in range(25):
        shard.put_record(f"key-{n}", f"data-{n}", None)
    yield shard, original[0]
    km.Shard.get_records, km.Shard.get_max_sequence_number, km.Shard.get_min_sequence_number = original


@pytest.mark.parametrize(
    ("after", "limit"), [("0", None), ("0", 10), ("5", 7), ("20", 100), ("25", 10), ("99", 5)]
)
def test_fast_get_records_returns_what_moto_returns(shard_with_records, after, limit):
    shard, moto_get_records = shard_with_records
    expected = moto_get_records(shard, after, limit)
    aws_emulator.install_moto_kinesis_speedups()
    records, last, _behind = shard.get_records(after, limit)
    assert [r.sequence_number for r in records] == [r.sequence_number for r in expected[0]]
    assert last == expected[1]


def test_the_last_sequence_number_is_found_without_listing_the_shard(shard_with_records):
    shard, _ = shard_with_records
    aws_emulator.install_moto_kinesis_speedups()
    assert shard.get_max_sequence_number() == 25
    assert shard.get_min_sequence_number() == 1
