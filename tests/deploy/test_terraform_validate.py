"""`terraform validate` of both environments against the hashicorp/aws schema, offline.

The registry cannot be reached here, so deploy/offline/standin.py serves the provider's schema
(taken from the pinned CDK bindings' jsii assembly) through a stand-in provider installed with
a `dev_overrides` CLI configuration. The first run builds it (about a minute, cached under
.local/terraform/standin); later runs cost a few seconds per environment.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from offline_tf import mock_plan, standin_module, tools_missing
from offline_tf import standin as ensure_standin

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.skipif(tools_missing() is not None, reason=str(tools_missing()))]


@pytest.fixture(scope="session")
def standin():
    return ensure_standin()


def _where(diag: dict) -> tuple[str, int]:
    rng = diag.get("range") or {}
    return Path(rng.get("filename", "")).name, (rng.get("start") or {}).get("line", 0)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_validates_against_the_provider_schema(standin, env, tmp_path):
    result = standin_module.validate(
        REPO_ROOT / "deploy" / "terraform" / "envs" / env, standin, tmp_path / "data"
    )
    assert result.raw.get("valid") is not None, result.raw
    assert not result.errors, "\n".join(standin_module.describe(d) for d in result.errors)
    # A warning here is a deprecation the real provider would print on every plan.
    assert not result.warnings, "\n".join(standin_module.describe(d) for d in result.warnings)
    # Only the WAF rule statements go unchecked: the bindings type that block `any`.
    assert {(_where(d)[0], "statement" in d["detail"]) for d in result.unchecked} <= {("alb.tf", True)}
    assert not (REPO_ROOT / "deploy" / "terraform" / "envs" / env / ".terraform").exists(), (
        "working data stays in TF_DATA_DIR"
    )


# Each planted mistake: (file under deploy/terraform, text, replacement, the error Terraform must report,
# the text of the line it must point at after the edit).
MISTAKES = {
    "an argument typo": (
        "modules/data/main.tf",
        "  retention_period = var.stream_retention_hours",
        "  retention_perod  = var.stream_retention_hours",
        "Unsupported argument",
        "retention_perod",
    ),
    "a block written as an argument": (
        "modules/data/main.tf",
        "  point_in_time_recovery {\n    enabled = true\n  }",
        "  point_in_time_recovery = {\n    enabled = true\n  }",
        "Unsupported argument",
        "point_in_time_recovery = {",
    ),
    "an argument written as a block": (
        "modules/network/main.tf",
        '  tags   = merge(var.tags, { Name = "${var.name_prefix}-igw" })',
        '  tags {\n    Name = "${var.name_prefix}-igw"\n  }',
        "Unsupported block type",
        "  tags {",
    ),
    "a missing required argument": (
        "modules/services/iam.tf",
        '  name   = "pull-log-inject"\n  role   = aws_iam_role.execution.id\n'
        "  policy = data.aws_iam_policy_document.execution.json\n",
        '  name = "pull-log-inject"\n  role = aws_iam_role.execution.id\n',
        "Missing required argument",
        'resource "aws_iam_role_policy" "execution"',
    ),
    "an unknown attribute reference": (
        "modules/services/outputs.tf",
        "aws_lb.dashboard.dns_name",
        "aws_lb.dashboard.dns_nam",
        "Unsupported attribute",
        "aws_lb.dashboard.dns_nam",
    ),
    "a value of the wrong type": (
        "modules/services/alb.tf",
        "  port              = 443\n",
        '  port              = "https"\n',
        "Incorrect attribute value type",
        'port              = "https"',
    ),
    "a computed-only attribute set": (
        "modules/data/main.tf",
        "  kms_data_key_reuse_period_seconds = 300\n",
        "  kms_data_key_reuse_period_seconds = 300\n"
        '  arn                               = "arn:aws:sqs:us-east-1:123456789012:x"\n',
        "Value for unconfigurable attribute",
        "arn                               =",
    ),
    "a second block where one is allowed": (
        "modules/data/main.tf",
        '  ttl {\n    attribute_name = "expires_at"\n    enabled        = true\n  }\n',
        '  ttl {\n    attribute_name = "expires_at"\n    enabled        = true\n  }\n' * 2,
        "Too many ttl blocks",
        "  ttl {",
    ),
    "a typo next to an unchecked WAF statement": (
        "modules/services/alb.tf",
        '      metric_name                = "aws-common"',
        '      metric_nme                 = "aws-common"',
        "Unsupported argument",
        "metric_nme",
    ),
    "an unknown resource type": (
        "modules/ecr/main.tf",
        'resource "aws_ecr_lifecycle_policy" "this"',
        'resource "aws_ecr_lifecycle_polcy" "this"',
        "Invalid resource type",
        "aws_ecr_lifecycle_polcy",
    ),
    # Warnings, as the real provider gives them (deprecations from aws-schema-overlay.json):
    "a deprecated argument set": (
        "modules/search/main.tf",
        'data "aws_region" "current" {}',
        'data "aws_region" "current" {\n  name = "us-east-1"\n}',
        'Argument "name" is deprecated',
        'name = "us-east-1"',
    ),
    "a deprecated attribute referenced": (
        "modules/observability/main.tf",
        "  region           = data.aws_region.current.region",
        "  region           = data.aws_region.current.name",
        "Deprecated attribute",
        "data.aws_region.current.name",
    ),
}


@pytest.fixture(scope="module")
def planted(standin, tmp_path_factory):
    """One copy of deploy/ with every mistake planted, validated once."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(
        REPO_ROOT / "deploy", root / "deploy", ignore=shutil.ignore_patterns(".terraform", "__pycache__")
    )
    tf_root = root / "deploy" / "terraform"
    expected = {}
    for name, (rel, old, new, _summary, _marker) in MISTAKES.items():
        path = tf_root / rel
        text = path.read_text()
        assert text.count(old) == 1, f"{name}: the text to change is not in {rel} exactly once"
        path.write_text(text.replace(old, new))
    for name, (rel, _old, _new, summary, marker) in MISTAKES.items():
        lines = (tf_root / rel).read_text().splitlines()
        found = [n for n, line in enumerate(lines, 1) if marker in line]
        assert found, f"{name}: marker {marker!r} not in {rel}"
        expected[name] = (Path(rel).name, found, summary)
    result = standin_module.validate(tf_root / "envs" / "dev", standin, root / "data")
    return expected, result


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_planted_mistake_is_caught_where_it_was_made(planted, mistake):
    expected, result = planted
    filename, lines, summary = expected[mistake]
    reported = result.errors + result.warnings
    hits = [
        d for d in reported if d["summary"] == summary and _where(d)[0] == filename and _where(d)[1] in lines
    ]
    assert hits, f"{mistake}: no {summary!r} at {filename}:{lines}; got:\n" + "\n".join(
        standin_module.describe(d) for d in reported
    )


