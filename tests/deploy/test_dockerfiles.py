"""The service images: checked statically (no Docker engine here) and linted with hadolint."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTS = {"producer": 9101, "enricher": 9102, "indexer": 9103, "dashboard": 8080}
# The numeric user the images create and the ECS task definitions run as.
IMAGE_UID = "10001"
CREDENTIAL_WORDS = re.compile(
    r"(TOKEN|SECRET|PASSW|CREDENTIAL|ACCESS_KEY|PRIVATE_KEY|API_KEY|AUTH)", re.IGNORECASE
)
# Names that match a credential word but hold no secret: which authentication is required.
NOT_CREDENTIALS = {"PULSE_DASHBOARD_AUTH_MODE"}


def _dockerfile(service: str) -> Path:
    return REPO_ROOT / "services" / service / "Dockerfile"


def _instructions(service: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = _dockerfile(service).read_text()
    text = re.sub(r"\\\n", " ", text)
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _stages(service: str) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for ins in _instructions(service):
        if ins[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _final(service: str) -> list[tuple[str, str]]:
    return _stages(service)[-1]


@pytest.mark.parametrize("service", sorted(PORTS))
def test_each_service_has_a_multi_stage_dockerfile(service):
    stages = _stages(service)
    assert len(stages) >= 2, "build and runtime stages"
    final = _final(service)
    copies_venv = any(i == "COPY" and a.startswith("--from=build ") for i, a in final)
    assert copies_venv, "the runtime stage copies the venv built in the build stage"
    assert not any(i == "RUN" and "pip install" in a for i, a in final), "no installs in the runtime stage"


@pytest.mark.parametrize("service", sorted(PORTS))
def test_every_base_image_is_pinned_to_a_version(service):
    for stage in _stages(service):
        image = stage[0][1].split()[0]
        assert ":" in image, f"{image}: untagged"
        tag = image.split(":", 1)[1]
        assert "latest" not in tag, image
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{image}: pin a full version, not a moving tag"
        if image.startswith("python:"):
            assert re.fullmatch(r"3\.11\.\d+-slim(-\w+)?", tag), image


@pytest.mark.parametrize("service", sorted(PORTS))
def test_the_runtime_runs_as_an_unprivileged_user(service):
    users = [a for i, a in _final(service) if i == "USER"]
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), users
    assert user == IMAGE_UID, "the task definitions run as 10001:10001"
    last_user = max(n for n, (i, _) in enumerate(_final(service)) if i == "USER")
    assert all(i != "RUN" for i, _ in _final(service)[last_user:]), "nothing runs as root after USER"


@pytest.mark.parametrize("service", sorted(PORTS))
def test_the_image_checks_its_own_health_endpoint_and_exposes_its_port(service):
    port = PORTS[service]
    checks = [a for i, a in _final(service) if i == "HEALTHCHECK"]
    assert len(checks) == 1
    assert f"http://127.0.0.1:{port}/healthz" in checks[0]
    assert "--interval=" in checks[0] and "--timeout=" in checks[0]
    assert ("EXPOSE", str(port)) in _final(service)
    assert not any(i == "ENTRYPOINT" for i, _ in _final(service)), "one-off tasks override the whole CMD"
    (cmd,) = [a for i, a in _final(service) if i == "CMD"]
    assert cmd.startswith(f'["pulse-{service}"'), "exec-form CMD running the service"


@pytest.mark.parametrize("service", sorted(PORTS))
def test_dependencies_come_from_the_lock_file(service):
    runs = " ".join(a for i, a in _instructions(service) if i == "RUN")
    assert f"--constraint requirements.lock ./libs ./services/{service}" in runs
    assert "--no-cache-dir" in runs
    copies = [a for i, a in _instructions(service) if i == "COPY"]
    assert "requirements.lock ./" in copies


@pytest.mark.parametrize("service", sorted(PORTS))
def test_no_secret_or_credential_enters_a_layer(service):
    for instruction, args in _instructions(service):
        if instruction in ("ENV", "ARG", "LABEL"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", " " + args) or [args.split("=")[0]]
            for name in names:
                if name in NOT_CREDENTIALS:
                    continue
                assert not CREDENTIAL_WORDS.search(name), f"{instruction} {name}: no credentials in images"
        if instruction in ("COPY", "ADD"):
            assert not re.search(r"\.env\b|\.aws|\.ssh|\.pem|id_rsa|credentials", args), args
            assert ".local" not in args and ".venv" not in args, args
        if instruction == "RUN":
            assert "AWS_SECRET" not in args and "AWS_ACCESS_KEY" not in args, args
    assert not any(i == "ADD" for i, _ in _instructions(service)), "COPY only (ADD fetches URLs, unpacks)"


def test_the_enricher_image_carries_java_17_and_the_kcl_jars():
    stages = _stages("enricher")
    assert any(s[0][1].startswith("eclipse-temurin:17.") for s in stages), "Java 17 runtime stage"
    final = _final("enricher")
    assert any(i == "COPY" and a.startswith("--from=jre /opt/java/openjdk") for i, a in final)
    env = " ".join(a for i, a in final if i == "ENV")
    assert "JAVA_HOME=/opt/java/openjdk" in env
    runs = " ".join(a for i, a in _instructions("enricher") if i == "RUN")
    assert "--no-binary amazon-kclpy" in runs, "build kclpy from source so its setup fetches the jars"
    assert "amazon_kclpy/jars" in runs, "the build fails if the jars did not arrive"


def test_the_indexer_image_carries_java_17_the_kcl_jars_and_the_streams_adapter_launcher():
    stages = _stages("indexer")
    assert any(s[0][1].startswith("eclipse-temurin:17.") for s in stages), "Java 17 runtime stage"
    final = _final("indexer")
    assert any(i == "COPY" and a.startswith("--from=jre /opt/java/openjdk") for i, a in final)
    assert any(i == "COPY" and a.startswith("--from=launcher /opt/pulse-indexer-kcl") for i, a in final)
    env = " ".join(a for i, a in final if i == "ENV")
    assert "JAVA_HOME=/opt/java/openjdk" in env and "PULSE_INDEXER_LAUNCHER_DIR=/opt/pulse-indexer-kcl" in env
    runs = " ".join(a for i, a in _instructions("indexer") if i == "RUN")
    assert "--no-binary amazon-kclpy" in runs and "amazon_kclpy/jars" in runs
    assert "services/indexer/kcl/build.sh" in runs or "/src/kcl/build.sh" in runs, "the launcher is built"
    build = (REPO_ROOT / "services" / "indexer" / "kcl" / "build.sh").read_text()
    assert "mvn -C " in build and "sha256sum" in build, "strict and pinned checksums for the adapter"


# --- .dockerignore --------------------------------------------------------------------------


def _dockerignore_patterns() -> list[tuple[bool, re.Pattern[str]]]:
    """(negated, regex) per .dockerignore line, in order; Docker's rule: the last match wins."""
    out = []
    for raw in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line[1:] if negated else line
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        out.append((negated, re.compile(regex + r"\Z")))
    return out


