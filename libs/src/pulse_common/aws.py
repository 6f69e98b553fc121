"""boto3 clients built from StackSettings: one place knows about the local endpoint."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import boto3
import orjson
from botocore.config import Config
from botocore.utils import lowercase_dict

from pulse_common.settings import StackSettings


def client(service: str, stack: StackSettings, **config: Any) -> Any:
    """A boto3 client for `service`, pointed at the local emulator when configured.

    botocore's own retries are turned off by default: callers retry the failed subset themselves.
    `parameter_validation=False` skips botocore's client-side check of every request parameter (a
    quarter of the cost of building a 25-item BatchWriteItem); the service validates anyway, so the
    hot write paths, whose requests the code builds itself, turn it off.

    `as_built=("BatchWriteItem", ...)` (JSON-protocol services, with parameter_validation=False):
    those operations' parameters go to the request body as they are, bytes as base64, instead of
    through botocore's walk of the service model member by member (most of the client-side CPU of
    a 25-item batch write). For the hot paths whose parameters the code builds itself in the
    wire's shape (attribute values, Kinesis records); the body is the JSON botocore would send.

    `as_parsed=("BatchGetItem", ...)` (operations in `FAST_RESPONSES`): a successful response of
    those operations is read with orjson and only its binary attribute values decoded, instead of
    botocore's walk of the output shape; the result is what botocore returns (metadata included).
    A body with anything else in it (consumed capacity, item collection metrics, an unknown
    attribute type), and every error response, goes to botocore's own parser.
    """
    as_built = frozenset(config.pop("as_built", ()))
    as_parsed = frozenset(config.pop("as_parsed", ()))
    cfg = Config(
        region_name=stack.aws_region,
        retries={"max_attempts": config.pop("max_attempts", 1), "mode": "standard"},
        connect_timeout=config.pop("connect_timeout", 5),
        read_timeout=config.pop("read_timeout", 30),
        max_pool_connections=config.pop("max_pool_connections", 20),
        parameter_validation=config.pop("parameter_validation", True),
    )
    kwargs: dict[str, Any] = {"config": cfg}
    if stack.aws_endpoint_url:
        kwargs["endpoint_url"] = stack.aws_endpoint_url
        # moto accepts any credentials; set them only when the environment has none.
        session = boto3.session.Session()
        if session.get_credentials() is None:
            kwargs["aws_access_key_id"] = "testing"
            kwargs["aws_secret_access_key"] = "testing"  # noqa: S105 - moto's dummy key
    made = boto3.client(service, **kwargs)
    if as_built:
        if cfg.parameter_validation or made.meta.service_model.protocol != "json":
            raise ValueError("as_built needs a JSON-protocol client without parameter validation")
        made._serializer = _AsBuiltJsonBodies(made._serializer, as_built)
    if as_parsed:
        unknown = sorted(as_parsed - FAST_RESPONSES.keys())
        protocol = made.meta.service_model.resolved_protocol
        if unknown or protocol != "json":
            raise ValueError(f"no fast response path for {unknown or protocol}")
        endpoint = made._endpoint
        endpoint._response_parser_factory = _FastJsonResponses(endpoint._response_parser_factory, as_parsed)
    return made


def _base64(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a request value")


class _AsBuiltJsonBodies:
    """botocore's JSON serializer, except that the named operations' parameters go to the body as
    they are (bytes as base64); the method, path and headers still come from botocore's own."""

    def __init__(self, inner: Any, operations: frozenset[str]) -> None:
        self.inner = inner
        self.operations = operations

    def serialize_to_request(self, parameters: dict[str, Any], operation_model: Any) -> dict[str, Any]:
        if operation_model.name not in self.operations or operation_model.endpoint:
            return self.inner.serialize_to_request(parameters, operation_model)
        request = self.inner.serialize_to_request({}, operation_model)
        request["body"] = orjson.dumps(parameters, default=_base64)
        return request


class _Fallback(Exception):
    """A response the fast path does not read exactly as botocore would: botocore parses it."""


def _attribute_value(value: Any) -> dict[str, Any]:
    """One DynamoDB AttributeValue as botocore parses it: B and BS decoded, M and L walked."""
    if type(value) is not dict or len(value) != 1:
        raise _Fallback
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        if type(inner) is not str:
            raise _Fallback
        return value
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BOOL" or kind == "NULL":
        if type(inner) is not bool:
            raise _Fallback
        return value
    if kind == "M":
        return {"M": _attribute_map(inner)}
    if kind == "L":
        if type(inner) is not list:
            raise _Fallback
        return {"L": [_attribute_value(v) for v in inner]}
    if kind in ("SS", "NS"):
        if type(inner) is not list or not all(type(v) is str for v in inner):
            raise _Fallback
        return value
    if kind == "BS":
        if type(inner) is not list:
            raise _Fallback
        return {"BS": [base64.b64decode(v) for v in inner]}
    raise _Fallback  # a type botocore reads as an unknown union member


