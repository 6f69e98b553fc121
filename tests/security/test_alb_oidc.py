"""Trust only what the load balancer signed: in oidc-header mode a request needs the
`x-amzn-oidc-data` claims an AWS ALB signs (ES256, `signer` = this load balancer's ARN, key by `kid`
from the region's key endpoint, not expired), then the verified email must be on the allow-list.

The tokens are made here the way the ALB makes them (base64url segments *with* `=` padding, the
signature over the padded text, raw r||s) with a local P-256 key, and its public key is served as
PEM by a local HTTP endpoint, as public-keys.auth.elb.<region>.amazonaws.com/<kid> serves it."""

from __future__ import annotations

import base64
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from security_support import LocalEndpoint

from pulse_common.settings import StackSettings
from pulse_dashboard.settings import DashboardSettings

REGION = "eu-west-1"
ARN = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:loadbalancer/app/pulse-dashboard/50dc6c495c0c9188"
OTHER_ARN = f"arn:aws:elasticloadbalancing:{REGION}:210987654321:loadbalancer/app/evil/0123456789abcdef"
KID = "7c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f"


def key_endpoint(keys: dict[str, ec.EllipticCurvePrivateKey]) -> LocalEndpoint:
    """GET /<kid> -> the PEM public key of that kid (as the region's ALB key endpoint), else 404."""
    return LocalEndpoint(
        {
            kid: key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            for kid, key in keys.items()
        }
    )


def _b64(data: bytes, *, padded: bool = True) -> str:
    text = base64.urlsafe_b64encode(data).decode()
    return text if padded else text.rstrip("=")


def alb_token(
    key: ec.EllipticCurvePrivateKey,
    *,
    email: str = "ana@example.com",
    signer: str = ARN,
    kid: str = KID,
    alg: str = "ES256",
    exp: float | None = None,
    padded: bool = True,
    **claims: object,
) -> str:
    """A token as the ALB writes it: padded base64url, ES256 over the padded segments, raw r||s."""
    header = {"typ": "JWT", "kid": kid, "alg": alg, "iss": "https://idp.example.com/", "client": "pulse",
              "signer": signer, "exp": int(exp if exp is not None else time.time() + 120)}
    payload = {"sub": "b7f2c1", "email": email, "email_verified": True, "username": "ana",
               "exp": header["exp"], "iss": "https://idp.example.com/", **claims}
    signing_input = ".".join(
        _b64(json.dumps(part).encode(), padded=padded) for part in (header, payload)
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'), padded=padded)}"


@pytest.fixture
def alb_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def endpoint(alb_key):
    server = key_endpoint({KID: alb_key})
    yield server
    server.close()


@pytest.fixture
def api(dashboard, endpoint):
    stack = StackSettings(opensearch_index_alias="sec-posts", aws_region=REGION)
    client = dashboard(
        stack=stack,
        auth_mode="oidc-header",
        oidc_signer_arn=ARN,
        oidc_keys_url=endpoint.url,
        oidc_allowed=["@example.com", "ops@partner.io"],
    )

    def status(token: str | None, **headers: str) -> int:
        if token is not None:
            headers["x-amzn-oidc-data"] = token
        return client.get("/api/config", headers=headers).status_code

    return status


def test_claims_the_load_balancer_signed_are_let_in_and_its_key_is_fetched_once(api, alb_key, endpoint):
    token = alb_token(alb_key)
    assert "=" in token  # ALB-style padding, signed as sent
    assert api(token) == 200
    assert api(alb_token(alb_key, email="ops@partner.io")) == 200
    assert api(alb_token(alb_key, padded=False)) == 200  # if the ALB ever drops the padding
    assert endpoint.requests == [KID]  # cached by kid


def test_an_email_off_the_allow_list_is_refused_although_signed(api, alb_key):
    assert api(alb_token(alb_key, email="eve@evil.com")) == 401
    assert api(alb_token(alb_key, email="eve@evil.example.com")) == 401
    assert api(alb_token(alb_key, email_verified=False)) == 401


def test_forged_unsigned_and_misdirected_claims_are_refused(api, alb_key, endpoint):
    attacker = ec.generate_private_key(ec.SECP256R1())
    good = alb_token(alb_key)
    header, payload, signature = good.split(".")
    other_payload = _b64(json.dumps({"email": "ceo@example.com", "exp": time.time() + 99}).encode())
    refused = {
        "no header": None,
        "forged: signed by another key, same kid": alb_token(attacker),
        "unsigned": f"{header}.{payload}.",
        "two segments": f"{header}.{payload}",
        "payload swapped under a valid signature": f"{header}.{other_payload}.{signature}",
        "wrong signer": alb_token(alb_key, signer=OTHER_ARN),
        "wrong kid": alb_token(alb_key, kid="00000000-dead-beef-0000-000000000000"),
        "a kid that bends the key URL": alb_token(alb_key, kid="../../x?y"),
        "expired": alb_token(alb_key, exp=time.time() - 3600),
        "garbage": "not.a.token",
    }
    for name, token in refused.items():
        assert api(token) == 401, name
    # The identity header alone, once trusted as is, means nothing now.
    assert api(None, **{"x-amzn-oidc-identity": "ana@example.com"}) == 401
    # An unknown kid is looked up once, not once per request; a kid that is not a kid, never.
    assert api(alb_token(alb_key, kid="00000000-dead-beef-0000-000000000000")) == 401
    assert endpoint.requests.count("00000000-dead-beef-0000-000000000000") == 1
    assert not any("x?y" in kid for kid in endpoint.requests)


def test_alg_none_and_hmac_with_the_public_key_are_refused(api, alb_key, endpoint):
    header = {"typ": "JWT", "kid": KID, "alg": "none", "signer": ARN, "exp": int(time.time() + 120)}
    payload = {"email": "ana@example.com", "exp": header["exp"]}
    unsigned = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."
    assert api(unsigned) == 401
    header["alg"] = "HS256"
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    mac = hmac.new(endpoint.files[KID], signing_input.encode(), "sha256").digest()
    assert api(f"{signing_input}.{_b64(mac)}") == 401


def test_oidc_header_mode_needs_the_load_balancer_arn_and_derives_the_key_endpoint_from_the_region():
    with pytest.raises(ValueError, match="PULSE_DASHBOARD_OIDC_SIGNER_ARN"):
        DashboardSettings(auth_mode="oidc-header")
    with pytest.raises(ValueError, match="Application Load Balancer ARN"):
        DashboardSettings(auth_mode="oidc-header", oidc_signer_arn="arn:aws:iam::123456789012:role/x")
    settings = DashboardSettings(
        auth_mode="oidc-header", oidc_signer_arn=ARN, stack=StackSettings(aws_region=REGION)
    )
    assert settings.keys_url == f"https://public-keys.auth.elb.{REGION}.amazonaws.com"
    with pytest.raises(ValueError, match="wrong region"):
        DashboardSettings(
            auth_mode="oidc-header", oidc_signer_arn=ARN, stack=StackSettings(aws_region="us-east-1")
        )
    with pytest.raises(ValueError, match="https"):
        DashboardSettings(
            auth_mode="oidc-header", oidc_signer_arn=ARN, oidc_keys_url="http://keys.example.com",
            stack=StackSettings(aws_region=REGION),
        )