def _ignored(path: str) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negated, regex in _dockerignore_patterns():
        if any(regex.match(c) for c in candidates):
            ignored = not negated
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".local/tools-venv/bin/checkov",
        ".local/stack.env",
        ".git/config",
        ".env",
        "services/producer/.env",
        "libs/src/pulse_common/__pycache__/schema.cpython-311.pyc",
        "services/enricher/src/pulse_enricher.egg-info/PKG-INFO",
        "deploy/terraform/envs/prod/terraform.tfvars",
        "tests/conftest.py",
        "data/sample/posts.jsonl.gz",
    ],
)
def test_the_build_context_leaves_out_local_state_and_secrets(path):
    assert _ignored(path), f"{path} would be sent to the Docker build"


def test_the_build_context_includes_everything_the_dockerfiles_copy():
    for service in PORTS:
        for instruction, args in _instructions(service):
            if instruction != "COPY" or args.startswith("--from="):
                continue
            for source in args.split()[:-1]:
                source = source.rstrip("/")
                probe = source if "." in source.split("/")[-1] else f"{source}/pyproject.toml"
                if source in ("config", "mappings"):
                    probe = f"{source}/x.yaml"
                assert not _ignored(probe), f"{service}: COPY {source} but .dockerignore drops {probe}"
    assert not _ignored("services/enricher/src/pulse_enricher/models/model.joblib")
    assert not _ignored("services/dashboard/src/pulse_dashboard/static/index.html")


# --- hadolint -------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_any_dockerfile(tools_bin):
    files = [str(_dockerfile(s)) for s in sorted(PORTS)]
    cmd = [str(tools_bin / "hadolint"), "--no-color", *files]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_task_definitions_run_the_same_command_as_each_image():
    import json

    from deploy_tf import MODULES, parse

    commands = parse(MODULES / "services" / "main.tf")["locals"][0]["commands"]
    for service in PORTS:
        (cmd,) = [a for i, a in _final(service) if i == "CMD"]
        assert json.loads(cmd) == commands[service], service


def test_the_security_roles_helper_signs_each_put_for_the_es_service():
    import importlib.util
    import json

    botocore_credentials = pytest.importorskip("botocore.credentials")
    path = REPO_ROOT / "deploy" / "scripts" / "opensearch_security.py"
    spec = importlib.util.spec_from_file_location("opensearch_security", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    creds = botocore_credentials.Credentials("AKIDEXAMPLE", "not-a-secret")
    endpoint = "https://vpc-pulse.example.es.amazonaws.com"
    arns = ("arn:aws:iam::1:role/i", "arn:aws:iam::1:role/d", "arn:aws:iam::1:role/a")
    change = module.changes("pulse-posts", *arns)[3]
    request = module.signed_request(endpoint + "/", change, "us-east-1", creds)
    assert request.get_method() == "PUT"
    assert request.full_url == endpoint + "/_plugins/_security/api/rolesmapping/pulse_dashboard_read"
    assert json.loads(request.data) == {"backend_roles": ["arn:aws:iam::1:role/d"]}
    headers = {k.lower(): v for k, v in request.header_items()}
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/us-east-1/es/aws4_request" in headers["authorization"]
