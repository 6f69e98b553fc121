"""The Kinesis speedups must return exactly what moto's own scan returns."""

from __future__ import annotations

import uuid

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


def _moto_caller(service: str = "kinesis", target_prefix: str = "Kinesis_20131202", json_version="1.1"):
    """call(operation, body) -> the parsed JSON answer of moto's server app (in-process)."""
    import json

    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.test import Client

    client = Client(DomainDispatcherApplication(create_backend_app))
    headers = {
        "Content-Type": f"application/x-amz-json-{json_version}",
        "Host": f"{service}.us-east-1.amazonaws.com",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=x",
    }

    def call(target: str, body: dict, *, status: int | None = 200) -> dict | tuple[int, dict]:
        """The answer (which must have `status`), or with status=None: (status, answer)."""
        target_header = {"X-Amz-Target": f"{target_prefix}.{target}"}
        response = client.post("/", data=json.dumps(body), headers={**headers, **target_header})
        if status is None:
            return response.status_code, json.loads(response.get_data())
        assert response.status_code == status, response.get_data()[:300]
        return json.loads(response.get_data())

    return call


def test_the_direct_kinesis_responses_equal_what_moto_serializes(monkeypatch):
    import base64
    import uuid

    from moto.kinesis.responses import KinesisResponse

    # Restore moto's own handlers after the test, whatever it installs.
    monkeypatch.setattr(KinesisResponse, "get_records", KinesisResponse.get_records)
    monkeypatch.setattr(KinesisResponse, "put_records", KinesisResponse.put_records)
    call = _moto_caller()
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


def _scan_pages(scan_table, **kwargs) -> list[list[dict]]:
    pages, start = [], None
    while True:
        items, _count, last = scan_table(exclusive_start_key=start, **kwargs)
        pages.append([item.to_json()["Attributes"] for item in items])
        if last is None:
            return pages
        start = last


def test_paged_scans_return_the_pages_moto_returns_and_follow_puts_and_deletes(monkeypatch):
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    for name in ("scan", "all_items", "put_item", "delete_item"):
        monkeypatch.setattr(Table, name, getattr(Table, name))
    table = Table("speedup", account_id="123456789012", region="us-east-1",
                  schema=[{"AttributeName": "id", "KeyType": "HASH"}],
                  attr=[{"AttributeName": "id", "AttributeType": "S"}])
    for n in range(120):
        table.put_item({"id": {"S": f"x:{n:05d}"}, "n": {"N": str(n)}, "doc": {"S": "d" * (n % 7)}})

    above_50 = {"n": ("GT", [DynamoType({"N": "50"})])}
    moto_pages = _scan_pages(table.scan, filters={}, limit=17)
    moto_filtered = _scan_pages(table.scan, filters=above_50, limit=10)
    aws_emulator.install_moto_dynamodb_scan_speedup()
    assert _scan_pages(table.scan, filters={}, limit=17) == moto_pages
    assert _scan_pages(table.scan, filters=above_50, limit=10) == moto_filtered
    assert len(moto_pages) == 8 and sum(map(len, moto_pages)) == 120
    assert "_pulse_sorted_keys" in table.__dict__  # the pages came from the kept key order

    # Keys added and removed between pages are seen by the next pages, as moto would see them.
    first_page, _count, start = table.scan({}, 30, None)
    table.delete_item(DynamoType({"S": "x:00040"}), None)
    table.put_item({"id": {"S": "x:00035a"}, "n": {"N": "-1"}, "doc": {"S": ""}})
    table.put_item({"id": {"S": "x:00000a"}, "n": {"N": "-2"}, "doc": {"S": ""}})  # before the start key
    rest, start_key = [], start
    while start_key is not None:
        items, _count, start_key = table.scan({}, 30, start_key)
        rest += [item.attrs["id"].value for item in items]
    ids = [item.attrs["id"].value for item in first_page] + rest
    assert "x:00040" not in ids and "x:00035a" in ids and "x:00000a" not in ids
    assert ids == sorted(ids) and len(ids) == len(set(ids)) == 120