# --- plan with a mocked provider -----------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_plans_with_a_mocked_provider(env):
    # Outputs, validations and preconditions are evaluated as in a real plan: this is where
    # `Output refers to sensitive values` (cognito_user_pool_id) stopped every plan.
    planned = mock_plan(env)
    for run in ("plans_with_the_cognito_user_pool", "plans_with_an_external_oidc_provider_and_an_allow_list"):
        assert planned.runs.get(run, {}).get("status") == "pass", f"{run}:\n{planned.output[-3000:]}"
    assert planned.stripped == 5, "only the WAF rule statements are left out of the copy"


# Outputs that would stop a real plan with `Output refers to sensitive values`: one derived from
# a sensitive variable (the cognito_user_pool_id failure), one from a resource whose object holds
# a sensitive attribute (the provider marks the domain's master-user password sensitive; the
# stand-in knows it from aws-schema-overlay.json).
SENSITIVE_OUTPUTS = {
    "from a sensitive variable": (
        "envs/dev/outputs.tf",
        'output "region" {',
        'output "leaks" {\n  description = "planted"\n  value       = var.oidc_client_secret\n}\n'
        '\noutput "region" {',
    ),
    "from a resource holding a sensitive attribute": (
        "modules/search/main.tf",
        "    endpoint    = one(concat(aws_opensearch_domain.ha[*].endpoint,"
        " aws_opensearch_domain.single_node[*].endpoint))",
        "    endpoint    = one(concat(aws_opensearch_domain.ha, aws_opensearch_domain.single_node)).endpoint",
    ),
}


@pytest.mark.parametrize("case", sorted(SENSITIVE_OUTPUTS))
def test_an_output_of_a_sensitive_value_stops_the_mocked_plan(standin, tmp_path, case):
    rel, old, new = SENSITIVE_OUTPUTS[case]
    copy = tmp_path / "copy"
    shutil.copytree(REPO_ROOT / "deploy", copy / "deploy", ignore=shutil.ignore_patterns(".terraform"))
    path = copy / "deploy" / "terraform" / rel
    text = path.read_text()
    assert text.count(old) == 1, f"{case}: the text to change is not in {rel} exactly once"
    path.write_text(text.replace(old, new))
    planted = standin_module.mock_plan("dev", standin, tmp_path / "work", source_root=copy / "deploy")
    run = planted.runs["plans_with_the_cognito_user_pool"]
    assert run["status"] != "pass"
    assert "Output refers to sensitive values" in {d["summary"] for d in run["diagnostics"]}


# --- make tf-local's working copy ------------------------------------------------------------------


def test_the_tf_local_copy_with_its_overrides_still_validates(standin, tmp_path, monkeypatch):
    # make tf-local leaves out what the emulator lacks through override files; the copy they
    # make must still be a valid configuration (checked here without the real provider).
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "pulse_tf_local", REPO_ROOT / "deploy" / "offline" / "tf_local.py"
    )
    tf_local = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tf_local
    spec.loader.exec_module(tf_local)
    monkeypatch.setattr(tf_local, "WORK", tmp_path / "tf-local")
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    env_dir, _env = tf_local.prepare("http://127.0.0.1:4566", standin.provider_dir, arn)
    tf_local.leave_out_unsupported(env_dir, {**tf_local.UNSUPPORTED, **tf_local.SLOW})
    overrides = sorted(
        p.relative_to(tmp_path).as_posix() for p in (tmp_path / "tf-local").rglob("*override.tf")
    )
    # envs/dev + the ecr, observability, search and services modules
    assert len(overrides) == 5, overrides
    result = standin_module.validate(env_dir, standin, tmp_path / "data")
    assert not result.errors, "\n".join(standin_module.describe(d) for d in result.errors)
    for address, (_module, reason, _override) in {**tf_local.UNSUPPORTED, **tf_local.SLOW}.items():
        assert len(reason) > 20, f"{address}: left out without a reason"
