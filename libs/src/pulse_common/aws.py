"""boto3 clients built from StackSettings: one place knows about the local endpoint."""

from __future__ import annotations

import base64
from typing import Any

import boto3
import orjson
from botocore.config import Config

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
    """
    as_built = frozenset(config.pop("as_built", ()))
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
