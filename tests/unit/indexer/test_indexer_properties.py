"""The KCL properties the indexer's launcher reads, generated from IndexerSettings."""

from pulse_indexer.properties import kcl_properties, render_properties
from pulse_indexer.settings import IndexerSettings

ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/posts/stream/2026-11-27T10:00:00.000"


def test_the_stream_is_the_tables_stream_arn_and_the_application_names_the_lease_tables():
    settings = IndexerSettings(stack={"table_name": "posts", "aws_region": "eu-west-1"}, worker_id="w-1")
    props = kcl_properties(settings, ARN)
    assert props["streamName"] == ARN
    assert props["applicationName"] == "posts-indexer"
    assert props["regionName"] == "eu-west-1" and props["workerId"] == "w-1"
    assert props["executableName"].endswith("-m pulse_indexer processor")
    assert int(props["maxRecords"]) <= 1000  # DynamoDB Streams' GetRecords limit


def test_on_aws_no_endpoint_is_overridden_and_the_kcl_keeps_its_own_intervals():
    props = kcl_properties(IndexerSettings(stack={"aws_endpoint_url": None}), ARN)
    assert not {"dynamoDBEndpoint", "dynamoDBStreamsEndpoint", "kinesisEndpoint"} & set(props)
    assert props["failoverTimeMillis"] == "10000" and props["shardSyncIntervalMillis"] == "60000"
    assert props["metricsLevel"] == "SUMMARY"


def test_locally_every_client_points_at_the_emulator_and_metrics_stay_off():
    settings = IndexerSettings(stack={"aws_endpoint_url": "http://127.0.0.1:4566"}, application_name="app-2")
    props = kcl_properties(settings, ARN)
    assert props["dynamoDBEndpoint"] == props["dynamoDBStreamsEndpoint"] == "http://127.0.0.1:4566"
    assert props["metricsLevel"] == "NONE" and props["applicationName"] == "app-2"
    text = render_properties(settings, ARN)
    assert f"streamName = {ARN}\n" in text and text.startswith("# Generated")


def test_the_kcl_application_and_its_lease_tables_default_to_one_per_posts_table(monkeypatch):
    monkeypatch.setenv("PULSE_TABLE_NAME", "posts-a")
    monkeypatch.delenv("PULSE_INDEXER_APPLICATION_NAME", raising=False)
    assert IndexerSettings().app_name == "posts-a-indexer"
    monkeypatch.setenv("PULSE_INDEXER_APPLICATION_NAME", "indexer-2")
    assert IndexerSettings().app_name == "indexer-2"
