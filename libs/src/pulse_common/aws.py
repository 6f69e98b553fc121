"""boto3 clients built from StackSettings: one place knows about the local endpoint."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from pulse_common.settings import StackSettings


def client(service: str, stack: StackSettings, **config: Any) -> Any:
    """A boto3 client for `service`, pointed at the local emulator when configured.

    botocore's own retries are turned off by default: callers retry the failed subset themselves.
    `parameter_validation=False` skips botocore's client-side check of every request parameter (a
    quarter of the cost of building a 25-item BatchWriteItem); the service validates anyway, so the
    hot write paths, whose requests the code builds itself, turn it off.
    """
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
    return boto3.client(service, **kwargs)
