"""`terraform validate` of deploy/terraform without the registry, through a stand-in provider.

    python deploy/offline/standin.py validate [dev] [prod]   # both environments by default
                                                             # (validate, then plan with mocks)
    python deploy/offline/standin.py ensure                  # only build/cache the stand-in

The first run (about two minutes; needs PyPI and the Go module proxy once) downloads the pinned
bindings wheel (deploy/offline/schema-wheel.txt, hash-checked by pip), extracts the provider
schema from it (deploy/offline/jsii_schema.py), builds the stand-in provider
(deploy/offline/standin-provider, Go) and writes a Terraform CLI configuration whose
`dev_overrides` point `hashicorp/aws` at it. Everything is cached under
.local/terraform/standin/ and rebuilt only when its inputs change; later runs take seconds.

Terraform's working data goes to .local/terraform/validate/<env> (TF_DATA_DIR), so nothing is
written into deploy/terraform. `validate` exits 1 on any error or warning (a deprecation is a
warning) and prints `tf-validate: <env> errors=<n> warnings=<n> unchecked=<n>` per environment.
Then it plans each environment with `terraform test` and a mocked provider (deploy/offline/tftest):
outputs, validations and preconditions are evaluated as in a real plan, without AWS
(`tf-plan-mocked: <env> runs=<n> failed=<n>`).
`unchecked` counts blocks whose content the schema source does not describe (the bindings type
`aws_wafv2_web_acl`'s rule `statement` as `any`): Terraform's error on them is reported and
excluded, never silently.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TF_ROOT = REPO_ROOT / "deploy" / "terraform"
LOCAL = REPO_ROOT / ".local" / "terraform"
STANDIN = LOCAL / "standin"
PROVIDER_DIR = STANDIN / "provider"
WHEEL_REQUIREMENT = HERE / "schema-wheel.txt"
OVERLAY = HERE / "aws-schema-overlay.json"
GO_SOURCE = HERE / "standin-provider"
PROVIDER_BINARY = "terraform-provider-aws"
OVERRIDES_WARNING = "Provider development overrides are in effect"


def log(message: str) -> None:
    print(f"standin: {message}", file=sys.stderr, flush=True)


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _stamped(path: Path, key: str) -> bool:
    stamp = path.with_name(path.name + ".stamp")
    return path.exists() and stamp.exists() and stamp.read_text().strip() == key


def _stamp(path: Path, key: str) -> None:
    path.with_name(path.name + ".stamp").write_text(key + "\n")


def terraform_binary() -> str:
    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        raise SystemExit("standin: neither terraform nor tofu is installed (Terraform >= 1.6)")
    return binary


# --- the schema ---------------------------------------------------------------------------------


def pinned_wheel() -> tuple[str, str]:
    """(requirement, sha256) from schema-wheel.txt."""
    text = WHEEL_REQUIREMENT.read_text()
    requirement = re.search(r"^([A-Za-z0-9_.-]+==[^\s\\]+)", text, flags=re.M)
    sha = re.search(r"--hash=sha256:([0-9a-f]{64})", text)
    if not requirement or not sha:
        raise SystemExit(f"standin: {WHEEL_REQUIREMENT} has no pinned, hashed requirement")
    return requirement.group(1), sha.group(1)


def ensure_wheel() -> Path:
    requirement, sha = pinned_wheel()
    name, version = requirement.split("==")
    wheel_dir = STANDIN / "wheel"
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheel_dir.glob(pattern))
    if found and hashlib.sha256(found[0].read_bytes()).hexdigest() == sha:
        return found[0]
    log(f"downloading {requirement} (59 MB, hash-checked) ...")
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-deps",
        "--only-binary=:all:",
        "--require-hashes",
        "-r",
        str(WHEEL_REQUIREMENT),
        "-d",
        str(wheel_dir),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"standin: pip download of {requirement} failed:\n{result.stderr[-2000:]}")
    found = sorted(wheel_dir.glob(pattern))
    if not found or hashlib.sha256(found[0].read_bytes()).hexdigest() != sha:
        raise SystemExit(f"standin: {requirement}: downloaded wheel missing or its sha256 is not {sha}")
    return found[0]


def ensure_schema() -> Path:
    _, sha = pinned_wheel()
    extractor = HERE / "jsii_schema.py"
    overlay = OVERLAY.read_bytes() if OVERLAY.exists() else b""
    key = digest(sha, extractor.read_bytes(), overlay)
    schema = PROVIDER_DIR / "schema.json"
    if _stamped(schema, key):
        return schema
    wheel = ensure_wheel()
    log("extracting the provider schema from the jsii assembly ...")
    PROVIDER_DIR.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(extractor), str(wheel), str(schema)]
    if OVERLAY.exists():
        cmd += ["--overlay", str(OVERLAY)]
    subprocess.run(cmd, check=True)
    _stamp(schema, key)
    return schema


# --- the stand-in provider ------------------------------------------------------------------------


def go_binary() -> str:
    binary = shutil.which("go")
    if binary is None:
        raise SystemExit("standin: Go is not installed (needed once to build the stand-in provider)")
    return binary


def ensure_provider_binary() -> Path:
    go = go_binary()
    version = subprocess.run([go, "version"], capture_output=True, text=True, check=True).stdout.strip()
    sources = [GO_SOURCE / n for n in ("main.go", "go.mod", "go.sum")]
    key = digest(version, *(p.read_bytes() for p in sources))
    binary = PROVIDER_DIR / PROVIDER_BINARY
    if _stamped(binary, key) and os.access(binary, os.X_OK):
        return binary
    log(f"building the stand-in provider ({version}) ...")
    PROVIDER_DIR.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOFLAGS": "-mod=readonly -trimpath", "CGO_ENABLED": "0"}
    tmp = binary.with_suffix(".tmp")
    result = subprocess.run(
        ["nice", "-n", "10", go, "build", "-o", str(tmp), "."],
        cwd=GO_SOURCE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"standin: go build failed:\n{result.stderr[-3000:]}")
    tmp.replace(binary)
    _stamp(binary, key)
    return binary


def write_cli_config(path: Path, provider_dir: Path) -> Path:
    """A Terraform CLI configuration serving hashicorp/aws from provider_dir (dev_overrides)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by deploy/offline: hashicorp/aws comes from this directory, never the registry.\n"
        "provider_installation {\n"
        "  dev_overrides {\n"
        f'    "hashicorp/aws" = "{provider_dir}"\n'
        "  }\n"
        "  direct {}\n"
        "}\n"
    )
    return path


