"""Verifying the user claims an AWS Application Load Balancer signs (`x-amzn-oidc-data`).

After an ALB `authenticate-oidc` / `authenticate-cognito` action, the load balancer forwards the
user's claims as a JWT signed with ES256 (ECDSA P-256, SHA-256). What AWS documents ("User claims
encoding and signature verification", Elastic Load Balancing user guide) and what this checks:

* the header's `signer` is the ARN of *this* load balancer (a token another ALB signed is refused);
* `kid` names the key: its public key is the PEM at `https://public-keys.auth.elb.<region>.
  amazonaws.com/<kid>`, fetched once per kid and cached (a kid the endpoint does not know is
  remembered for a minute, and at most `MAX_KEY_FETCHES_PER_MINUTE` unknown kids are looked up a
  minute: random kids cannot turn requests into fetches);
* `alg` is exactly ES256 (no `none`, no HMAC with the public key as secret);
* the signature verifies over the header and payload segments *as received*: the ALB encodes
  them base64url **with `=` padding** and signs the padded text, so the segments are not
  re-encoded (and a decoder that refuses padding, as strict JWT libraries do, cannot be used);
* `exp` (the ALB puts it in the header; the payload may carry one too) is not past.

Only then is the `email` claim read. A header that fails any check is treated as absent.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.algorithms import ECAlgorithm

HEADER = "x-amzn-oidc-data"
MAX_TOKEN_CHARS = 16_384  # the ALB's claims header is limited to 16K
LEEWAY_S = 10  # clock difference tolerated on `exp`
MAX_KEY_FETCHES_PER_MINUTE = 30
UNKNOWN_KID_TTL_S = 60.0
MAX_CACHED_KEYS = 64
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")  # base64url, padded (ALB) or not
_KID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # ALB kids are UUIDs; nothing that could bend a URL
_ALB_ARN = re.compile(
    r"^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer/app/[^/\s]+/[^/\s]+$"
)
_ES256 = ECAlgorithm(ECAlgorithm.SHA256)


class InvalidClaims(Exception):
    """The header is not a token this load balancer signed, now; `reason` says which check failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_keys_url(region: str) -> str:
    return f"https://public-keys.auth.elb.{region}.amazonaws.com"


def alb_arn_region(arn: str) -> str | None:
    """The region of an Application Load Balancer ARN; None if `arn` is not one."""
    match = _ALB_ARN.match(arn)
    return match.group(1) if match else None


def check_keys_url(url: str) -> str:
    """The key endpoint must be https (plain http only on loopback, for tests)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and is_loopback(host):
        return url.rstrip("/")
    raise ValueError(f"the key endpoint must be an https URL (got {url[:100]!r})")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost; an empty host, 0.0.0.0 or any other name is not."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def b64url_decode(segment: str) -> bytes:
    """A base64url segment with or without the ALB's `=` padding; anything else is refused."""
    if not _SEGMENT.match(segment):
        raise InvalidClaims("malformed")
    unpadded = segment.rstrip("=")
    try:
        return base64.urlsafe_b64decode(unpadded + "=" * (-len(unpadded) % 4))
    except (binascii.Error, ValueError):
        raise InvalidClaims("malformed") from None


def _json_object(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(segment))
    except (UnicodeDecodeError, ValueError):
        raise InvalidClaims("malformed") from None
    if not isinstance(value, dict):
        raise InvalidClaims("malformed")
    return value


def fetch_pem(url: str, timeout_s: float = 5.0) -> bytes | None:
    """The PEM at `url`, or None when the endpoint does not know it (404/403)."""
    local = is_loopback(urlsplit(url).hostname or "")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({} if local else None))
    request = urllib.request.Request(url, headers={"User-Agent": "pulse-dashboard"})
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return response.read(8192)
    except urllib.error.HTTPError as exc:
        if exc.code in (403, 404):
            return None
        raise


