"""`pulse_common.aws.client`'s `as_built` requests: the same HTTP request botocore's own serializer
builds (method, URL, target and content type, and a body that is the same JSON), without the model walk."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.parsers import JSONParser

from pulse_common.aws import client
from pulse_common.settings import StackSettings

STACK = StackSettings(aws_endpoint_url="http://127.0.0.1:9", aws_region="us-east-1")


class Sent(Exception):
    """Raised by the before-send hook: the request was built, nothing goes on the wire."""

    def __init__(self, request) -> None:
        super().__init__("captured")
        self.request = request


def captured(aws_client, operation: str, **params):
    def capture(request, **_kwargs):
        raise Sent(request)

    aws_client.meta.events.register("before-send", capture)
    with pytest.raises(Sent) as sent:
        getattr(aws_client, operation)(**params)
    request = sent.value.request
    return {
        "method": request.method,
        "url": request.url,
        "target": request.headers.get("X-Amz-Target"),
        "content_type": request.headers.get("Content-Type"),
        "body": json.loads(request.body),
    }


def post_item(n: int) -> dict:
    return {
        "id": {"S": f"x:{n}"},
        "version": {"N": str(1_700_000_000_000 + n)},
        "created_at": {"S": "2026-11-01T10:00:00Z"},
        "doc": {"B": bytes([1, 0, 255, n % 256]) * 40},
        "author_id": {"S": "x:ünïcode"},
        "hide_dropped": {"M": {"on": {"BOOL": True}, "v": {"N": "12"}}},
        "deleted": {"BOOL": False},
    }


CASES = [
    ("dynamodb", "batch_write_item", "BatchWriteItem",
     {"RequestItems": {"posts": [{"PutRequest": {"Item": post_item(n)}} for n in range(25)]}}),
    ("dynamodb", "batch_get_item", "BatchGetItem",
     {"RequestItems": {"posts": {
         "Keys": [{"id": {"S": f"x:{n}"}} for n in range(100)], "ProjectionExpression": "id, #v",
         "ExpressionAttributeNames": {"#v": "version"}, "ConsistentRead": True}}}),
    ("dynamodb", "put_item", "PutItem",
     {"TableName": "posts", "Item": post_item(7),
      "ConditionExpression": "attribute_not_exists(id) OR #v < :v",
      "ExpressionAttributeNames": {"#v": "version"}, "ExpressionAttributeValues": {":v": {"N": "9"}},
      "ReturnValues": "ALL_OLD"}),
    ("kinesis", "put_records", "PutRecords",
     {"StreamName": "posts",
      "Records": [{"Data": f'{{"id": "x:{n}", "t": "é"}}'.encode(), "PartitionKey": f"x:{n}"}
                  for n in range(500)]}),
]


@pytest.mark.parametrize(("service", "method", "operation", "params"), CASES, ids=[c[2] for c in CASES])
def test_an_as_built_request_is_the_request_botocore_builds(service, method, operation, params) -> None:
    plain = client(service, STACK, parameter_validation=False)
    fast = client(service, STACK, parameter_validation=False, as_built=(operation,))

    assert captured(fast, method, **params) == captured(plain, method, **params)


def test_operations_not_named_are_serialized_by_botocore_as_before() -> None:
    fast = client("dynamodb", STACK, parameter_validation=False, as_built=("BatchWriteItem",))
    plain = client("dynamodb", STACK, parameter_validation=False)
    params = {"TableName": "posts", "Key": {"id": {"S": "x:1"}}, "ConsistentRead": True}

    assert captured(fast, "get_item", **params) == captured(plain, "get_item", **params)


def test_as_built_refuses_a_client_that_validates_its_parameters() -> None:
    with pytest.raises(ValueError, match="parameter validation"):
        client("dynamodb", STACK, as_built=("BatchWriteItem",))


def test_as_built_refuses_a_service_that_does_not_speak_json() -> None:
    with pytest.raises(ValueError, match="JSON-protocol"):
        client("s3", STACK, parameter_validation=False, as_built=("PutObject",))


# -- as_parsed: responses read without botocore's walk of the output shape, compared with botocore's

def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def stored_item(n: int) -> dict:
    return {
        "id": {"S": f"x:{n}"},
        "version": {"N": str(1_700_000_000_000 + n)},
        "doc": {"B": b64(bytes([1, 0, 255, n % 256]) * 40)},
        "author_id": {"S": "x:ünïcode"},
        "hide_dropped": {"M": {"on": {"BOOL": True}, "v": {"N": "12"}}},
        "deleted": {"BOOL": False},
        "tags": {"SS": ["a", "b"]}, "counts": {"NS": ["1", "2.5"]}, "blobs": {"BS": [b64(b"\x00\x01"), ""]},
        "list": {"L": [{"S": "x"}, {"NULL": True}, {"M": {"b": {"B": b64(b"\xff")}}}]},
    }


RESPONSES = [
    ("dynamodb", "batch_write_item", {"RequestItems": {"posts": []}}, [
        {"UnprocessedItems": {}},
        {},
        {"UnprocessedItems": {"posts": [{"PutRequest": {"Item": stored_item(n)}} for n in range(3)]
                              + [{"DeleteRequest": {"Key": {"id": {"S": "x:9"}}}}]}},
        {"UnprocessedItems": {}, "ConsumedCapacity": [{"TableName": "posts", "CapacityUnits": 25.0}]},
        {"UnprocessedItems": {}, "ItemCollectionMetrics": {"posts": [
            {"ItemCollectionKey": {"id": {"S": "x:1"}}, "SizeEstimateRangeGB": [0.5, 1.0]}]}},
    ]),
    ("dynamodb", "batch_get_item", {"RequestItems": {"posts": {"Keys": []}}}, [
        {"Responses": {"posts": [stored_item(n) for n in range(60)]}, "UnprocessedKeys": {}},
        {"Responses": {"posts": []}, "UnprocessedKeys": {"posts": {
            "Keys": [{"id": {"S": "x:1"}}], "ProjectionExpression": "id, #v", "ConsistentRead": True,
            "ExpressionAttributeNames": {"#v": "version"}}}},
        {"Responses": {"posts": [{"id": {"S": "x:1"}, "odd": {"NEWTYPE": "?"}}]}},
        {"Responses": {"posts": [{"id": {"S": "x:1"}, "gone": None}]}},
        {"Responses": None},
        {"Responses": {}, "ConsumedCapacity": [{"TableName": "posts", "CapacityUnits": 1.5}]},
    ]),
    ("dynamodb", "put_item", {"TableName": "posts", "Item": {"id": {"S": "x:1"}}}, [
        {}, {"Attributes": stored_item(4)}, {"Attributes": {"id": {"S": "x:1"}, "deleted": {"BOOL": True}}},
    ]),
    ("kinesis", "put_records", {"StreamName": "posts", "Records": []}, [
        {"FailedRecordCount": 0,
         "Records": [{"SequenceNumber": str(10**20 + n), "ShardId": "shardId-0"} for n in range(500)]},
        {"FailedRecordCount": 1, "EncryptionType": "NONE", "Records": [
            {"SequenceNumber": "1", "ShardId": "shardId-1"},
            {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"}]},
        {"FailedRecordCount": 0, "Records": [{"SequenceNumber": "1", "ShardId": "s", "Extra": "x"}]},
    ]),
]
FAST_OPERATIONS = {"dynamodb": ("BatchWriteItem", "BatchGetItem", "PutItem"), "kinesis": ("PutRecords",)}


def answered(aws_client, method: str, params: dict, status: int, body: bytes, headers: dict | None = None):
    """The parsed response (or the error botocore raises) of a call answered with `body`."""

    class Raw:
        def stream(self, **_kwargs):
            yield body

    def answer(request, **_kwargs):
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "REQ1", "Content-Type":
                           "application/x-amz-json-1.1", "Content-Length": str(len(body)), **(headers or {})},
                           Raw())

    aws_client.meta.events.register_first("before-send", answer)
    try:
        return getattr(aws_client, method)(**params)
    except ClientError as exc:
        return ("error", exc.response)
    finally:
        aws_client.meta.events.unregister("before-send", answer)


@pytest.mark.parametrize(
    ("service", "method", "params", "body"),
    [(s, m, p, b) for s, m, p, bodies in RESPONSES for b in bodies],
    ids=[f"{m}-{i}" for _s, m, _p, bodies in RESPONSES for i in range(len(bodies))],
)
def test_a_response_read_as_parsed_is_what_botocore_parses(service, method, params, body) -> None:
    raw = json.dumps(body).encode()
    plain = client(service, STACK, parameter_validation=False)
    fast = client(service, STACK, parameter_validation=False, as_parsed=FAST_OPERATIONS[service])

    expected = answered(plain, method, params, 200, raw)
    assert answered(fast, method, params, 200, raw) == expected
    assert "ResponseMetadata" in expected


def test_a_binary_attribute_read_as_parsed_is_bytes_as_botocore_gives_it() -> None:
    fast = client("dynamodb", STACK, parameter_validation=False, as_parsed=("BatchGetItem",))
    body = json.dumps({"Responses": {"posts": [stored_item(3)]}}).encode()

    item = answered(fast, "batch_get_item", {"RequestItems": {"posts": {"Keys": []}}}, 200, body)
    assert item["Responses"]["posts"][0]["doc"]["B"] == bytes([1, 0, 255, 3]) * 40


@pytest.mark.parametrize(("status", "body"), [
    (400, b'{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"Item too large"}'),
    (400, b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}'),
    (500, b""),
    (503, b"<html><body>Service Unavailable</body></html>"),
    (200, b"not json"),
])
def test_an_error_or_odd_response_is_parsed_by_botocore_as_before(status, body) -> None:
    params = {"RequestItems": {"posts": []}}
    plain = client("dynamodb", STACK, parameter_validation=False)
    fast = client("dynamodb", STACK, parameter_validation=False, as_parsed=("BatchWriteItem",))

    def outcome(aws_client):
        try:
            return answered(aws_client, "batch_write_item", params, status, body)
        except Exception as exc:  # noqa: BLE001 - compared, not swallowed
            return type(exc).__name__, str(exc)

    assert outcome(fast) == outcome(plain)


def test_as_parsed_refuses_an_operation_without_a_fast_path() -> None:
    with pytest.raises(ValueError, match="no fast response path"):
        client("dynamodb", STACK, parameter_validation=False, as_parsed=("Query",))


def test_the_usual_responses_skip_botocores_parser_and_the_others_use_it(monkeypatch) -> None:
    calls = []
    original = JSONParser.parse
    monkeypatch.setattr(JSONParser, "parse", lambda self, *a: calls.append(1) or original(self, *a))
    fast = client("dynamodb", STACK, parameter_validation=False, as_parsed=("BatchGetItem",))
    params = {"RequestItems": {"posts": {"Keys": []}}}

    answered(fast, "batch_get_item", params, 200, json.dumps(RESPONSES[1][3][0]).encode())
    assert calls == []
    with_capacity = RESPONSES[1][3][-1]
    answered(fast, "batch_get_item", params, 200, json.dumps(with_capacity).encode())
    assert calls == [1]
