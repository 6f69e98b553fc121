"""deploy/deploy.mk: what `make build-push` and friends do, with stand-in docker/aws commands
(this machine has a docker client but no engine, and no AWS)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("producer", "enricher", "indexer", "dashboard")

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def _make(target: str, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(bin_dir),
        "TF_CLI_CONFIG_FILE": "/dev/null",
    }
    return subprocess.run(
        [shutil.which("make"), "--no-print-directory", "-f", "deploy/deploy.mk", target, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    """A directory for stand-in commands, first on PATH (then /usr/bin and /bin for git, sh)."""
    path = tmp_path / "bin"
    path.mkdir()
    return path


def test_build_push_without_a_docker_engine_prints_one_line_and_fails(bin_dir):
    no_engine = 'case "$1" in info) echo "Cannot connect to the Docker daemon" >&2; exit 1;; esac\n'
    _stub(bin_dir, "docker", no_engine)
    result = _make("build-push", bin_dir)
    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1, lines
    assert "build-push: no Docker engine reachable" in lines[0]


def test_build_push_without_docker_at_all_says_so_in_one_line(bin_dir):
    # PATH is only the empty stub dir: no docker client anywhere (make runs /bin/sh itself).
    result = subprocess.run(
        [shutil.which("make"), "--no-print-directory", "-f", "deploy/deploy.mk", "build-push", "IMAGE_TAG=x"],
        cwd=REPO_ROOT,
        env={"PATH": str(bin_dir), "HOME": str(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1 and "docker CLI is not installed" in lines[0], lines


def test_build_push_logs_in_to_ecr_and_pushes_every_image_tagged_with_the_sha(bin_dir, tmp_path):
    log = tmp_path / "calls.log"
    _stub(bin_dir, "docker", f'echo "docker $*" >> {log}\ncat >/dev/null 2>&1 || true\n')
    _stub(bin_dir, "aws", f'echo "aws $*" >> {log}\necho not-a-real-password\n')
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    args = (f"REGISTRY={registry}", "AWS_REGION=eu-west-1", "IMAGE_TAG=0123abcd")
    result = _make("build-push", bin_dir, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text().splitlines()
    assert "aws ecr get-login-password --region eu-west-1" in calls
    assert f"docker login --username AWS --password-stdin {registry}" in calls
    builds = [c for c in calls if c.startswith("docker buildx build")]
    assert len(builds) == len(SERVICES)
    for service, call in zip(SERVICES, builds, strict=True):
        assert f"-f services/{service}/Dockerfile" in call
        assert f"-t {registry}/pulse-dev/{service}:0123abcd" in call
        assert call.endswith("--push .")
    assert calls.index(f"docker login --username AWS --password-stdin {registry}") < calls.index(builds[0])


def test_push_without_a_registry_explains_where_it_comes_from(bin_dir):
    _stub(bin_dir, "docker", "exit 0\n")
    result = _make("push", bin_dir, "IMAGE_TAG=abc", "TF=")
    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1 and "no registry known" in lines[0] and "REGISTRY=" in lines[0], lines


@pytest.mark.parametrize("target", ["deploy", "tf-plan", "tf-init", "tf-validate"])
def test_terraform_targets_without_terraform_say_so_in_one_line(bin_dir, target):
    result = _make(target, bin_dir, "TF=")
    assert result.returncode != 0
    lines = _lines(result)
    assert len(lines) == 1 and "neither terraform nor tofu is installed" in lines[0], lines


def test_deploy_needs_the_filled_in_tfvars(bin_dir):
    _stub(bin_dir, "terraform", "exit 0\n")
    result = _make("deploy", bin_dir, f"TF={bin_dir / 'terraform'}", "ENV=prod", "IMAGE_TAG=abc")
    if (REPO_ROOT / "deploy" / "terraform" / "envs" / "prod" / "terraform.tfvars").exists():
        pytest.skip("an operator's terraform.tfvars is present in this checkout")
    assert result.returncode != 0
    assert "terraform.tfvars missing" in _lines(result)[0]


def test_the_root_makefile_includes_the_fragment():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "include deploy/deploy.mk" in makefile
    assert os.path.exists(REPO_ROOT / "deploy" / "deploy.mk")
