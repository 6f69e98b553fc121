"""`pulse_common.aws.client`'s `as_built` requests: the same HTTP request botocore's own serializer
builds (method, URL, target and content type, and a body that is the same JSON), without the model walk."""

from __future__ import annotations

import json

import pytest

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