def _attribute_map(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise _Fallback
    return {name: _attribute_value(v) for name, v in value.items()}


def _table_map(value: Any, read: Any) -> dict[str, Any]:
    """A map of string keys (table names, attribute names) to values read by `read`."""
    if type(value) is not dict:
        raise _Fallback
    return {table: read(v) for table, v in value.items()}


def _list_of(read: Any) -> Any:
    def walk(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Fallback
        return [read(v) for v in value]

    return walk


def _structure(members: dict[str, Any]) -> Any:
    """A structure whose members are all read by `members` (name -> reader); any other key or a
    null member (botocore drops those) falls back."""

    def walk(value: Any) -> dict[str, Any]:
        if type(value) is not dict:
            raise _Fallback
        out = {}
        for name, v in value.items():
            read = members.get(name)
            if read is None or v is None:
                raise _Fallback
            out[name] = read(v)
        return out

    return walk


def _plain(kind: type) -> Any:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _Fallback
        return value

    return check


_STRING, _BOOL, _INT = _plain(str), _plain(bool), _plain(int)
_KEYS_AND_ATTRIBUTES = _structure({
    "Keys": _list_of(_attribute_map), "AttributesToGet": _list_of(_STRING), "ConsistentRead": _BOOL,
    "ProjectionExpression": _STRING, "ExpressionAttributeNames": lambda v: _table_map(v, _STRING),
})
_WRITE_REQUEST = _structure({
    "PutRequest": _structure({"Item": _attribute_map}),
    "DeleteRequest": _structure({"Key": _attribute_map}),
})
# The outputs read without botocore (operation -> reader of the whole body).
FAST_RESPONSES: dict[str, Any] = {
    "BatchGetItem": _structure({
        "Responses": lambda v: _table_map(v, _list_of(_attribute_map)),
        "UnprocessedKeys": lambda v: _table_map(v, _KEYS_AND_ATTRIBUTES),
    }),
    "BatchWriteItem": _structure({"UnprocessedItems": lambda v: _table_map(v, _list_of(_WRITE_REQUEST))}),
    "PutItem": _structure({"Attributes": _attribute_map}),
    "PutRecords": _structure({
        "FailedRecordCount": _INT,
        "Records": _list_of(_structure({"SequenceNumber": _STRING, "ShardId": _STRING,
                                        "ErrorCode": _STRING, "ErrorMessage": _STRING})),
        "EncryptionType": _STRING,
    }),
}


class _FastJsonResponses:
    """botocore's response parser factory, except that the named operations' successful responses
    are read by `FAST_RESPONSES` (falling back to botocore's parser for anything else)."""

    def __init__(self, inner: Any, operations: frozenset[str]) -> None:
        self.inner = inner
        self.readers = {f"{name}Output": FAST_RESPONSES[name] for name in operations}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_parser(self, protocol: str) -> Any:
        return _FastJsonParser(self.inner.create_parser(protocol), self.readers)


class _FastJsonParser:
    def __init__(self, inner: Any, readers: dict[str, Any]) -> None:
        self.inner = inner
        self.readers = readers

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def parse(self, response: dict[str, Any], shape: Any) -> Any:
        read = self.readers.get(shape.name) if shape is not None else None
        if read is None or response["status_code"] >= 301 or not response.get("body"):
            return self.inner.parse(response, shape)
        try:
            parsed = read(orjson.loads(response["body"]))
        except (_Fallback, orjson.JSONDecodeError, binascii.Error, TypeError, ValueError):
            return self.inner.parse(response, shape)
        headers = response["headers"]
        metadata: dict[str, Any] = {}
        if "x-amzn-requestid" in headers:
            metadata["RequestId"] = headers["x-amzn-requestid"]
        metadata["HTTPStatusCode"] = response["status_code"]
        metadata["HTTPHeaders"] = lowercase_dict(headers)
        algorithm = response.get("context", {}).get("checksum", {}).get("response_algorithm")
        if algorithm:
            metadata["ChecksumAlgorithm"] = algorithm
        parsed["ResponseMetadata"] = metadata
        return parsed