@dataclass(frozen=True)
class Standin:
    provider_dir: Path
    cli_config: Path
    schema: Path

    def opaque_blocks(self) -> dict[str, list[str]]:
        with self.schema.open() as fh:
            head = json.load(fh)
        return head.get("source", {}).get("opaque_blocks", {})


def ensure() -> Standin:
    schema = ensure_schema()
    ensure_provider_binary()
    cli = write_cli_config(STANDIN / "cli.tfrc", PROVIDER_DIR)
    return Standin(PROVIDER_DIR, cli, schema)


# --- running terraform ------------------------------------------------------------------------------


def terraform_env(cli_config: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    env.update(
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_DATA_DIR=str(data_dir),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
    )
    return env


@dataclass
class Validation:
    env_dir: Path
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    unchecked: list[dict] = field(default_factory=list)
    raw: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.warnings


def _opaque(diag: dict, opaque: dict[str, list[str]]) -> bool:
    """Terraform's error on a block the schema source does not describe."""
    if diag.get("summary") != "Unsupported block type":
        return False
    context = (diag.get("snippet") or {}).get("context") or ""
    found = re.match(r'resource "(\w+)"', context) or re.match(r'data "(\w+)"', context)
    block = re.search(r'Blocks of type "(\w+)"', diag.get("detail", ""))
    return bool(found and block and block.group(1) in opaque.get(found.group(1), []))


def validate(env_dir: Path, standin: Standin, data_dir: Path) -> Validation:
    """`terraform get` (local modules only) and `terraform validate -json` of one root module."""
    tf = terraform_binary()
    env = terraform_env(standin.cli_config, data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        [tf, f"-chdir={env_dir}", "get", "-no-color"], env=env, capture_output=True, text=True, check=False
    )
    if got.returncode != 0:
        raise SystemExit(f"standin: terraform get in {env_dir} failed:\n{got.stdout}{got.stderr}")
    run = subprocess.run(
        [tf, f"-chdir={env_dir}", "validate", "-json", "-no-color"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError as exc:
        raise SystemExit(
            f"standin: terraform validate gave no JSON ({exc}):\n{run.stdout}{run.stderr}"
        ) from exc
    opaque = standin.opaque_blocks()
    result = Validation(env_dir=env_dir, raw=report)
    for diag in report.get("diagnostics", []):
        if diag.get("summary") == OVERRIDES_WARNING:
            continue
        if _opaque(diag, opaque):
            result.unchecked.append(diag)
        elif diag.get("severity") == "error":
            result.errors.append(diag)
        else:
            result.warnings.append(diag)
    return result


# --- plan with a mocked provider ---------------------------------------------------------------

TFTEST = HERE / "tftest"


def strip_opaque_blocks(tf_root: Path, opaque: dict[str, list[str]]) -> int:
    """Remove, from every .tf under tf_root (a copy), the blocks the schema source cannot describe.

    The bindings type the WAF rule `statement` as `any`, so Terraform would reject it before
    planning; the copy plans without those blocks. Returns how many were removed.
    """
    removed = 0
    for path in tf_root.rglob("*.tf"):
        text = path.read_text()
        out, pos = [], 0
        for resource in re.finditer(r'^resource "(\w+)" "\w+" \{', text, flags=re.M):
            names = opaque.get(resource.group(1))
            if not names:
                continue
            end = _closing_brace(text, resource.end() - 1)
            body = text[resource.end() : end]
            for name in names:
                body, n = _drop_blocks(body, name)
                removed += n
            out.append(text[pos : resource.end()] + body)
            pos = end
        if out:
            path.write_text("".join(out) + text[pos:])
    return removed


def _closing_brace(text: str, opening: int) -> int:
    depth = 0
    for i in range(opening, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def _drop_blocks(body: str, name: str) -> tuple[str, int]:
    count = 0
    while found := re.search(rf"\n[ \t]*{name} \{{", body):
        end = _closing_brace(body, found.end() - 1)
        body = body[: found.start()] + body[end + 1 :]
        count += 1
    return body, count


@dataclass
class MockPlan:
    runs: dict[str, dict] = field(default_factory=dict)  # run name -> {"status", "diagnostics"}
    stripped: int = 0
    output: str = ""


def mock_plan(
    env: str, standin: Standin, work: Path, extra_tests: Path | None = None, source_root: Path | None = None
) -> MockPlan:
    """`terraform test` of a copy of envs/<env> with a mocked provider (deploy/offline/tftest).

    The copy holds the whole deploy/ tree (modules read ../../../prometheus/alerts.yml); the
    run blocks of deploy/offline/tftest, and of extra_tests if given, are run with
    `-var environment=<env>`; returns each run's status and diagnostics. source_root replaces
    the repository's deploy/ (a modified copy).
    """
    copy = work / "deploy"
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(
        source_root or TF_ROOT.parent,
        copy,
        ignore=shutil.ignore_patterns(".terraform", "__pycache__", "*.tfstate*"),
    )
    result = MockPlan(stripped=strip_opaque_blocks(copy / "terraform", standin.opaque_blocks()))
    env_dir = copy / "terraform" / "envs" / env
    tests = env_dir / "tests"
    shutil.copytree(TFTEST, tests)
    if extra_tests is not None:
        for path in extra_tests.glob("*.tftest.hcl"):
            shutil.copy(path, tests / path.name)
    tf = terraform_binary()
    terraform_env_vars = terraform_env(standin.cli_config, work / "data")
    (work / "data").mkdir(parents=True, exist_ok=True)
    got = subprocess.run(
        [tf, f"-chdir={env_dir}", "get", "-no-color"], env=terraform_env_vars, capture_output=True, text=True
    )
    if got.returncode != 0:
        raise SystemExit(f"standin: terraform get failed:\n{got.stdout}{got.stderr}")
    run = subprocess.run(
        [tf, f"-chdir={env_dir}", "test", "-json", "-no-color", f"-var=environment={env}"],
        env=terraform_env_vars,
        capture_output=True,
        text=True,
    )
    result.output = run.stdout + run.stderr
    for line in run.stdout.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        name = event.get("@testrun")
        if not name:
            continue
        entry = result.runs.setdefault(name, {"status": None, "diagnostics": []})
        if event.get("type") == "test_run" and event["test_run"].get("progress") == "complete":
            entry["status"] = event["test_run"].get("status")
        elif event.get("type") == "diagnostic":
            entry["diagnostics"].append(event["diagnostic"])
    return result


def describe(diag: dict) -> str:
    rng = diag.get("range") or {}
    where = f"{rng.get('filename', '?')}:{(rng.get('start') or {}).get('line', '?')}"
    return f"{diag.get('severity')}: {where}: {diag.get('summary')}: {diag.get('detail', '')}".strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="build (or reuse) the stand-in provider, its schema and CLI configuration")
    check = sub.add_parser(
        "validate", help="terraform validate of deploy/terraform/envs/<env> with the stand-in"
    )
    check.add_argument("envs", nargs="*", default=["dev", "prod"], help="environments (default: dev prod)")
    args = parser.parse_args(argv)

    standin = ensure()
    if args.command == "ensure":
        print(f"standin: provider {standin.provider_dir}, CLI configuration {standin.cli_config}")
        return 0
    failed = False
    for env in args.envs:
        env_dir = TF_ROOT / "envs" / env
        if not (env_dir / "main.tf").exists():
            print(f"tf-validate: no environment {env} ({env_dir} missing)", file=sys.stderr)
            return 2
        result = validate(env_dir, standin, LOCAL / "validate" / env)
        for diag in result.errors + result.warnings:
            print(describe(diag))
        for diag in result.unchecked:
            rng = diag.get("range") or {}
            block = re.search(r'Blocks of type "(\w+)"', diag.get("detail", ""))
            print(
                f"not checked: {rng.get('filename')}:{(rng.get('start') or {}).get('line')}: block"
                f" {block.group(1) if block else '?'} (the schema source types it `any`)"
            )
        print(
            f"tf-validate: {env} errors={len(result.errors)} warnings={len(result.warnings)}"
            f" unchecked={len(result.unchecked)}"
        )
        failed |= not result.ok
        if result.errors:
            continue
        with tempfile.TemporaryDirectory(prefix=f"pulse-tf-plan-{env}-") as work:
            planned = mock_plan(env, standin, Path(work))
        bad = {name: run for name, run in planned.runs.items() if run["status"] != "pass"}
        for name, run in bad.items():
            for diag in run["diagnostics"]:
                print(f"{name}: {describe(diag)}")
        print(
            f"tf-plan-mocked: {env} runs={len(planned.runs)} failed={len(bad)}"
            f" (without {planned.stripped} WAF statement blocks)"
        )
        failed |= bool(bad) or not planned.runs
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