def test_responses_without_a_request_id_tag_skip_the_regex_and_keep_their_headers(monkeypatch):
    from moto.core.responses import BaseResponse

    monkeypatch.setattr(BaseResponse, "_enrich_response", BaseResponse._enrich_response)
    xml = "<R><RequestId>old</RequestId></R>"
    json_body = '{"Records": [{"Data": "cG9zdA==", "PartitionKey": "x:1"}]}'
    moto_json = BaseResponse._enrich_response({"status": 200}, json_body)
    aws_emulator.install_moto_response_id_speedup()
    headers, body = BaseResponse._enrich_response({"status": 200}, json_body)
    assert body == moto_json[1] == json_body
    assert headers["status"] == "200" and len(headers["x-amzn-requestid"]) == 52
    headers, body = BaseResponse._enrich_response({}, xml)
    assert body == f"<R><RequestId>{headers['x-amzn-requestid']}</RequestId></R>"


def test_moto_objects_are_created_without_being_kept_forever(monkeypatch):
    from moto.core.common_models import BaseModel
    from moto.kinesis.models import Record

    monkeypatch.setattr(BaseModel, "__new__", BaseModel.__dict__["__new__"])
    Record("key", "ZGF0YQ==", 1, None)
    tracked = len(Record.instances_tracked)
    assert tracked >= 1  # moto's own __new__ keeps every object
    aws_emulator.install_moto_instance_tracking_off()
    record = Record("key", "ZGF0YQ==", 2, None)
    assert len(Record.instances_tracked) == tracked
    assert (record.partition_key, record.sequence_number) == ("key", 2)


