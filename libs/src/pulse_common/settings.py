"""Settings shared by every service: where the stack is and what its resources are called.

Each service has its own pydantic-settings class with its own env prefix
(`PULSE_PRODUCER_`, ...) and nests `StackSettings` (env prefix `PULSE_`) for the
shared names, so one `.local/stack.env` configures every service alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# RFC 6750's b64token and the X API's URL-encoded bearer tokens: visible ASCII, no spaces.
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")


def _clean_token(value: Any) -> SecretStr | None:
    """Strip what a console paste adds (a trailing newline, spaces); refuse anything else that is not
    visible ASCII, without ever echoing the value (it would reach an error message, then a log)."""
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        raise ValueError("must be a string")
    token = raw.strip()
    if not token:
        return None
    if not _TOKEN_CHARS.fullmatch(token):
        raise ValueError(
            "must be one word of visible ASCII characters (no spaces, line breaks or control characters "
            "inside: check for a stray character from a paste)"
        )
    return SecretStr(token)


# A bearer-style secret: stripped and checked when settings are built; empty means unset.
SecretToken = Annotated[SecretStr | None, BeforeValidator(_clean_token)]


def secret_values(settings: BaseModel) -> Iterator[SecretStr]:
    """Every SecretStr in a settings object (nested settings too): what logs must never show."""
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            yield value
        elif isinstance(value, BaseModel):
            yield from secret_values(value)


class StackSettings(BaseSettings):
    """Endpoints and resource names; defaults fit AWS, `.local/stack.env` fits the local stack."""

    # hide_input_in_errors: a refused value (a password) is never echoed by a validation error.
    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore", hide_input_in_errors=True)

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
