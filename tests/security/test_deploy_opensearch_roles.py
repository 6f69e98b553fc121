"""Issue 17, point 5: least privilege inside OpenSearch. The indexer is mapped to a role limited to
Pulse's index pattern and template, the dashboard to a read-only role; the security admin (the
fine-grained-access-control master user) is a separate break-glass role that no service runs
with. The roles are applied by deploy/scripts/opensearch_security.py, run here against a local
HTTP server that records what it is sent (the local OpenSearch node has no security plugin).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return sys.modules[name]


security = _load("opensearch_security", REPO_ROOT / "deploy" / "scripts" / "opensearch_security.py")
tf = _load("deploy_tf", REPO_ROOT / "tests" / "deploy" / "deploy_tf.py")

ALIAS = "pulse-posts"
ARNS = {
    "indexer": "arn:aws:iam::123456789012:role/pulse-dev-indexer-task",
    "dashboard": "arn:aws:iam::123456789012:role/pulse-dev-dashboard-task",
    "admin": "arn:aws:iam::123456789012:role/pulse-dev-opensearch-admin",
}
# Action groups and actions that read; anything else in the dashboard's role would be a leak.
READ_ONLY = {"read", "search", "get", "indices:data/read/*", "cluster_composite_ops_ro"}
# Grants that reach beyond Pulse's own indices or into security and cluster settings.
TOO_BROAD = {
    "*",
    "cluster_all",
    "indices_all",
    "manage",
    "cluster_manage",
    "manage_security",
    "security_rest_api_access",
    "restapi:admin/*",
    "cluster:admin/*",
    "indices:admin/*",
    "indices:admin/delete",
}


def _all_actions(role: dict) -> set[str]:
    actions = set(role["cluster_permissions"])
    for grant in role["index_permissions"]:
        actions |= set(grant["allowed_actions"])
    return actions


def test_the_alias_is_the_one_the_services_use():
    from pulse_common.settings import StackSettings

    assert StackSettings.model_fields["opensearch_index_alias"].default == ALIAS


def test_the_indexer_role_is_limited_to_pulse_indices_and_its_template():
    naming_py = REPO_ROOT / "services" / "indexer" / "src" / "pulse_indexer" / "naming.py"
    naming = _load("pulse_indexer_naming", naming_py)
    role = security.indexer_role(ALIAS)
    patterns = {p for grant in role["index_permissions"] for p in grant["index_patterns"]}
    assert patterns == {ALIAS, f"{ALIAS}-*"}
    assert naming.index_pattern(ALIAS) in patterns, "the monthly indices the indexer writes"
    assert not (_all_actions(role) & TOO_BROAD), _all_actions(role) & TOO_BROAD
    # Templates are cluster-level: exactly the index-template actions, no other cluster admin.
    admin = {p for p in role["cluster_permissions"] if p.startswith(("indices:admin/", "cluster:admin"))}
    assert admin == {"indices:admin/index_template/get", "indices:admin/index_template/put"}
    assert "crud" in role["index_permissions"][0]["allowed_actions"], "it must still write documents"


def test_the_dashboard_role_only_reads():
    role = security.dashboard_role(ALIAS)
    assert _all_actions(role) <= READ_ONLY, _all_actions(role) - READ_ONLY
    patterns = {p for grant in role["index_permissions"] for p in grant["index_patterns"]}
    assert patterns == {ALIAS, f"{ALIAS}-*"}


def test_only_the_admin_role_holds_the_security_and_all_access_roles():
    changes = security.changes(ALIAS, ARNS["indexer"], ARNS["dashboard"], ARNS["admin"])
    mappings = {c.path.rsplit("/", 1)[1]: c.body for c in changes if "/rolesmapping/" in c.path}
    assert mappings["pulse_indexer"] == {"backend_roles": [ARNS["indexer"]]}
    assert mappings["pulse_dashboard_read"] == {"backend_roles": [ARNS["dashboard"]]}
    for role in ("all_access", "security_manager"):
        assert mappings[role] == {"backend_roles": [ARNS["admin"]], "users": [ARNS["admin"]]}
    assert all(c.method == "PUT" for c in changes)


class _Recorder(BaseHTTPRequestHandler):
    calls: list = []
    status = 200

    def do_PUT(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls.append((self.path, json.loads(body), self.headers.get("Authorization", "")))
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b'{"status":"OK"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def recorder():
    handler = type("Recorder", (_Recorder,), {"calls": [], "status": 200})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run(endpoint: str, monkeypatch) -> int:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-secret")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return security.main(
        [
            "apply",
            f"--endpoint={endpoint}",
            "--region=us-east-1",
            f"--indexer-role-arn={ARNS['indexer']}",
            f"--dashboard-role-arn={ARNS['dashboard']}",
            f"--admin-role-arn={ARNS['admin']}",
        ]
    )


def test_apply_sends_every_role_and_mapping_signed_for_opensearch(recorder, monkeypatch):
    handler, endpoint = recorder
    assert _run(endpoint, monkeypatch) == 0
    paths = [path for path, _body, _auth in handler.calls]
    assert paths == [
        "/_plugins/_security/api/roles/pulse_indexer",
        "/_plugins/_security/api/roles/pulse_dashboard_read",
        "/_plugins/_security/api/rolesmapping/pulse_indexer",
        "/_plugins/_security/api/rolesmapping/pulse_dashboard_read",
        "/_plugins/_security/api/rolesmapping/all_access",
        "/_plugins/_security/api/rolesmapping/security_manager",
    ]
    assert all("/us-east-1/es/aws4_request" in auth for _p, _b, auth in handler.calls)
    assert handler.calls[1][1] == security.dashboard_role(ALIAS)


def test_apply_fails_when_opensearch_refuses(recorder, monkeypatch, capsys):
    handler, endpoint = recorder
    handler.status = 403
    assert _run(endpoint, monkeypatch) == 1
    assert "HTTP 403" in capsys.readouterr().err


def test_apply_refuses_to_run_without_the_role_arns(capsys):
    assert security.main(["apply", "--endpoint=http://127.0.0.1:9", "--region=us-east-1"]) == 2
    assert "no role ARN" in capsys.readouterr().err


# --- the Terraform side ---------------------------------------------------------------------------


def test_the_master_user_is_the_break_glass_role_not_a_task_role():
    for name in ("ha", "single_node"):
        domain = tf.one("resource", "aws_opensearch_domain", name, under=tf.MODULES / "search")
        security_options = tf.first(domain.body, "advanced_security_options")
        master = tf.first(security_options, "master_user_options")["master_user_arn"]
        assert master == "${aws_iam_role.admin.arn}"
    admin = tf.one("resource", "aws_iam_role", "admin", under=tf.MODULES / "search")
    assert admin.body["name"] == "${var.name_prefix}-opensearch-admin"
    assert "master_user_role_arn" not in str(tf.one("module", "", "search", under=tf.MODULES / "stack").body)


def test_no_service_runs_with_the_admin_role():
    services = tf.MODULES / "services"
    for taskdef in tf.find("resource", "aws_ecs_task_definition", under=services):
        if taskdef.name == "opensearch_admin":
            assert taskdef.body["task_role_arn"] == "${var.opensearch_admin_role_arn}"
        else:
            assert taskdef.body["task_role_arn"] == "${aws_iam_role.task[each.key].arn}"
    for service in tf.find("resource", "aws_ecs_service", under=services):
        assert "opensearch_admin" not in service.body["task_definition"], service.where


def test_the_admin_role_is_assumed_only_by_the_one_off_task_or_by_people_with_mfa():
    doc = tf.one("data", "aws_iam_policy_document", "admin_assume", under=tf.MODULES / "search")
    (task,) = tf.statements(doc)
    assert tf.as_list(task["principals"])[0]["identifiers"] == ["ecs-tasks.amazonaws.com"]
    assert tf.as_list(task["condition"])[0]["variable"] == "aws:SourceAccount"
    (people,) = doc.body["dynamic"]
    condition = tf.as_list(people["statement"]["content"][0]["condition"])[0]
    assert condition == {"test": "Bool", "variable": "aws:MultiFactorAuthPresent", "values": ["true"]}


def test_the_dashboards_iam_and_the_domain_policy_allow_it_only_to_read():
    dashboard = tf.one("data", "aws_iam_policy_document", "dashboard", under=tf.MODULES / "services")
    actions = {a for st in tf.statements(dashboard) for a in st["actions"]}
    assert actions == {"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"}
    access = tf.one("data", "aws_iam_policy_document", "access", under=tf.MODULES / "search")
    readers = tf.statements(access)[0]
    assert readers["sid"] == "PulseReaders" and set(readers["actions"]) == actions
