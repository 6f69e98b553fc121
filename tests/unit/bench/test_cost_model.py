import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

from cost_model import TASK_SIZES, PerPost, load_prices, tasks_needed, usd_per_million

PRICES = {
    "kinesis_provisioned_shard_hour": 0.015,
    "kinesis_provisioned_put_payload_unit_per_million": 0.014,
    "kinesis_on_demand_stream_hour": 0.04,
    "kinesis_on_demand_ingest_per_gb": 0.08,
    "kinesis_on_demand_retrieval_per_gb": 0.04,
    "dynamodb_on_demand_write_request_unit_per_million": 0.625,
    "dynamodb_on_demand_read_request_unit_per_million": 0.125,
    "dynamodb_streams_read_request_unit_per_million": 0.2,
    "sqs_standard_request_per_million": 0.4,
    "fargate_vcpu_hour": 0.04,
    "fargate_gb_hour": 0.004,
}


def test_the_repository_price_table_is_dated_and_has_every_price_the_model_uses():
    prices = load_prices()
    assert prices["as_of"] and prices["region"] == "us-east-1"
    assert set(PRICES) <= set(prices)


def test_request_units_are_priced_per_million_posts():
    per = PerPost(
        kinesis_put_units=1,
        kinesis_put_bytes=1500,
        kinesis_records=1,
        posts_write_units=3,
        posts_read_units=1,
        streams_reads=0.01,
    )
    lines = usd_per_million(per, 500, PRICES)
    assert lines["dynamodb_posts_writes"] == pytest.approx(3 * 0.625)
    assert lines["dynamodb_posts_reads"] == pytest.approx(0.125)
    assert lines["kinesis_put_units"] == pytest.approx(0.014)
    # a million posts at 500/s take 2,000 s on one shard
    assert lines["kinesis_shard_hours"] == pytest.approx(2000 / 3600 * 0.015)
    assert lines["total"] == pytest.approx(sum(v for k, v in lines.items() if k != "total"))


def test_a_service_gets_as_many_tasks_as_keep_its_cpu_under_the_target():
    size = TASK_SIZES["enricher"]
    assert tasks_needed(500, 1.0, size, target=0.6) == 1
    assert tasks_needed(2000, 1.0, size, target=0.6) == 4
    assert tasks_needed(0.1, 0.0, size) == 1


def test_fargate_is_billed_for_whole_tasks_for_the_hours_a_million_posts_take():
    per = PerPost(cpu_ms={"producer": 0.1})
    lines = usd_per_million(per, 1000, PRICES)
    size = TASK_SIZES["producer"]
    assert lines["fargate_producer"] == pytest.approx(
        1000 / 3600 * (size.vcpu * 0.04 + size.memory_gb * 0.004)
    )