def test_stream_iterators_expire_after_15_minutes_and_go_with_their_table(monkeypatch):
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    for cls, name in ((DynamoDBStreamsBackend, "get_shard_iterator"), (DynamoDBStreamsBackend, "get_records"),
                      (DynamoDBBackend, "delete_table")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    now = [1000.0]
    aws_emulator.install_moto_dynamodb_stream_iterator_expiry(clock=lambda: now[0])
    dynamodb = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    streams = _moto_caller("streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    table = f"expiry-{uuid.uuid4().hex[:8]}"
    arn = dynamodb("CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    })["TableDescription"]["LatestStreamArn"]
    dynamodb("PutItem", {"TableName": table, "Item": {"id": {"S": "x:1"}}})
    shard = streams("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]

    def iterator() -> str:
        return streams("GetShardIterator", {"StreamArn": arn, "ShardId": shard,
                                            "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]

    first = iterator()
    page = streams("GetRecords", {"ShardIterator": first})
    assert [r["dynamodb"]["Keys"]["id"]["S"] for r in page["Records"]] == ["x:1"]
    now[0] += 14 * 60  # at 14 minutes the first iterator still reads the same record
    assert len(streams("GetRecords", {"ShardIterator": first})["Records"]) == 1
    now[0] += 61  # 15 minutes and 1 second after both were issued
    for old in (first, page["NextShardIterator"]):
        expired = streams("GetRecords", {"ShardIterator": old}, status=400)
        assert expired["__type"].endswith("ExpiredIteratorException")

    fresh = iterator()
    assert len(streams("GetRecords", {"ShardIterator": fresh})["Records"]) == 1
    dynamodb("DeleteTable", {"TableName": table})
    gone = streams("GetRecords", {"ShardIterator": fresh}, status=400)
    assert gone["__type"].endswith("ExpiredIteratorException")


def _dynamodb_session(call) -> list[tuple[int, dict]]:
    """Every item operation the services and the KCL use, on a fresh table; (status, answer) each."""
    table = "json-speedup"
    call("CreateTable", {
        "TableName": table, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
    })
    item = {"id": {"S": "x:1"}, "version": {"N": "3"}, "tags": {"SS": ["a", "b"]}, "deleted": {"BOOL": False},
            "doc": {"S": '{"text": "say \\"B\\": é"}'},
            "nested": {"M": {"l": {"L": [{"N": "1.5"}, {"NULL": True}]}}}}
    requests = [
        ("BatchWriteItem", {"RequestItems": {table: [
            {"PutRequest": {"Item": {**item, "id": {"S": f"x:{n}"}}}} for n in range(1, 8)]}}),
        ("BatchGetItem", {"RequestItems": {table: {
            "Keys": [{"id": {"S": f"x:{n}"}} for n in (1, 2, 99)], "ProjectionExpression": "id, #v, #d",
            "ExpressionAttributeNames": {"#v": "version", "#d": "deleted"}, "ConsistentRead": True}}}),
        ("PutItem", {"TableName": table, "Item": {**item, "version": {"N": "4"}}, "ReturnValues": "ALL_OLD",
                     "ConditionExpression": "attribute_not_exists(id) OR version < :v",
                     "ExpressionAttributeValues": {":v": {"N": "4"}}}),
        ("PutItem", {"TableName": table, "Item": item, "ConditionExpression": "version < :v",
                     "ExpressionAttributeValues": {":v": {"N": "3"}}}),  # refused: a 400
        ("UpdateItem", {"TableName": table, "Key": {"id": {"S": "x:2"}}, "ReturnValues": "ALL_NEW",
                        "UpdateExpression": "SET version = version + :one", "ExpressionAttributeValues":
                        {":one": {"N": "1"}}}),
        ("GetItem", {"TableName": table, "Key": {"id": {"S": "x:2"}}, "ConsistentRead": True}),
        ("DeleteItem", {"TableName": table, "Key": {"id": {"S": "x:3"}}, "ReturnValues": "ALL_OLD"}),
        ("Scan", {"TableName": table, "Limit": 3}),
        ("Scan", {"TableName": table, "ExclusiveStartKey": {"id": {"S": "x:4"}}, "Select": "COUNT"}),
        ("Query", {"TableName": table, "KeyConditionExpression": "id = :id",
                   "ExpressionAttributeValues": {":id": {"S": "x:5"}}}),
        ("PutItem", {"TableName": table, "Item": {"id": {"S": "x:bin"}, "blob": {"B": "AAEC/w=="}}}),
        ("GetItem", {"TableName": table, "Key": {"id": {"S": "x:bin"}}}),  # bytes: moto's serializer
    ]
    answers = [call(target, body, status=None) for target, body in requests]
    call("DeleteTable", {"TableName": table})
    return answers


def test_direct_dynamodb_json_equals_what_moto_parses_and_serializes(monkeypatch):
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    for name in ("parse_parameters", "serialized"):
        monkeypatch.setattr(DynamoHandler, name, getattr(DynamoHandler, name))
    monkeypatch.setattr(responses, "method_names_from_class", responses.method_names_from_class)
    call = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    moto_answers = _dynamodb_session(call)
    aws_emulator.install_moto_dynamodb_json_speedups()
    aws_emulator.install_moto_action_lookup_speedup()
    fast_answers = _dynamodb_session(call)

    assert fast_answers == moto_answers
    statuses = [status for status, _ in fast_answers]
    assert statuses == [200, 200, 200, 400, 200, 200, 200, 200, 200, 200, 200, 200]
    assert fast_answers[-1][1]["Item"]["blob"] == {"B": "AAEC/w=="}
    assert fast_answers[2][1]["Attributes"]["doc"] == {"S": '{"text": "say \\"B\\": é"}'}


def test_backend_lookups_still_create_register_and_then_reuse_the_account_backend(monkeypatch):
    from moto.core.base_backend import BackendDict
    from moto.sqs.models import SQSBackend

    monkeypatch.setattr(BackendDict, "_create_account_specific_backend",
                        BackendDict._create_account_specific_backend)
    aws_emulator.install_moto_backend_lookup_speedup()
    backends = BackendDict(SQSBackend, "sqs")
    first = backends["111122223333"]["us-east-1"]
    assert backends["111122223333"]["us-east-1"] is first
    assert backends["444455556666"]["us-east-1"] is not first
    assert any(registered is backends for registered in BackendDict._instances)
    BackendDict._instances[:] = [kept for kept in BackendDict._instances if kept is not backends]


def test_a_kinesis_split_keeps_the_parents_records_writes_to_open_shards_and_ends_the_parent(monkeypatch):
    """AWS Kinesis resharding: the closed parent keeps its records, writes after the split go to the
    open children only, and GetRecords at the parent's end answers a null NextShardIterator with
    the ChildShards (what KCL 2.3+ requires to move on to the children)."""
    import base64

    from moto.kinesis import models as km
    from moto.kinesis.responses import KinesisResponse

    for cls, name in ((km.Shard, "put_record"), (km.Stream, "split_shard"), (km.Stream, "merge_shards"),
                      (km.Stream, "get_shard_for_key"), (km.KinesisBackend, "get_records"),
                      (KinesisResponse, "get_records"), (KinesisResponse, "put_records"),
                      (km.Shard, "get_records"), (km.Shard, "get_max_sequence_number"),
                      (km.Shard, "get_min_sequence_number")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    aws_emulator.install_moto_kinesis_speedups()
    aws_emulator.install_moto_kinesis_resharding()
    aws_emulator.install_moto_kinesis_response_speedups()
    call = _moto_caller()
    stream = f"reshard-{uuid.uuid4().hex[:8]}"
    call("CreateStream", {"StreamName": stream, "ShardCount": 1})

    def put(n: int, tag: str) -> list[dict]:
        records = [{"Data": base64.b64encode(f"{tag}{i}".encode()).decode(), "PartitionKey": f"k{i}"}
                   for i in range(n)]
        return call("PutRecords", {"StreamName": stream, "Records": records})["Records"]

    def read(shard: str) -> tuple[list[str], dict]:
        iterator = call("GetShardIterator", {"StreamName": stream, "ShardId": shard,
                                             "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        found = []
        while True:
            page = call("GetRecords", {"ShardIterator": iterator, "Limit": 7})
            found += [base64.b64decode(r["Data"]).decode() for r in page["Records"]]
            if not page.get("NextShardIterator"):
                return found, page
            iterator = page["NextShardIterator"]

    before = put(20, "before-")
    call("UpdateShardCount", {"StreamName": stream, "TargetShardCount": 2, "ScalingType": "UNIFORM_SCALING"})
    after = put(40, "after-")
    shards = {s["ShardId"]: s for s in call("ListShards", {"StreamName": stream})["Shards"]}
    parent = "shardId-000000000000"
    children = sorted(k for k, s in shards.items() if s.get("ParentShardId") == parent)
    assert len(children) == 2
    assert {r["ShardId"] for r in after} == set(children)  # no write lands in the closed parent
    assert shards[parent]["SequenceNumberRange"]["EndingSequenceNumber"] == before[-1]["SequenceNumber"]

    parent_records, last_page = read(parent)
    assert parent_records == [f"before-{i}" for i in range(20)]  # the parent kept its records
    assert sorted(c["ShardId"] for c in last_page["ChildShards"]) == children
    assert all(c["ParentShards"] == [parent] for c in last_page["ChildShards"])
    in_children = [r for child in children for r in read_child(call, stream, child)]
    assert sorted(in_children) == sorted(f"after-{i}" for i in range(40))
    # per key, sequence numbers keep growing across the split
    assert min(int(r["SequenceNumber"]) for r in after) > int(before[-1]["SequenceNumber"])


def read_child(call, stream: str, shard: str) -> list[str]:
    import base64

    iterator = call("GetShardIterator", {"StreamName": stream, "ShardId": shard,
                                         "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
    page = call("GetRecords", {"ShardIterator": iterator, "Limit": 100})
    assert page["NextShardIterator"] and "ChildShards" not in page  # an open shard goes on
    return [base64.b64decode(r["Data"]).decode() for r in page["Records"]]


def _patch_stream_shards(monkeypatch) -> None:
    """Restore moto's DynamoDB Streams classes after the test, then install the emulator's shards."""
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodbstreams import models as sm
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for cls, name in ((StreamShard, "__init__"), (StreamShard, "to_json"), (StreamShard, "add"),
                      (Table, "set_stream_specification"), (sm.ShardIterator, "get"),
                      (sm.DynamoDBStreamsBackend, "get_shard_iterator"),
                      (sm.DynamoDBStreamsBackend, "describe_stream"),
                      (DynamoDBStreamsHandler, "describe_stream")):
        monkeypatch.setattr(cls, name, getattr(cls, name))
    aws_emulator.install_moto_dynamodb_stream_shards()


def _stream_table(dynamodb, name: str, tags: list[dict] | None = None) -> str:
    return dynamodb("CreateTable", {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **({"Tags": tags} if tags else {}),
    })["TableDescription"]["LatestStreamArn"]


def test_a_recreated_table_streams_into_new_shard_ids_so_old_checkpoints_never_match(monkeypatch):
    """AWS: shard ids are unique (shardId-<creation ms>-<hex>); KCL leases are keyed by shard id,
    so a lease table left from an earlier table of the same name must not match the new stream."""
    _patch_stream_shards(monkeypatch)
    dynamodb = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    streams = _moto_caller("streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    name = f"again-{uuid.uuid4().hex[:8]}"
    first = streams("DescribeStream", {"StreamArn": _stream_table(dynamodb, name)})["StreamDescription"]
    dynamodb("DeleteTable", {"TableName": name})
    second = streams("DescribeStream", {"StreamArn": _stream_table(dynamodb, name)})["StreamDescription"]
    ids = [first["Shards"][0]["ShardId"], second["Shards"][0]["ShardId"]]
    assert ids[0] != ids[1]
    import re

    assert all(re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard_id) for shard_id in ids)
    missing = streams("GetShardIterator", {"StreamArn": second["StreamArn"], "ShardId": ids[0],
                                           "ShardIteratorType": "TRIM_HORIZON"}, status=400)
    assert missing["__type"].endswith("ResourceNotFoundException")


def test_stream_shards_close_into_children_that_describe_stream_pages_and_filters(monkeypatch):
    """AWS DynamoDB Streams: a closed shard has an EndingSequenceNumber and GetRecords at its end
    answers no NextShardIterator; its child names it as ParentShardId; DescribeStream pages with
    Limit / ExclusiveStartShardId / LastEvaluatedShardId and ShardFilter CHILD_SHARDS returns only
    the children of a shard (what the DynamoDB Streams Kinesis Adapter asks when a shard ends)."""
    _patch_stream_shards(monkeypatch)
    dynamodb = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    streams = _moto_caller("streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    arn = _stream_table(dynamodb, f"rolls-{uuid.uuid4().hex[:8]}",
                        [{"Key": aws_emulator.STREAM_SHARD_RECORDS_TAG, "Value": "4"}])
    table = arn.split("/")[1]
    for i in range(10):
        dynamodb("PutItem", {"TableName": table, "Item": {"id": {"S": f"x:{i}"}}})
    shards = streams("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"]
    assert len(shards) == 3
    assert [s.get("ParentShardId") for s in shards] == [None, shards[0]["ShardId"], shards[1]["ShardId"]]
    assert "EndingSequenceNumber" in shards[0]["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shards[2]["SequenceNumberRange"]

    page = streams("DescribeStream", {"StreamArn": arn, "Limit": 2})["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == [s["ShardId"] for s in shards[:2]]
    assert page["LastEvaluatedShardId"] == shards[1]["ShardId"]
    rest = streams("DescribeStream", {"StreamArn": arn, "Limit": 2,
                                      "ExclusiveStartShardId": page["LastEvaluatedShardId"]})
    rest = rest["StreamDescription"]
    assert [s["ShardId"] for s in rest["Shards"]] == [shards[2]["ShardId"]]
    assert "LastEvaluatedShardId" not in rest
    children = streams("DescribeStream", {"StreamArn": arn, "ShardFilter": {
        "Type": "CHILD_SHARDS", "ShardId": shards[0]["ShardId"]}})["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in children] == [shards[1]["ShardId"]]

    read: list[str] = []
    for shard in shards:
        iterator = streams("GetShardIterator", {"StreamArn": arn, "ShardId": shard["ShardId"],
                                                "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while iterator:
            page = streams("GetRecords", {"ShardIterator": iterator, "Limit": 3})
            read += [r["dynamodb"]["Keys"]["id"]["S"] for r in page["Records"]]
            iterator = page.get("NextShardIterator")
            if shard is shards[-1] and not page["Records"]:
                break  # the open shard: always a next iterator
    assert read == [f"x:{i}" for i in range(10)]
    numbers = [int(s["SequenceNumberRange"]["StartingSequenceNumber"]) for s in shards]
    assert numbers == sorted(numbers)
    assert numbers[1] == int(shards[0]["SequenceNumberRange"]["EndingSequenceNumber"]) + 1


def test_the_emulator_refuses_a_moto_other_than_the_one_its_patches_were_written_for(monkeypatch):
    from importlib import metadata

    assert aws_emulator.check_moto_version() == metadata.version("moto")
    monkeypatch.setattr(metadata, "version", lambda name: "99.0.0" if name == "moto" else "0")
    with pytest.raises(aws_emulator.MotoVersionError, match=r"moto==5\.2\.5.*99\.0\.0"):
        aws_emulator.check_moto_version()


def test_a_speed_up_can_be_left_out_by_name_and_an_unknown_name_is_refused():
    with pytest.raises(ValueError, match="no such emulator speed-up"):
        aws_emulator.install_patches(["no_such_patch"])


def test_stream_records_carry_binary_attributes_as_base64_text_as_dynamodb_streams_sends_them(monkeypatch):
    import base64

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    monkeypatch.setattr(DynamoDBStreamsHandler, "get_records", DynamoDBStreamsHandler.get_records)
    aws_emulator.install_moto_dynamodb_streams_speedup()
    dynamodb = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    streams = _moto_caller("streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    arn = _stream_table(dynamodb, f"binary-{uuid.uuid4().hex[:8]}")
    blob = bytes(range(256))
    dynamodb("PutItem", {"TableName": arn.split("/")[1],
                         "Item": {"id": {"S": "x:1"}, "doc": {"B": base64.b64encode(blob).decode()}}})
    shard = streams("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams("GetShardIterator", {"StreamArn": arn, "ShardId": shard,
                                            "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
    records = streams("GetRecords", {"ShardIterator": iterator})["Records"]
    assert base64.b64decode(records[0]["dynamodb"]["NewImage"]["doc"]["B"]) == blob


def test_an_update_that_creates_its_item_streams_one_insert_with_the_whole_item(monkeypatch):
    """AWS streams one INSERT (the whole new item) for an UpdateItem that creates it; moto also
    streamed the bare key first, which the indexer would dead-letter as an item without a doc."""
    from moto.dynamodb.models import DynamoDBBackend

    _patch_stream_shards(monkeypatch)
    monkeypatch.setattr(DynamoDBBackend, "update_item", DynamoDBBackend.update_item)
    aws_emulator.install_moto_dynamodb_update_item_one_stream_record()
    dynamodb = _moto_caller("dynamodb", "DynamoDB_20120810", "1.0")
    streams = _moto_caller("streams.dynamodb", "DynamoDBStreams_20120810", "1.0")
    name = f"update-{uuid.uuid4().hex[:8]}"
    arn = _stream_table(dynamodb, name)
    bump = {"TableName": name, "Key": {"id": {"S": "user:"}}, "UpdateExpression": "SET #d = :t ADD #v :one",
            "ExpressionAttributeNames": {"#d": "deleted", "#v": "version"},
            "ExpressionAttributeValues": {":t": {"BOOL": True}, ":one": {"N": "1"}}}
    dynamodb("UpdateItem", bump)  # creates the item
    dynamodb("UpdateItem", bump)  # updates it
    refused = dynamodb("UpdateItem", {**bump, "Key": {"id": {"S": "user:x"}},
                                      "ConditionExpression": "attribute_exists(#v)"}, status=400)
    assert refused["__type"].endswith("ConditionalCheckFailedException")
    shard = streams("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams("GetShardIterator", {"StreamArn": arn, "ShardId": shard,
                                            "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
    records = streams("GetRecords", {"ShardIterator": iterator})["Records"]
    assert [(r["eventName"], r["dynamodb"]["NewImage"]) for r in records] == [
        ("INSERT", {"id": {"S": "user:"}, "deleted": {"BOOL": True}, "version": {"N": "1"}}),
        ("MODIFY", {"id": {"S": "user:"}, "deleted": {"BOOL": True}, "version": {"N": "2"}}),
    ]
    assert [int(r["dynamodb"]["SequenceNumber"]) for r in records] == sorted(
        int(r["dynamodb"]["SequenceNumber"]) for r in records)
    assert dynamodb("GetItem", {"TableName": name, "Key": {"id": {"S": "user:x"}}}) == {}
