"""Dollars per million posts from measured request units and CPU (used by bench_cost.py).

A pure model, so its arithmetic is unit-tested (tests/unit/bench/test_cost_model.py):

- Kinesis, provisioned: the shards the rate needs (1 MB/s and 1,000 records/s of writes per shard,
  at least one) for the hours a million posts take, plus PUT payload units; on-demand is given too;
- DynamoDB on-demand: write and read request units of the posts table and of the KCL's lease,
  coordinator and worker-metrics tables; DynamoDB Streams: one read request unit per GetRecords;
- SQS: requests;
- Fargate: each service's tasks at the Terraform task size, enough of them that the measured CPU at
  the rate stays under the autoscaling CPU target (at least one task), for the hours a million
  posts take;
- OpenSearch is billed by instance-hour, not by request: its bulk bytes are reported, not priced.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

PRICES = Path(__file__).resolve().parent / "prices_us_east_1.json"
MIB = 1024 * 1024
GB = 1024**3


def load_prices(path: Path = PRICES) -> dict:
    return json.loads(path.read_text())


@dataclass(frozen=True)
class TaskSize:
    vcpu: float
    memory_gb: float


# deploy/terraform/modules/stack/variables.tf: task_sizes and the autoscaling CPU target.
TASK_SIZES = {
    "producer": TaskSize(0.25, 0.5),
    "enricher": TaskSize(1.0, 2.0),
    "indexer": TaskSize(0.5, 1.0),
}
CPU_TARGET = 0.60


@dataclass
class PerPost:
    """Request units per post (what the services sent, over the posts each service handled)."""

    kinesis_put_units: float = 0.0
    kinesis_put_bytes: float = 0.0
    kinesis_records: float = 1.0
    posts_write_units: float = 0.0
    posts_read_units: float = 0.0
    kcl_write_units: float = 0.0
    kcl_read_units: float = 0.0
    streams_reads: float = 0.0
    sqs_requests: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # service -> Pulse CPU ms per post


def tasks_needed(rate: float, cpu_ms: float, size: TaskSize, target: float = CPU_TARGET) -> int:
    return max(1, math.ceil(rate * cpu_ms / 1000 / (size.vcpu * target)))


def usd_per_million(per: PerPost, rate: float, prices: dict, *, kinesis_mode: str = "provisioned") -> dict:
    """Dollars per million posts at a steady `rate` posts/s, by line item, and `total`."""
    million = 1_000_000
    hours = million / rate / 3600
    lines: dict[str, float] = {}
    if kinesis_mode == "provisioned":
        shards = max(
            1, math.ceil(rate * per.kinesis_put_bytes / MIB), math.ceil(rate * per.kinesis_records / 1000)
        )
        lines["kinesis_shard_hours"] = shards * hours * prices["kinesis_provisioned_shard_hour"]
        lines["kinesis_put_units"] = (
            per.kinesis_put_units * prices["kinesis_provisioned_put_payload_unit_per_million"]
        )
    else:  # on-demand bills each record rounded up to 1 KB, in and out
        gb = (
            per.kinesis_records * max(1, math.ceil(per.kinesis_put_bytes / per.kinesis_records / 1024)) * 1024
        )
        gb = gb * million / GB
        lines["kinesis_stream_hours"] = hours * prices["kinesis_on_demand_stream_hour"]
        lines["kinesis_ingest"] = gb * prices["kinesis_on_demand_ingest_per_gb"]
        lines["kinesis_retrieval"] = gb * prices["kinesis_on_demand_retrieval_per_gb"]
    wru = prices["dynamodb_on_demand_write_request_unit_per_million"]
    rru = prices["dynamodb_on_demand_read_request_unit_per_million"]
    lines["dynamodb_posts_writes"] = per.posts_write_units * wru
    lines["dynamodb_posts_reads"] = per.posts_read_units * rru
    lines["dynamodb_kcl_tables"] = per.kcl_write_units * wru + per.kcl_read_units * rru
    lines["dynamodb_streams_reads"] = (
        per.streams_reads * prices["dynamodb_streams_read_request_unit_per_million"]
    )
    lines["sqs"] = per.sqs_requests * prices["sqs_standard_request_per_million"]
    for service, cpu_ms in per.cpu_ms.items():
        size = TASK_SIZES[service]
        tasks = tasks_needed(rate, cpu_ms, size)
        hourly = tasks * (
            size.vcpu * prices["fargate_vcpu_hour"] + size.memory_gb * prices["fargate_gb_hour"]
        )
        lines[f"fargate_{service}"] = hourly * hours
    lines["total"] = sum(lines.values())
    return lines


def posts_per_vcpu_second(cpu_ms: float) -> float:
    return 1000 / cpu_ms if cpu_ms > 0 else math.inf
