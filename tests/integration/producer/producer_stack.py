"""Helpers for the producer's integration tests: the CLI's environment, its summary, the stream."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PRODUCER = str(Path(sys.executable).with_name("pulse-producer"))


def producer_env(stack, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PULSE_AWS_ENDPOINT_URL": stack.aws_endpoint_url,
        "PULSE_STREAM_NAME": stack.stream_name,
        "PULSE_DLQ_NAME": stack.dlq_name,
        "PULSE_PRODUCER_METRICS_PORT": "0",
    }
    env.update(extra)
    return env


def summary_of(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


def stream_ids(stack) -> list[str]:
    """Every envelope id on the stream, duplicates included, read from TRIM_HORIZON."""
    from pulse_common.aws import client

    kinesis = client("kinesis", stack)
    ids: list[str] = []
    shards = kinesis.list_shards(StreamName=stack.stream_name)["Shards"]
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamName=stack.stream_name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
            ids.extend(json.loads(r["Data"])["id"] for r in page["Records"])
            if not page["Records"]:
                break
            iterator = page.get("NextShardIterator")
    return ids


def run_producer(args: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([PRODUCER, *args], env=env, capture_output=True, text=True, timeout=timeout)
