"""Who may call /api/*: nobody checked (`none`), a bearer token (`token`), or the claims the ALB
signed (`oidc-header`, alb_oidc.py) then the allow-list."""

from __future__ import annotations

import hmac

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from pulse_dashboard.alb_oidc import HEADER as OIDC_DATA_HEADER
from pulse_dashboard.alb_oidc import AlbClaimsVerifier, InvalidClaims, email_allowed
from pulse_dashboard.settings import DashboardSettings
from pulse_dashboard.state import Metrics


class Authorizer:
    def __init__(self, settings: DashboardSettings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.claims_verifier = (
            AlbClaimsVerifier(settings.oidc_signer_arn or "", settings.keys_url)
            if settings.auth_mode == "oidc-header"
            else None
        )

    def token_authorized(self, request: Request) -> bool:
        token = self.settings.auth_token
        expected = token.get_secret_value().encode() if token else b""
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else request.cookies.get("pulse_token", "")
        return bool(expected) and hmac.compare_digest(given.encode(), expected)

    def oidc_authorized(self, request: Request) -> bool:
        """Only what this load balancer signed counts (alb_oidc.py), then the allow-list."""
        assert self.claims_verifier is not None
        try:
            email = self.claims_verifier.email(request.headers.get(OIDC_DATA_HEADER, ""))
        except InvalidClaims as exc:
            self.metrics.auth_refused.labels(exc.reason.split(":")[0]).inc()
            return False
        if not email_allowed(email, self.settings.oidc_allowed):
            self.metrics.auth_refused.labels("not_allowed").inc()
            return False
        return True

    async def authorized(self, request: Request) -> bool:
        if self.settings.auth_mode == "none":
            return True
        if self.settings.auth_mode == "token":
            return self.token_authorized(request)
        # A first request with a new key id fetches its public key: off the event loop.
        return await run_in_threadpool(self.oidc_authorized, request)

    def refusal(self) -> dict[str, str]:
        return {
            "error": "unauthorized",
            "auth_mode": self.settings.auth_mode,
            "message": "this dashboard needs a token"
            if self.settings.auth_mode == "token"
            else "sign in through the load balancer",
        }
