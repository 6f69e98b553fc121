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


def test_a_new_dynamodb_item_keeps_its_attributes_and_moto_size_limit():
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type as dt

    original = dt.Item.__init__
    try:
        aws_emulator.install_moto_dynamodb_item_speedup()
        attrs = {"id": {"S": "x:1"}, "version": {"N": "7"}, "doc": {"S": "é" * 1000},
                 "deleted": {"BOOL": True}}
        item = dt.Item(dt.DynamoType(attrs["id"]), None, attrs)
        assert item.to_json()["Attributes"] == attrs
        assert isinstance(item.attrs, dt.LimitedSizeDict)
        with pytest.raises(ItemSizeTooLarge):
            dt.Item(dt.DynamoType(attrs["id"]), None, {**attrs, "doc": {"S": "x" * 405_000}})
        # Updates after creation still go through moto's own checked __setitem__.
        with pytest.raises(ItemSizeTooLarge):
            item.attrs["more"] = dt.DynamoType({"S": "y" * 405_000})
    finally:
        dt.Item.__init__ = original


def _kinesis_caller():
    import json

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    client = Client(DomainDispatcherApplication(create_backend_app))
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "Host": "kinesis.us-east-1.amazonaws.com",
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/kinesis/aws4_request, "
        "SignedHeaders=host, Signature=x",
    }

    def call(target: str, body: dict) -> dict:
        target_header = {"X-Amz-Target": f"Kinesis_20131202.{target}"}
        response = client.post("/", data=json.dumps(body), headers={**headers, **target_header})
        assert response.status_code == 200, response.get_data()[:300]
        return json.loads(response.get_data())

    return call


def test_the_direct_kinesis_responses_equal_what_moto_serializes(monkeypatch):
    import base64
    import uuid

    from moto.kinesis.responses import KinesisResponse

    # Restore moto's own handlers after the test, whatever it installs.
    monkeypatch.setattr(KinesisResponse, "get_records", KinesisResponse.get_records)
    monkeypatch.setattr(KinesisResponse, "put_records", KinesisResponse.put_records)
    call = _kinesis_caller()
    stream = f"speedup-{uuid.uuid4().hex[:8]}"
    call("CreateStream", {"StreamName": stream, "ShardCount": 2})
    records = [{"Data": base64.b64encode(f"post {i} ü".encode()).decode(), "PartitionKey": f"x:{i}"}
               for i in range(30)]

    def read_all() -> list[dict]:
        found = []
        for shard in ("shardId-000000000000", "shardId-000000000001"):
            iterator = call("GetShardIterator", {"StreamName": stream, "ShardId": shard,
                                                 "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
            page = call("GetRecords", {"ShardIterator": iterator, "Limit": 100})
            assert set(page) == {"NextShardIterator", "Records", "MillisBehindLatest"}
            found += page["Records"]
        return found

    moto_put = call("PutRecords", {"StreamName": stream, "Records": records})
    moto_read = read_all()
    aws_emulator.install_moto_kinesis_response_speedups()
    fast_put = call("PutRecords", {"StreamName": stream, "Records": records})
    fast_read = read_all()

    assert fast_put["FailedRecordCount"] == moto_put["FailedRecordCount"] == 0
    assert [r["ShardId"] for r in fast_put["Records"]] == [r["ShardId"] for r in moto_put["Records"]]
    assert all(isinstance(r["SequenceNumber"], str) for r in fast_put["Records"])
    # The fast read returns the first 30 records exactly as moto did, and the 30 put since.
    by_seq = {(r["PartitionKey"], r["SequenceNumber"]): r for r in fast_read}
    for record in moto_read:
        assert by_seq[(record["PartitionKey"], record["SequenceNumber"])] == record
    assert len(fast_read) == 2 * len(moto_read) == 60
    assert {base64.b64decode(r["Data"]).decode() for r in fast_read} == {f"post {i} ü" for i in range(30)}


def test_request_routing_lists_moto_modules_once(monkeypatch):
    from moto import backends

    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    expected = list(backends.list_of_moto_modules())
    aws_emulator.install_moto_request_routing_speedup()
    assert list(backends.list_of_moto_modules()) == expected
    assert "kinesis" in expected and "dynamodb" in expected
