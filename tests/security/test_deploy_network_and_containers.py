"""Issue 17, point 8 (deploy side): task egress only where each service must go, VPC endpoints
with policies, containers without capabilities and never root, ECS Exec off unless asked for,
no default client range in prod; and checkov's skips: each with a reason, none dev-only in prod.

Read from deploy/terraform with python-hcl2 (tests/deploy/deploy_tf.py), like the other
Terraform invariants; `terraform validate` and a mocked plan run in tests/deploy.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("deploy_tf", REPO_ROOT / "tests" / "deploy" / "deploy_tf.py")
tf = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("deploy_tf", tf)
_spec.loader.exec_module(tf)

SERVICES = tf.MODULES / "services"
NETWORK = tf.MODULES / "network"
# Actions that have no resource-level permission: the only ones an endpoint policy may grant on "*".
NO_RESOURCE_LEVEL = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


def _locals(path: Path) -> dict:
    merged: dict = {}
    for block in tf.parse(path)["locals"]:
        merged.update(block)
    return merged


# --- egress -----------------------------------------------------------------------------------


def test_only_the_producer_may_reach_the_internet():
    egress = _locals(SERVICES / "network.tf")["egress"]
    assert set(egress) == {"producer", "enricher", "indexer", "dashboard", "opensearch-admin"}
    assert [svc for svc, targets in egress.items() if "internet" in targets] == ["producer"]
    assert egress["enricher"] == ["endpoints", "s3", "dynamodb"]
    assert egress["dashboard"] == ["endpoints", "s3", "opensearch"]
    assert "opensearch" not in egress["producer"] + egress["enricher"]


def test_task_egress_is_https_to_endpoints_prefix_lists_the_domain_or_for_the_producer_the_internet():
    rules = tf.find("resource", "aws_security_group_rule", under=SERVICES)
    task_rules = [r for r in rules if r.name == "task_egress"]
    assert len(task_rules) == 1
    rule = task_rules[0].body
    assert rule["type"] == "egress" and rule["from_port"] == 443 and rule["to_port"] == 443
    assert rule["protocol"] == "tcp"
    assert rule["cidr_blocks"] == '${each.value.target == "internet" ? ["0.0.0.0/0"] : null}'
    assert "var.endpoints_security_group_id" in rule["source_security_group_id"]
    assert "var.opensearch_security_group_id" in rule["source_security_group_id"]
    assert "var.gateway_prefix_list_ids" in rule["prefix_list_ids"]
    # No other rule lets a task group out, and no group carries inline rules.
    other_egress = [r for r in rules if r.body.get("type") == "egress" and r.name != "task_egress"]
    assert [r.name for r in other_egress] == ["alb_to_dashboard", "alb_to_idp"], "only the ALB's own rules"
    for group in tf.find("resource", "aws_security_group"):
        assert "egress" not in group.body, f"{group.where}: inline egress"


def test_the_opensearch_domain_admits_only_the_indexer_dashboard_and_admin_groups():
    domain_sg = tf.one("resource", "aws_security_group", "domain", under=tf.MODULES / "search")
    (ingress,) = tf.as_list(domain_sg.body["ingress"])
    assert ingress["from_port"] == 443 and ingress["security_groups"] == "${var.client_security_group_ids}"
    stack = tf.one("module", "", "search", under=tf.MODULES / "stack")
    assert "indexer" in stack.body["client_security_group_ids"]
    assert "dashboard" in stack.body["client_security_group_ids"]
    assert "opensearch-admin" in stack.body["client_security_group_ids"]
    assert "producer" not in stack.body["client_security_group_ids"]


# --- VPC endpoints ------------------------------------------------------------------------------


def _endpoint_names() -> set[str]:
    network = _locals(NETWORK / "main.tf")
    interface = set(re.findall(r'"([a-z0-9.-]+)" = (?:true|false)', network["interface_endpoints"]))
    return interface | set(re.findall(r'"([a-z0-9.-]+)"', network["gateway_endpoints"]))


def test_every_vpc_endpoint_carries_a_policy():
    for name in ("interface", "gateway"):
        endpoint = tf.one("resource", "aws_vpc_endpoint", name, under=NETWORK)
        assert endpoint.body["policy"] == "${data.aws_iam_policy_document.endpoint[each.key].json}"
    statements = _locals(NETWORK / "main.tf")["endpoint_statements"]
    names = _endpoint_names()
    expected = {"kinesis-streams", "ecr.api", "logs", "dynamodb-streams", "dynamodb", "s3", "ssmmessages"}
    assert expected <= names
    assert names <= set(statements), f"endpoints without a policy: {names - set(statements)}"


def test_endpoint_policies_admit_only_this_accounts_principals():
    doc = tf.one("data", "aws_iam_policy_document", "endpoint", under=NETWORK)
    (dynamic,) = doc.body["dynamic"]
    content = dynamic["statement"]["content"][0]
    assert "effect" not in content or content["effect"] == "Allow"
    (condition,) = tf.as_list(content["condition"])
    assert condition["test"] == "StringEquals" and condition["variable"] == "aws:PrincipalAccount"
    assert condition["values"] == ["${local.account_id}"]


def test_endpoint_policies_name_actions_and_use_star_only_without_resource_level_permissions():
    network = _locals(NETWORK / "main.tf")
    for name, statements in network["endpoint_statements"].items():
        if isinstance(statements, str):  # shared by ecr.api and ecr.dkr
            assert statements == "${local.ecr_statements}", name
            statements = network["ecr_statements"]
        for st in statements:
            for action in st["actions"]:
                assert "*" not in action, f"{name}: wildcard action {action}"
            if "*" in st["resources"]:
                assert set(st["actions"]) <= NO_RESOURCE_LEVEL, f"{name}: {st['actions']} on *"
            else:
                for resource in st["resources"]:
                    assert (
                        "${local.prefix}" in resource
                        or "starport-layer-bucket" in resource
                        or (name in ("aps-workspaces", "kms"))
                    ), f"{name}: {resource} is not scoped to Pulse"


def test_dynamodb_streams_is_reached_through_its_endpoint_by_name():
    # It has no private DNS: the indexer is pointed at the endpoint's own DNS name.
    assert '"dynamodb-streams" = false' in _locals(NETWORK / "main.tf")["interface_endpoints"]
    environment = _locals(SERVICES / "main.tf")["service_environment"]["indexer"]
    assert environment["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"] == "${var.dynamodb_streams_endpoint_url}"


def test_no_task_pulls_from_the_public_registry_directly():
    image = _locals(SERVICES / "main.tf")["collector_image"]
    assert image == "${var.public_image_cache_prefix}/${var.adot_image}"
    default = tf.one("variable", "", "adot_image", under=SERVICES).body["default"]
    assert not default.startswith("public.ecr.aws"), default
    rule = tf.one("resource", "aws_ecr_pull_through_cache_rule", "ecr_public")
    assert rule.body["upstream_registry_url"] == "public.ecr.aws"


# --- containers -----------------------------------------------------------------------------------


def _container_objects(expression: str) -> list[str]:
    """The object literals of every jsonencode([...]) container list in an expression."""
    out = []
    for start in [m.end() for m in re.finditer(r"jsonencode\(\[", expression)]:
        depth, begin = 0, None
        for i in range(start, len(expression)):
            ch = expression[i]
            if ch == "{":
                depth += 1
                if depth == 1:
                    begin = i
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    out.append(expression[begin : i + 1])
            elif ch == "]" and depth == 0:
                break
    return out


def _all_containers() -> list[str]:
    containers = _container_objects(_locals(SERVICES / "main.tf")["container_definitions"])
    admin = tf.one("resource", "aws_ecs_task_definition", "opensearch_admin", under=SERVICES)
    containers += _container_objects(admin.body["container_definitions"])
    return containers


def test_every_container_sidecars_included_runs_as_a_non_root_user():
    containers = _all_containers()
    assert len(containers) == 3, "service, collector sidecar, opensearch-admin"
    for container in containers:
        name = re.search(r"name = ([^,]+),", container).group(1)
        assert 'user = "10001:10001"' in container, f"{name}: no non-root user"


def test_every_container_drops_all_linux_capabilities():
    parameters = _locals(SERVICES / "main.tf")["linux_parameters"]
    assert parameters["capabilities"] == {"add": [], "drop": ["ALL"]}
    for container in _all_containers():
        assert "linuxParameters = local.linux_parameters" in container, container[:80]
        assert "privileged" not in container


def test_ecs_exec_is_off_unless_a_variable_turns_it_on():
    for service in tf.find("resource", "aws_ecs_service", under=SERVICES):
        assert service.body["enable_execute_command"] == "${var.enable_execute_command}", service.where
    for module in (SERVICES, tf.MODULES / "stack", tf.MODULES / "network"):
        assert tf.one("variable", "", "enable_execute_command", under=module).body["default"] is False
    for env in ("dev", "prod"):
        assert tf.one("variable", "", "enable_execute_command", under=tf.ENVS / env).body["default"] is False
        pulse = tf.one("module", "", "pulse", under=tf.ENVS / env)
        assert pulse.body["enable_execute_command"] == "${var.enable_execute_command}"
    exec_policy = tf.one("resource", "aws_iam_role_policy", "exec", under=SERVICES)
    assert exec_policy.body["for_each"] == "${var.enable_execute_command ? local.service_names : toset([])}"


def test_prod_has_no_default_client_range():
    prod = tf.one("variable", "", "dashboard_allowed_cidrs", under=tf.ENVS / "prod")
    assert "default" not in prod.body
    example = (tf.ENVS / "prod" / "terraform.tfvars.example").read_text()
    assert re.search(r"^dashboard_allowed_cidrs\s*=", example, flags=re.M), "the example names it"
    for module in (SERVICES, tf.MODULES / "stack"):
        assert "default" not in tf.one("variable", "", "dashboard_allowed_cidrs", under=module).body


# --- checkov skips --------------------------------------------------------------------------------


def _skips() -> list[tuple[tf.Block, str, str]]:
    out = []
    for block in tf.blocks():
        for comment in tf.comments(block):
            found = re.match(r"\s*checkov:skip=([A-Z0-9_]+):(.*)", comment)
            if found:
                out.append((block, found.group(1), found.group(2).strip()))
    return out


def test_every_checkov_skip_names_why():
    skips = _skips()
    assert skips, "no inline skips found (parser?)"
    for block, check, reason in skips:
        assert len(reason) >= 20, f"{block.where}: {check} without a reason"


def _prod_value_of_module_variable(module: str, variable: str):
    """What envs/prod passes (through modules/stack) into modules/<module>'s variable."""
    call = tf.one("module", "", module, under=tf.MODULES / "stack")
    stack_arg = re.fullmatch(r"\$\{var\.(\w+)\}", call.body[variable])
    assert stack_arg, f"stack passes {variable} as {call.body[variable]}"
    pulse = tf.one("module", "", "pulse", under=tf.ENVS / "prod")
    return pulse.body[stack_arg.group(1)]


def test_no_prod_resource_inherits_a_dev_only_skip():
    dev_only = [(b, c, r) for b, c, r in _skips() if re.search(r"\b(dev|single-node|single node)\b", r)]
    assert dev_only, "the single-node OpenSearch domain's skips are expected here"
    for block, check, reason in dev_only:
        assert reason.startswith("dev-only:"), f"{block.where}: {check}: a dev reason must say dev-only"
        count = re.fullmatch(r"\$\{var\.(\w+) \? 0 : 1\}", str(block.body.get("count")))
        assert count, f"{block.where}: a dev-only skip needs a resource that prod does not create"
        module = block.path.parent.name
        assert _prod_value_of_module_variable(module, count.group(1)) is True, (
            f"{block.where}: envs/prod would create this resource"
        )
