"""Dashboard settings (env prefix `PULSE_DASHBOARD_`), with the shared stack settings nested.

Auth (all optional; default `none` is for a laptop or a private network only):

* `PULSE_DASHBOARD_AUTH_MODE=token` + `PULSE_DASHBOARD_AUTH_TOKEN=<secret>`: every `/api/*` call
  needs `Authorization: Bearer <secret>` (or the `pulse_token` cookie the page sets after the
  user pastes the token once). The page itself and /healthz are public; /metrics and /readyz too,
  so the load balancer and Prometheus can reach them.
* `PULSE_DASHBOARD_AUTH_MODE=oidc-header`: the dashboard sits behind a load balancer that does
  OIDC (ALB `authenticate-oidc`, oauth2-proxy, ...). Every `/api/*` call needs the identity header
  (`PULSE_DASHBOARD_OIDC_HEADER`, default `x-amzn-oidc-identity`) to be present and, if
  `PULSE_DASHBOARD_OIDC_ALLOWED` lists users or `@domain`s, to match one. Only use this mode when
  the service is reachable *only* through that load balancer: the header is trusted as is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse_common.settings import StackSettings


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSE_DASHBOARD_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "INFO"
    auth_mode: Literal["none", "token", "oidc-header"] = "none"
    auth_token: SecretStr | None = None
    oidc_header: str = "x-amzn-oidc-identity"
    oidc_allowed: list[str] = Field(default_factory=list)  # users or "@domain" suffixes; empty = any
    # Bounds on what one request may ask for.
    max_range_days: int = Field(default=400, ge=1)
    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_export_rows: int = Field(default=10_000, ge=1, le=100_000)
    request_timeout_s: float = Field(default=10.0, gt=0)
    live_poll_ms: int = Field(default=5000, ge=500)
    # Aggregation views are cached this long per identical request (0 = off); the live feed and
    # post lists never are. Relative ranges end at the next whole minute, so page loads share entries.
    cache_ttl_s: float = Field(default=15.0, ge=0)
    cache_entries: int = Field(default=512, ge=1)
    # Emerging topics read (re-analyze) at most this many foreground posts per shard.
    emerging_sample_docs: int = Field(default=500, ge=50, le=20_000)
    stack: StackSettings = Field(default_factory=StackSettings)

    @model_validator(mode="after")
    def _token_needs_secret(self) -> DashboardSettings:
        if self.auth_mode == "token" and not (self.auth_token and self.auth_token.get_secret_value()):
            raise ValueError("PULSE_DASHBOARD_AUTH_MODE=token needs PULSE_DASHBOARD_AUTH_TOKEN")
        return self