class AlbClaimsVerifier:
    """Verifies `x-amzn-oidc-data` tokens of one load balancer; thread-safe."""

    def __init__(
        self,
        signer_arn: str,
        keys_url: str,
        *,
        fetch: Callable[[str], bytes | None] = fetch_pem,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signer_arn = signer_arn
        self.keys_url = check_keys_url(keys_url)
        self.fetch = fetch
        self.clock = clock
        self._keys: OrderedDict[str, EllipticCurvePublicKey] = OrderedDict()
        self._unknown: dict[str, float] = {}
        self._fetch_times: list[float] = []
        self._lock = threading.Lock()

    def claims(self, token: str) -> dict[str, Any]:
        """The verified payload of `token`; InvalidClaims if any check fails."""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidClaims("missing" if not token else "malformed")
        parts = token.split(".")
        if len(parts) == 2 or (len(parts) == 3 and not parts[2]):
            raise InvalidClaims("unsigned")
        if len(parts) != 3:
            raise InvalidClaims("malformed")
        header = _json_object(parts[0])
        if header.get("alg") != "ES256":
            raise InvalidClaims("wrong_alg")
        if header.get("signer") != self.signer_arn:
            raise InvalidClaims("wrong_signer")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise InvalidClaims("wrong_kid")
        key = self._key(kid)
        signature = b64url_decode(parts[2])
        # The signed text is the two segments exactly as the ALB sent them, padding included.
        if not _ES256.verify(f"{parts[0]}.{parts[1]}".encode("ascii"), key, signature):
            raise InvalidClaims("bad_signature")
        payload = _json_object(parts[1])
        expiries = [v.get("exp") for v in (header, payload) if "exp" in v]
        if not expiries:
            raise InvalidClaims("no_expiry")
        now = self.clock()
        for exp in expiries:
            if isinstance(exp, bool) or not isinstance(exp, int | float) or now > exp + LEEWAY_S:
                raise InvalidClaims("expired")
        return payload

    def email(self, token: str) -> str:
        """The verified, non-empty `email` claim of `token` (InvalidClaims otherwise)."""
        claims = self.claims(token)
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email.strip():
            raise InvalidClaims("no_email")
        if claims.get("email_verified") is False or claims.get("email_verified") == "false":
            raise InvalidClaims("email_not_verified")
        return email.strip()

    # -------------------------------------------------------------------------------- keys

    def _key(self, kid: str) -> EllipticCurvePublicKey:
        now = time.monotonic()
        with self._lock:
            key = self._keys.get(kid)
            if key is not None:
                self._keys.move_to_end(kid)
                return key
            if self._unknown.get(kid, 0.0) > now:
                raise InvalidClaims("wrong_kid")
            self._fetch_times = [t for t in self._fetch_times if t > now - 60]
            if len(self._fetch_times) >= MAX_KEY_FETCHES_PER_MINUTE:
                raise InvalidClaims("key_fetch_limit")
            self._fetch_times.append(now)
        try:
            pem = self.fetch(f"{self.keys_url}/{kid}")
        except (OSError, urllib.error.URLError) as exc:
            raise InvalidClaims(f"key_unavailable: {type(exc).__name__}") from None
        key = _public_key(pem) if pem else None
        with self._lock:
            if key is None:
                self._unknown = {k: t for k, t in self._unknown.items() if t > now}
                self._unknown[kid] = now + UNKNOWN_KID_TTL_S
                raise InvalidClaims("wrong_kid")
            self._keys[kid] = key
            while len(self._keys) > MAX_CACHED_KEYS:
                self._keys.popitem(last=False)
        return key


def _public_key(pem: bytes) -> EllipticCurvePublicKey | None:
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, EllipticCurvePublicKey) or not isinstance(key.curve, SECP256R1):
        return None
    return key


def email_allowed(email: str, allowed: list[str]) -> bool:
    """An allow-list of addresses and `@domain`s (case-insensitive); empty allows any address."""
    if not allowed:
        return True
    low = email.lower()
    return any(low == a.lower() or (a.startswith("@") and low.endswith(a.lower())) for a in allowed)
