"""Issue 17, points 3 and 4 (deploy side): the image and the Terraform never serve the dashboard
anonymously. The image's default mode is `token`, which refuses to start without a token; the
task definition sets `oidc-header` with the load balancer's ARN as the only accepted signer and
the allow-list; Terraform refuses an external identity provider without an allow-list (or
without its secret), a malformed allow-list, and extra environment that would weaken the
dashboard's authentication (planned offline with a mocked provider, tests/deploy/tftest).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "services" / "dashboard" / "Dockerfile"
ALB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/pulse-dev-dashboard/" + "0" * 16
)


def _load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


tf = _load("deploy_tf", REPO_ROOT / "tests" / "deploy" / "deploy_tf.py")
offline = _load("offline_tf", REPO_ROOT / "tests" / "deploy" / "offline_tf.py")


def _image_environment() -> dict[str, str]:
    """The ENV of the dashboard image's runtime stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    runtime = text[text.rindex("\nFROM ") :]
    env: dict[str, str] = {}
    for line in runtime.splitlines():
        if line.strip().startswith("ENV "):
            env.update(re.findall(r"([A-Z_][A-Z0-9_]*)=(\S+)", line))
    return env


def test_the_image_defaults_to_a_real_authentication_mode():
    env = _image_environment()
    assert env.get("PULSE_DASHBOARD_AUTH_MODE") == "token"
    assert env.get("PULSE_DASHBOARD_HOST") == "0.0.0.0"
    assert "PULSE_DASHBOARD_AUTH_TOKEN" not in env and "PULSE_DASHBOARD_ALLOW_ANONYMOUS" not in env


def test_the_image_refuses_to_start_without_a_token():
    # The image's own environment, nothing else: pulse-dashboard must exit, not serve.
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", **_image_environment(), "PULSE_DASHBOARD_PORT": "0"}
    env.pop("PULSE_TRACKING_CONFIG", None)  # /app/config exists only in the image
    binary = Path(sys.executable).parent / "pulse-dashboard"
    try:
        result = subprocess.run(
            [str(binary), "serve"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("pulse-dashboard started serving with the image's defaults and no token")
    assert result.returncode != 0
    assert "PULSE_DASHBOARD_AUTH_TOKEN" in result.stdout + result.stderr


def _dashboard_task_environment() -> dict[str, str]:
    main = tf.parse(tf.MODULES / "services" / "main.tf")["locals"][0]
    return main["service_environment"]["dashboard"]


def test_the_task_definition_trusts_only_what_this_load_balancer_signed():
    env = _dashboard_task_environment()
    assert env["PULSE_DASHBOARD_AUTH_MODE"] == "oidc-header"
    assert env["PULSE_DASHBOARD_OIDC_SIGNER_ARN"] == "${aws_lb.dashboard.arn}"
    assert env["PULSE_DASHBOARD_OIDC_ALLOWED"] == "${jsonencode(var.dashboard_allowed_users)}"
    assert "PULSE_DASHBOARD_ALLOW_ANONYMOUS" not in env and "PULSE_DASHBOARD_OIDC_KEYS_URL" not in env


def test_the_dashboard_reads_the_task_definitions_settings(monkeypatch):
    # The values Terraform renders, read by the dashboard's own settings class.
    from pulse_dashboard.settings import DashboardSettings

    allowed = ["analyst@example.com", "@example.org"]
    rendered = {
        "PULSE_DASHBOARD_HOST": "0.0.0.0",
        "PULSE_DASHBOARD_AUTH_MODE": "oidc-header",
        "PULSE_DASHBOARD_OIDC_SIGNER_ARN": ALB_ARN,
        "PULSE_DASHBOARD_OIDC_ALLOWED": json.dumps(allowed),
        "PULSE_AWS_REGION": "us-east-1",
    }
    assert set(rendered) - {"PULSE_AWS_REGION"} == set(_dashboard_task_environment()) - {
        "PULSE_DASHBOARD_PORT"
    }
    for name, value in rendered.items():
        monkeypatch.setenv(name, value)
    settings = DashboardSettings()
    assert settings.auth_mode == "oidc-header"
    assert settings.oidc_signer_arn == ALB_ARN
    assert settings.oidc_allowed == allowed
    assert settings.serving_problem() is None, "it serves on 0.0.0.0 behind the load balancer"


# --- refused by Terraform (plan with a mocked provider) ---------------------------------------------

REFUSALS = {
    "refuses_an_external_provider_without_an_allow_list": "dashboard_allowed_users must name who may use",
    "refuses_an_external_provider_without_its_secret": "TF_VAR_oidc_client_secret",
    "refuses_extra_environment_that_turns_authentication_off": "may not set PULSE_DASHBOARD_AUTH_",
    "refuses_an_allow_list_entry_that_is_not_an_address_or_domain": "must be e-mail addresses",
}


@pytest.mark.slow
@pytest.mark.parametrize("run", sorted(REFUSALS))
def test_terraform_refuses_a_configuration_that_would_weaken_dashboard_auth(run):
    missing = offline.tools_missing()
    if missing:
        pytest.skip(missing)
    planned = offline.mock_plan("dev")
    result = planned.runs.get(run)
    assert result is not None, f"{run} did not run:\n{planned.output[-2000:]}"
    assert result["status"] != "pass", f"{run}: Terraform planned it"
    details = " ".join(d.get("detail", "") for d in result["diagnostics"])
    assert REFUSALS[run] in details, details
