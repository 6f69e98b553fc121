"""The walking skeleton: producer → Kinesis → KCL daemon + enricher → DynamoDB → indexer → OpenSearch,
every component real and started the way an operator starts it."""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from pulse_common.aws import client
from pulse_devstack.pipeline import Pipeline, dead_letter_count, search_count, table_count
from pulse_devstack.procs import free_port

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SAMPLE = next((REPO / "data" / "sample").glob("posts.jsonl*"))
POSTS = 400


def _first_sample_lines(path: Path, count: int, out: Path) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as src, open(out, "w", encoding="utf-8") as dst:
        for _, line in zip(range(count), src, strict=False):
            dst.write(line)
    return out


def _sample_ids(path: Path) -> set[str]:
    ids = set()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            ids.add("x:" + json.loads(line)["data"]["id"])
    return ids


def _table_ids(stack) -> list[str]:
    dynamodb = client("dynamodb", stack)
    ids, kwargs = [], {"TableName": stack.table_name, "ProjectionExpression": "id"}
    while True:
        page = dynamodb.scan(**kwargs)
        ids += [item["id"]["S"] for item in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return ids
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_every_replayed_post_arrives_in_opensearch_exactly_once_and_enriched(isolated_stack, tmp_path):
    replay = _first_sample_lines(SAMPLE, POSTS, tmp_path / "posts.jsonl")
    expected_ids = _sample_ids(replay)
    assert len(expected_ids) == POSTS

    pipeline = Pipeline(stack_env=dict(os.environ), log_dir=tmp_path / "logs")
    try:
        pipeline.start_indexer(PULSE_INDEXER_METRICS_PORT=str(free_port()))
        pipeline.start_enricher(PULSE_ENRICHER_METRICS_PORT=str(free_port()))
        summary = pipeline.run_producer("replay", str(replay))
        assert summary["put"] == POSTS and summary["failed"] == 0

        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            pipeline.check_alive()
            if table_count(isolated_stack) >= POSTS and search_count(isolated_stack) >= POSTS:
                break
            time.sleep(1)
    finally:
        pipeline.stop()

    table_ids = _table_ids(isolated_stack)
    assert sorted(table_ids) == sorted(expected_ids)

    search = OpenSearch(isolated_stack.opensearch_url)
    search.indices.refresh(index=isolated_stack.opensearch_index_alias)
    docs = list(scan(search, index=isolated_stack.opensearch_index_alias, query={"query": {"match_all": {}}}))
    indexed_ids = [doc["_id"] for doc in docs]
    assert len(indexed_ids) == len(set(indexed_ids)), "a post was indexed twice"
    assert set(indexed_ids) == expected_ids
    for doc in docs:
        source = doc["_source"]
        assert source["sentiment"]["label"] in {"negative", "neutral", "positive"}
        assert source["enrichment_version"]
    assert dead_letter_count(isolated_stack) == 0
