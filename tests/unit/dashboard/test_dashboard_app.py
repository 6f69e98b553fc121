"""The app's edges without OpenSearch: auth modes, errors shown as clear JSON, security headers,
CSV cells that cannot run as formulas, and every queried field existing in the mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import NotFoundError

from pulse_common.settings import StackSettings
from pulse_common.tracking import load_tracking_config
from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.app import create_app
from pulse_dashboard.exports import csv_safe as _csv_safe
from pulse_dashboard.settings import DashboardSettings

REPO = Path(__file__).resolve().parents[3]


class FakeSearch:
    """Stands in for OpenSearch: answers with a canned error or an empty aggregation result."""

    def __init__(self, error: Exception | None = None):
        self.error = error
        self.bodies: list[dict] = []

    def search(self, index, body, params=None, request_timeout=None):
        self.bodies.append(body)
        if self.error:
            raise self.error
        return {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}

    def ping(self):
        return self.error is None


def app_with(client=None, **settings) -> TestClient:
    stack = StackSettings(opensearch_index_alias="unit-posts")
    return TestClient(
        create_app(
            DashboardSettings(stack=stack, **settings),
            client=client or FakeSearch(),
            tracking=load_tracking_config(),
        )
    )


def test_without_auth_the_api_is_open_and_the_page_is_served():
    api = app_with()
    assert api.get("/api/config").status_code == 200
    page = api.get("/")
    assert page.status_code == 200 and "<title>Pulse" in page.text
    assert "http" not in page.text.split("<body>")[1].replace("http://www.w3.org", "")  # nothing from a CDN
    assert api.get("/static/charts.js").status_code == 200


def test_token_mode_needs_the_bearer_token_or_the_cookie():
    api = app_with(auth_mode="token", auth_token="s3cret")
    denied = api.get("/api/config")
    assert denied.status_code == 401 and denied.json()["error"] == "unauthorized"
    assert api.get("/api/config", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api.get("/api/config", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    api.cookies.set("pulse_token", "s3cret")
    assert api.get("/api/config").status_code == 200
    assert api.get("/").status_code == 200 and api.get("/healthz").status_code == 200


def test_token_mode_without_a_token_is_a_configuration_error():
    with pytest.raises(ValueError, match="AUTH_TOKEN"):
        DashboardSettings(auth_mode="token")


def test_a_missing_index_is_an_empty_state_not_a_crash():
    api = app_with(FakeSearch(NotFoundError(404, "index_not_found_exception", {})))
    res = api.get("/api/overview")
    assert res.status_code == 404 and res.json()["error"] == "no_data"


def test_an_unreachable_opensearch_is_a_503_and_not_ready():
    api = app_with(FakeSearch(OSConnectionError("N/A", "refused", None)))
    assert api.get("/api/overview").status_code == 503
    assert api.get("/readyz").status_code == 503
    assert api.get("/healthz").status_code == 200


def test_fastapi_validation_errors_are_the_same_clear_400():
    res = app_with().get("/api/influencers", params={"limit": "lots"})
    assert res.status_code == 400 and res.json()["param"] == "limit"


def test_search_text_only_reaches_opensearch_inside_simple_query_string_with_whitelisted_fields():
    fake = FakeSearch()
    app_with(fake).get("/api/posts", params={"q": 'title:"x" OR {"match_all":{}}', "hashtag": "Nova"})
    body = json.dumps(fake.bodies[-1])
    must = fake.bodies[-1]["query"]["bool"]["must"]
    assert must[0]["simple_query_string"]["fields"] == list(F.SEARCH_FIELDS)
    assert "match_all" not in _keys(fake.bodies[-1])  # the user's text stays a string, never a clause
    assert "query_string" not in body.replace("simple_query_string", "")


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_pages_are_served_with_security_headers():
    res = app_with().get("/")
    assert "default-src 'self'" in res.headers["content-security-policy"]
    assert res.headers["x-content-type-options"] == "nosniff"


def test_csv_cells_never_start_a_formula():
    assert _csv_safe('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert _csv_safe("@user") == "'@user"
    assert _csv_safe(-0.5) == "-0.5"
    assert _csv_safe(None) == ""


def _mapping_paths(props: dict, prefix: str = "") -> set[str]:
    paths = set()
    for name, spec in props.items():
        path = f"{prefix}{name}"
        paths.add(path)
        paths |= _mapping_paths(spec.get("properties", {}), f"{path}.")
        paths |= {f"{path}.{sub}" for sub in spec.get("fields", {})}
    return paths


def test_every_field_the_dashboard_queries_exists_in_the_mapping():
    template = json.loads((REPO / "mappings" / "posts.template.json").read_text())
    paths = _mapping_paths(template["template"]["mappings"]["properties"])
    queried = {v for k, v in vars(F).items() if k.isupper() and isinstance(v, str)}
    queried |= set(F.SEARCH_FIELDS) | {p for p in F.POST_SOURCE if p != "engagement"}
    missing = sorted(q for q in queried if q not in paths)
    assert missing == []
