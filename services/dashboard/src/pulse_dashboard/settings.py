"""Dashboard settings (env prefix `PULSE_DASHBOARD_`), with the shared stack settings nested.

Auth (`PULSE_DASHBOARD_AUTH_MODE`):

* `none` (default): no check. Fine on 127.0.0.1; `pulse-dashboard` refuses to serve this way on any
  other address unless `PULSE_DASHBOARD_ALLOW_ANONYMOUS=true` says anonymous access is meant.
* `token` + `PULSE_DASHBOARD_AUTH_TOKEN=<secret>`: every `/api/*` call needs
  `Authorization: Bearer <secret>` (or the `pulse_token` cookie the page sets after the user pastes
  the token once). The page itself and /healthz are public; /metrics and /readyz too, so the load
  balancer and Prometheus can reach them.
* `oidc-header`: the dashboard sits behind an AWS Application Load Balancer that authenticates
  users (`authenticate-oidc` / `authenticate-cognito`). Every `/api/*` call needs the claims the
  load balancer signs (`x-amzn-oidc-data`): signed by the load balancer whose ARN is
  `PULSE_DASHBOARD_OIDC_SIGNER_ARN` (required), with a key from `PULSE_DASHBOARD_OIDC_KEYS_URL`
  (default `https://public-keys.auth.elb.<PULSE_AWS_REGION>.amazonaws.com`), not expired; then the
  verified `email` claim must match `PULSE_DASHBOARD_OIDC_ALLOWED` (addresses or `@domain`s; empty
  allows anyone the load balancer signed in). See alb_oidc.py.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse_common.settings import SecretToken, StackSettings
from pulse_dashboard.alb_oidc import alb_arn_region, check_keys_url, default_keys_url, is_loopback


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PULSE_DASHBOARD_", extra="ignore", hide_input_in_errors=True
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    log_level: str = "INFO"
    auth_mode: Literal["none", "token", "oidc-header"] = "none"
    auth_token: SecretToken = None  # stripped and checked like every token
    # AUTH_MODE=none on a non-loopback host: refused at start unless this says it is meant.
    allow_anonymous: bool = False
    oidc_signer_arn: str | None = None  # the ALB's ARN; required in oidc-header mode
    oidc_keys_url: str | None = None  # default: the stack region's ALB public-key endpoint
    oidc_allowed: list[str] = Field(default_factory=list)  # addresses or "@domain"s; empty = any
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
    # Emerging topics are proposed from the newest this many foreground posts (one search page:
    # at most OpenSearch's default max_result_window).
    emerging_sample_docs: int = Field(default=500, ge=50, le=10_000)
    stack: StackSettings = Field(default_factory=StackSettings)

    @model_validator(mode="after")
    def _mode_needs_its_settings(self) -> DashboardSettings:
        if self.auth_mode == "token" and not (self.auth_token and self.auth_token.get_secret_value()):
            raise ValueError("PULSE_DASHBOARD_AUTH_MODE=token needs PULSE_DASHBOARD_AUTH_TOKEN")
        if self.auth_mode == "oidc-header":
            arn = (self.oidc_signer_arn or "").strip()
            if not arn:
                raise ValueError(
                    "PULSE_DASHBOARD_AUTH_MODE=oidc-header needs PULSE_DASHBOARD_OIDC_SIGNER_ARN "
                    "(the ARN of the load balancer that signs x-amzn-oidc-data)"
                )
            region = alb_arn_region(arn)
            if region is None:
                raise ValueError(
                    "PULSE_DASHBOARD_OIDC_SIGNER_ARN must be an Application Load Balancer ARN "
                    "(arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>)"
                )
            if self.oidc_keys_url is None and region != self.stack.aws_region:
                raise ValueError(
                    f"the load balancer is in {region} but PULSE_AWS_REGION is {self.stack.aws_region}: "
                    "its keys would be looked for in the wrong region (set PULSE_DASHBOARD_OIDC_KEYS_URL)"
                )
            self.oidc_signer_arn = arn
            check_keys_url(self.keys_url)
        return self

    @property
    def keys_url(self) -> str:
        return self.oidc_keys_url or default_keys_url(self.stack.aws_region)

    def serving_problem(self) -> str | None:
        """Why `pulse-dashboard` must not serve with these settings, or None."""
        if self.auth_mode == "none" and not is_loopback(self.host) and not self.allow_anonymous:
            return (
                f"refusing to serve without authentication on {self.host!r}, which is not a loopback "
                "address: anyone who can reach it could read every post. Set PULSE_DASHBOARD_AUTH_MODE "
                "(token or oidc-header), bind 127.0.0.1, or set PULSE_DASHBOARD_ALLOW_ANONYMOUS=true "
                "if anonymous access is really meant"
            )
        return None

