"""Settings shared by every service: where the stack is and what its resources are called.

Each service has its own pydantic-settings class with its own env prefix
(`PULSE_PRODUCER_`, ...) and nests `StackSettings` (env prefix `PULSE_`) for the
shared names, so one `.local/stack.env` configures every service alike.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    """Endpoints and resource names; defaults fit AWS, `.local/stack.env` fits the local stack."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore")

    aws_region: str = "us-east-1"
    # Empty means the real AWS endpoints; the local stack sets http://127.0.0.1:4566.
    aws_endpoint_url: str | None = None
    stream_name: str = "pulse-posts"
    table_name: str = "pulse-posts"
    dlq_name: str = "pulse-dead-letter"
    opensearch_url: str = "http://127.0.0.1:9200"
    opensearch_index_alias: str = "pulse-posts"
    opensearch_auth: str = Field(default="none", pattern="^(none|sigv4|basic)$")
    opensearch_username: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_tls: bool = True
    tracking_config: str | None = None  # path; default: the repo's config/tracking.yaml

    @property
    def is_local(self) -> bool:
        return bool(self.aws_endpoint_url)
