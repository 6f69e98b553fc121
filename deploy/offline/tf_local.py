"""`make tf-local`: terraform plan, apply and destroy of envs/dev against the local AWS emulator.

    python deploy/offline/tf_local.py                # the whole run
    python deploy/offline/tf_local.py --build-only   # only build (or find) the real provider
    python deploy/offline/tf_local.py --keep         # skip the destroy (inspect, then run again)

1. The real `hashicorp/aws` provider is built once from the Go module proxy
   (`go install github.com/hashicorp/terraform-provider-aws@<pseudo-version>`, 40+ minutes on
   2 cores, niced, one package at a time, log in .local/terraform/aws-real/logs/build.log) and
   cached under .local/terraform/aws-real/<version>/.
2. The project's own stack (`pulse-stack up --no-opensearch`, ports from PULSE_STACK_*_PORT)
   serves the AWS APIs; it is started if it is not running, and stopped again at the end if
   this run started it.
3. A copy of deploy/ under .local/terraform/tf-local/ gets an override for envs/dev: a local
   backend, test credentials, every AWS endpoint the configuration uses pointed at the emulator.
   What the emulator needs first is created first (a certificate imported into its ACM for the
   HTTPS listener).
4. `terraform validate` with the real provider (its deprecation warnings are printed and
   counted) and `terraform plan` of the whole of envs/dev (`planned`); then what the emulator
   does not implement is left out by name, with the reason (UNSUPPORTED below, override files
   setting count = 0), never silently; `terraform plan` and `apply` of the rest (`applied`: the
   resources in the state), then boto3 reads back what was created (the
   stream, the table and its stream, the queue, the cluster, services and task definitions with
   their images, environment and roles, the IAM policies, alarms and scaling policies, the
   network rules and endpoint policies), and `terraform destroy`.

The last line is `tf-local: planned=<n> applied=<n> verified=<n> unsupported=<list> destroyed=<n>`;
the exit code is 0 only if every step succeeded and every check passed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standin

REPO_ROOT = standin.REPO_ROOT
PROVIDER_MODULE = "github.com/hashicorp/terraform-provider-aws"
# The provider's main branch as the Go module proxy serves it (tagged v6 releases are not).
PROVIDER_VERSION = "v1.60.1-0.20260602190131-5f2286d6d836"
REAL = standin.LOCAL / "aws-real"
BUILD_LOG = REAL / "logs" / "build.log"
WORK = standin.LOCAL / "tf-local"
REGION = "us-east-1"
DOMAIN = "pulse-dev.example.com"
IMAGE_TAG = "tf-local"

# Endpoint names (provider `endpoints` block) of every AWS service the configuration calls.
ENDPOINTS = (
    "acm amp appautoscaling cloudwatch cognitoidp dynamodb ec2 ecr ecs elbv2 grafana iam kinesis kms "
    "logs opensearch route53 s3 secretsmanager sns sqs sts wafv2"
).split()

# Resources the emulator cannot create, each left out of the local run (count = 0 through an
# override file in the module's copy) with the reason; outputs that read them are replaced by
# the values they would have.
UNSUPPORTED = {
    "module.pulse.module.ecr.aws_ecr_pull_through_cache_rule.ecr_public": (
        "ecr",
        "moto has no ECR pull-through cache API (CreatePullThroughCacheRule)",
        """resource "aws_ecr_pull_through_cache_rule" "ecr_public" {
  count = 0
}

output "public_image_cache_prefix" {
  value = format(
    "%s/%s-ecr-public",
    split("/", aws_ecr_repository.this["producer"].repository_url)[0],
    var.repository_prefix
  )
}

output "public_image_cache_repository_prefix" {
  value = "${var.repository_prefix}-ecr-public"
}
""",
    ),
    "module.pulse.module.observability.aws_prometheus_alert_manager_definition.this": (
        "observability",
        "moto has no AMP alert manager API (CreateAlertManagerDefinition)",
        """resource "aws_prometheus_alert_manager_definition" "this" {
  count = 0
}
""",
    ),
    "module.pulse.module.services.aws_cloudwatch_metric_alarm.enricher_lag": (
        "services",
        "the provider's CloudWatch client speaks the rpc-v2-cbor protocol, which moto answers with 404",
        """resource "aws_cloudwatch_metric_alarm" "enricher_lag" {
  count = 0
}

resource "aws_cloudwatch_metric_alarm" "indexer_lag" {
  count = 0
}
""",
    ),
    "module.pulse.module.services.aws_cloudwatch_metric_alarm.indexer_lag": (
        "services",
        "the provider's CloudWatch client speaks the rpc-v2-cbor protocol, which moto answers with 404",
        None,
    ),
}


def log(message: str) -> None:
    print(f"tf-local: {message}", file=sys.stderr, flush=True)


# Supported by the emulator, but slow: left out only with --without-opensearch.
SLOW = {
    "module.pulse.module.search.aws_opensearch_domain.single_node": (
        "search",
        "--without-opensearch: the provider waits a fixed 10 minutes after creating and deleting a domain",
        """resource "aws_opensearch_domain" "single_node" {
  count = 0
}

resource "aws_opensearch_domain_policy" "this" {
  count = 0
}

output "domain_arn" {
  value = local.domain_arn
}

output "domain_name" {
  value = local.domain_name
}

output "endpoint_url" {
  value = "https://vpc-${local.domain_name}.${data.aws_region.current.region}.es.amazonaws.com"
}
""",
    ),
    "module.pulse.module.search.aws_opensearch_domain_policy.this": (
        "search",
        "--without-opensearch: applies to the OpenSearch domain, which is left out",
        None,
    ),
}


# --- 1. the real provider ---------------------------------------------------------------------------


def provider_dir() -> Path:
    return REAL / PROVIDER_VERSION


def ensure_real_provider() -> Path:
    binary = provider_dir() / standin.PROVIDER_BINARY
    if binary.exists() and os.access(binary, os.X_OK):
        return provider_dir()
    go = standin.go_binary()
    BUILD_LOG.parent.mkdir(parents=True, exist_ok=True)
    provider_dir().mkdir(parents=True, exist_ok=True)
    log(
        f"building {PROVIDER_MODULE}@{PROVIDER_VERSION} once (40+ minutes on 2 cores; niced, one package"
        f" at a time); log: {BUILD_LOG}"
    )
    env = {
        **os.environ,
        "GOBIN": str(provider_dir()),
        "GOFLAGS": "-p=1 -buildvcs=false",
        "GOTOOLCHAIN": "local",
    }
    started = time.monotonic()
    with BUILD_LOG.open("a") as out:
        stamp = datetime.datetime.now(datetime.UTC).isoformat()
        out.write(f"\n# {stamp} go install {PROVIDER_MODULE}@{PROVIDER_VERSION}\n")
        out.flush()
        proc = subprocess.Popen(
            ["nice", "-n", "19", go, "install", f"{PROVIDER_MODULE}@{PROVIDER_VERSION}"],
            cwd=REAL,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        while proc.poll() is None:
            time.sleep(60)
            log(f"still building ({(time.monotonic() - started) / 60:.0f} min)")
    if proc.returncode != 0 or not binary.exists():
        raise SystemExit(f"tf-local: go install failed (exit {proc.returncode}); see {BUILD_LOG}")
    log(f"provider built in {(time.monotonic() - started) / 60:.0f} min: {binary}")
    return provider_dir()


# --- 2. the stack ------------------------------------------------------------------------------------


def stack_endpoint() -> str | None:
    env_file = REPO_ROOT / ".local" / "stack.env"
    if not env_file.exists():
        return None
    for line in env_file.read_text().splitlines():
        if line.startswith("PULSE_AWS_ENDPOINT_URL="):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def emulator_answers(endpoint: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=3)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def ensure_stack() -> tuple[str, bool]:
    """(emulator endpoint, whether this run started the stack)."""
    endpoint = stack_endpoint()
    if endpoint and emulator_answers(endpoint):
        log(f"using the running stack's emulator at {endpoint}")
        return endpoint, False
    stack = Path(sys.executable).parent / "pulse-stack"
    log("starting the local stack (pulse-stack up --no-opensearch)")
    subprocess.run([str(stack), "up", "--no-opensearch"], check=True)
    endpoint = stack_endpoint()
    if not endpoint or not emulator_answers(endpoint):
        raise SystemExit("tf-local: pulse-stack up did not bring up the AWS emulator")
    return endpoint, True


def stop_stack() -> None:
    subprocess.run([str(Path(sys.executable).parent / "pulse-stack"), "down"], check=False)


# --- 3. the working copy ---------------------------------------------------------------------------


def boto(service: str, endpoint: str):
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - the emulator's test credentials
    )


def import_certificate(endpoint: str) -> str:
    """A self-signed certificate for the dashboard's name, imported into the emulator's ACM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, DOMAIN)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(DOMAIN)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    response = boto("acm", endpoint).import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return response["CertificateArn"]


def prepare(endpoint: str, provider: Path, certificate_arn: str) -> tuple[Path, dict[str, str]]:
    """The working copy of deploy/ with the envs/dev override, and the environment for terraform."""
    if WORK.exists():
        shutil.rmtree(WORK)
    copy = WORK / "deploy"
    shutil.copytree(
        REPO_ROOT / "deploy", copy, ignore=shutil.ignore_patterns(".terraform", "__pycache__", "*.tfstate*")
    )
    env_dir = copy / "terraform" / "envs" / "dev"
    endpoints = "\n".join(f'    {name:<15} = "{endpoint}"' for name in ENDPOINTS)
    (env_dir / "tf_local_override.tf").write_text(
        f"""# Written by deploy/offline/tf_local.py: state in a local file, the AWS APIs of the emulator.
terraform {{
  backend "local" {{
    path = "{WORK / "terraform.tfstate"}"
  }}
}}

provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  # An API the emulator lacks answers 500: fail in seconds, not after 25 retries per call.
  max_retries = 2

  endpoints {{
{endpoints}
  }}
}}
"""
    )
    (env_dir / "terraform.tfvars").write_text(
        f"""environment               = "dev"
region                    = "{REGION}"
image_tag                 = "{IMAGE_TAG}"
dashboard_domain_name     = "{DOMAIN}"
dashboard_certificate_arn = "{certificate_arn}"
"""
    )
    cli = standin.write_cli_config(WORK / "cli.tfrc", provider)
    env = standin.terraform_env(cli, WORK / "data")
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",  # noqa: S106 - the emulator's test credentials
        AWS_REGION=REGION,
        AWS_EC2_METADATA_DISABLED="true",
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    return env_dir, env


# --- 4. terraform --------------------------------------------------------------------------------------


STEP_TIMEOUT_S = 30 * 60


def terraform(
    env_dir: Path, env: dict[str, str], *args: str, check: bool = True
) -> subprocess.CompletedProcess:
    cmd = [standin.terraform_binary(), f"-chdir={env_dir}", *args]
    log("$ terraform " + " ".join(args))
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=STEP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        # Interrupt as a user would (Terraform then saves its state), then give up on the step.
        proc.send_signal(signal.SIGINT)
        try:
            stdout, stderr = proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
        stderr += f"\ntf-local: interrupted after {STEP_TIMEOUT_S // 60} minutes"
    result = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    (WORK / "logs" / f"{args[0]}.log").write_text(result.stdout + result.stderr)
    elapsed = time.monotonic() - started
    log(f"  exit {result.returncode} in {elapsed:.0f}s (log: {WORK / 'logs' / args[0]}.log)")
    if check and result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise StepFailed(f"terraform {args[0]} failed:\n{tail}")
    return result


class StepFailed(RuntimeError):
    pass


def init(env_dir: Path, env: dict[str, str]) -> None:
    # With dev_overrides, init still asks the registry for hashicorp/aws and fails to reach it;
    # by then it has initialised the local backend and installed the local modules, which is all
    # plan and apply need. Any other failure stops the run.
    result = terraform(env_dir, env, "init", "-input=false", "-no-color", check=False)
    text = result.stdout + result.stderr
    if result.returncode != 0:
        ok = "Failed to query available provider packages" in text or "registry.terraform.io" in text
        if not ok or not (WORK / "data" / "modules" / "modules.json").exists():
            raise StepFailed(f"terraform init failed:\n{text[-3000:]}")


def leave_out_unsupported(env_dir: Path, left_out: dict | None = None) -> None:
    """Override files (count = 0, and outputs that no longer read them) in the modules' copies."""
    modules = env_dir.parents[1] / "modules"
    for address, (module, reason, override) in (left_out or UNSUPPORTED).items():
        log(f"left out: {address}: {reason}")
        if override:
            with (modules / module / "tf_local_override.tf").open("a") as out:
                out.write(f"# tf-local leaves out {address}: {reason}\n{override}\n")


def deprecation_warnings(env_dir: Path, env: dict[str, str]) -> list[str]:
    result = terraform(env_dir, env, "validate", "-json", "-no-color", check=False)
    report = json.loads(result.stdout)
    if not report.get("valid"):
        raise StepFailed("terraform validate with the real provider:\n" + result.stdout[-3000:])
    return [
        f"{(d.get('range') or {}).get('filename')}:{((d.get('range') or {}).get('start') or {}).get('line')}:"
        f" {d['summary']}: {d.get('detail', '')[:200]}"
        for d in report.get("diagnostics", [])
        if d["severity"] == "warning" and d["summary"] != standin.OVERRIDES_WARNING
    ]


def managed_resources(state: dict) -> list[dict]:
    out = []

    def walk(module: dict) -> None:
        out.extend(r for r in module.get("resources", []) if r.get("mode") == "managed")
        for child in module.get("child_modules", []):
            walk(child)

    walk(state.get("values", {}).get("root_module", {}))
    return out


# --- verification through boto3 -------------------------------------------------------------------


class Checks:
    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []

    def run(self, name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - every failed check is reported, the rest still run
            self.failed.append(f"{name}: {type(exc).__name__}: {exc}")
            log(f"  FAILED {name}: {exc}")
        else:
            self.passed.append(name)
            log(f"  ok {name}")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def verify(
    endpoint: str, outputs: dict, state_resources: list[dict], plan: dict, with_opensearch: bool = True
) -> Checks:
    checks = Checks()
    out = {k: v["value"] for k, v in outputs.items()}
    prefix = f"pulse-{'dev'}"
    kinesis, ddb, sqs = boto("kinesis", endpoint), boto("dynamodb", endpoint), boto("sqs", endpoint)
    ecs, iam, ec2 = boto("ecs", endpoint), boto("iam", endpoint), boto("ec2", endpoint)
    scaling = boto("application-autoscaling", endpoint)

    def stream() -> None:
        s = kinesis.describe_stream_summary(StreamName=out["stream_name"])["StreamDescriptionSummary"]
        expect(s["StreamStatus"] == "ACTIVE", f"stream {s['StreamStatus']}")
        expect(s["EncryptionType"] == "KMS", "stream not KMS-encrypted")
        expect(s["OpenShardCount"] == 1, f"{s['OpenShardCount']} shards, dev asks for 1")

    def table() -> None:
        t = ddb.describe_table(TableName=out["table_name"])["Table"]
        expect(t["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}], "hash key id")
        expect(
            t["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "stream",
        )
        expect(t.get("LatestStreamArn", "").startswith(t["TableArn"] + "/stream/"), "no table stream ARN")
        expect(t.get("SSEDescription", {}).get("SSEType") == "KMS", "table not KMS-encrypted")
        ttl = ddb.describe_time_to_live(TableName=out["table_name"])["TimeToLiveDescription"]
        expect(ttl.get("AttributeName") == "expires_at", f"TTL {ttl}")

    def table_stream() -> None:
        arn = ddb.describe_table(TableName=out["table_name"])["Table"]["LatestStreamArn"]
        streams = boto("dynamodbstreams", endpoint).describe_stream(StreamArn=arn)["StreamDescription"]
        expect(streams["StreamViewType"] == "NEW_AND_OLD_IMAGES", "table stream view")

    def queue() -> None:
        url = sqs.get_queue_url(QueueName=f"{prefix}-dead-letter")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        expect(attrs.get("KmsMasterKeyId", "").startswith("arn:aws:kms:"), "queue not KMS-encrypted")
        expect(attrs["MessageRetentionPeriod"] == "1209600", "queue retention")

    cluster_name = out["ecs_cluster_name"]
    task_roles = out["task_role_arns"]
    repos = out["ecr_repository_urls"]

    def cluster() -> None:
        (c,) = ecs.describe_clusters(clusters=[cluster_name], include=["SETTINGS"])["clusters"]
        expect(c["status"] == "ACTIVE", "cluster not active")
        expect(
            {"name": "containerInsights", "value": "enabled"} in c.get("settings", []),
            "no container insights",
        )

    def services_and_task_definitions() -> None:
        names = list(out["ecs_service_names"].values())
        described = ecs.describe_services(cluster=cluster_name, services=names)["services"]
        expect(sorted(s["serviceName"] for s in described) == sorted(names), "services missing")
        for service in described:
            name = service["serviceName"]
            network = service["networkConfiguration"]["awsvpcConfiguration"]
            expect(network.get("assignPublicIp") == "DISABLED", f"{name}: public IP")
            expect(
                network["securityGroups"] == [out["task_security_group_ids"][name]], f"{name}: security group"
            )
            td = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
            expect(td["taskRoleArn"] == task_roles[name], f"{name}: task role {td['taskRoleArn']}")
            expect(td["executionRoleArn"].endswith(f"role/{prefix}-ecs-execution"), f"{name}: execution role")
            containers = {c["name"]: c for c in td["containerDefinitions"]}
            expect(set(containers) == {name, "adot-collector"}, f"{name}: containers {set(containers)}")
            main = containers[name]
            expect(main["image"] == f"{repos[name]}:{IMAGE_TAG}", f"{name}: image {main['image']}")
            env = {e["name"]: e["value"] for e in main["environment"]}
            expect(env["PULSE_STREAM_NAME"] == out["stream_name"], f"{name}: PULSE_STREAM_NAME")
            expect(env["PULSE_TABLE_NAME"] == out["table_name"], f"{name}: PULSE_TABLE_NAME")
            expect(env["PULSE_AWS_REGION"] == REGION, f"{name}: region")
            for container in containers.values():
                expect(container.get("user") == "10001:10001", f"{name}/{container['name']}: runs as root")
                caps = (container.get("linuxParameters") or {}).get("capabilities") or {}
                expect(caps.get("drop") == ["ALL"], f"{name}/{container['name']}: capabilities {caps}")
                expect(
                    container.get("readonlyRootFilesystem") is True,
                    f"{name}/{container['name']}: writable root",
                )
            collector = containers["adot-collector"]["image"]
            expect(
                "/pulse-dev-ecr-public/aws-observability/aws-otel-collector:" in collector,
                f"collector {collector}",
            )
            if name == "producer":
                expect(
                    [s["name"] for s in main.get("secrets", [])] == ["PULSE_PRODUCER_X_BEARER_TOKEN"], "token"
                )
            if name == "dashboard":
                expect(env["PULSE_DASHBOARD_AUTH_MODE"] == "oidc-header", "dashboard auth mode")
                lb_arn = next(
                    r["values"]["arn"]
                    for r in state_resources
                    if r["type"] == "aws_lb" and r["name"] == "dashboard"
                )
                expect(env["PULSE_DASHBOARD_OIDC_SIGNER_ARN"] == lb_arn, "dashboard signer is not the ALB")
                expect(json.loads(env["PULSE_DASHBOARD_OIDC_ALLOWED"]) == [], "allow-list")
            if name == "indexer":
                expect(
                    env["PULSE_INDEXER_APPLICATION_NAME"] == f"{prefix}-indexer", "indexer KCL application"
                )
                expect(env["AWS_ENDPOINT_URL_DYNAMODB_STREAMS"].startswith("https://"), "streams endpoint")

    def ecs_exec_off() -> None:
        # moto's DescribeServices leaves the flag out: read it from what the provider stored.
        services = [r for r in state_resources if r["type"] == "aws_ecs_service"]
        expect(len(services) == 4, f"{len(services)} services in the state")
        for service in services:
            expect(service["values"]["enable_execute_command"] is False, f"{service['name']}: ECS Exec on")

    def iam_policies() -> None:
        def actions(role: str, policy: str) -> set[str]:
            doc = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
            if isinstance(doc, str):
                doc = json.loads(doc)
            found: set[str] = set()
            for st in doc["Statement"]:
                found |= set([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
            return found

        producer = actions(f"{prefix}-producer-task", "producer-least-privilege")
        expect({"kinesis:PutRecords", "sqs:SendMessage"} <= producer, f"producer {producer}")
        expect(not any(a.startswith(("dynamodb:", "es:")) for a in producer), "producer too broad")
        dashboard = actions(f"{prefix}-dashboard-task", "dashboard-least-privilege")
        expect(dashboard == {"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"}, f"dashboard {dashboard}")
        for svc in ("enricher", "indexer"):
            kcl = actions(f"{prefix}-{svc}-task", "kcl-lease-tables")
            expect(
                {"dynamodb:CreateTable", "dynamodb:UpdateItem", "cloudwatch:PutMetricData"} <= kcl,
                f"{svc} {kcl}",
            )
        indexer = actions(f"{prefix}-indexer-task", "indexer-least-privilege")
        expect({"dynamodb:GetRecords", "dynamodb:GetShardIterator"} <= indexer, f"indexer {indexer}")
        expect(not any(a.startswith("kinesis:") for a in indexer), "indexer reads Kinesis")
        admin = iam.get_role(RoleName=f"{prefix}-opensearch-admin")["Role"]
        expect(admin["Arn"] not in task_roles.values(), "the OpenSearch admin is a task role")
        for svc, arn in task_roles.items():
            expect(arn.endswith(f"role/{prefix}-{svc}-task"), f"{svc}: task role {arn}")

    def planned_alarms() -> None:
        # Not creatable in the emulator (UNSUPPORTED): checked as the real provider planned them.
        changes = {c["address"]: c["change"] for c in plan.get("resource_changes", [])}
        for svc in ("enricher", "indexer"):
            change = changes[f"module.pulse.module.services.aws_cloudwatch_metric_alarm.{svc}_lag"]
            after = change["after"]
            expect(after["alarm_name"] == f"{prefix}-{svc}-stream-lag", f"{svc}: alarm name")
            expect(after["threshold"] == 60 and after["evaluation_periods"] == 3, f"{svc}: threshold")
            expect(change["after_unknown"].get("alarm_actions") is not None, f"{svc}: no scaling action")
        enricher = changes["module.pulse.module.services.aws_cloudwatch_metric_alarm.enricher_lag"]["after"]
        metrics = {q["metric"][0]["metric_name"] for q in enricher["metric_query"] if q.get("metric")}
        lag = {"GetRecords.IteratorAgeMilliseconds", "SubscribeToShardEvent.MillisBehindLatest"}
        expect(metrics == lag, f"enricher lag metrics {metrics}")

    def alarms_and_scaling() -> None:
        targets = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
        ids = {t["ResourceId"]: t for t in targets}
        for svc in ("enricher", "indexer", "dashboard"):
            expect(f"service/{cluster_name}/{svc}" in ids, f"{svc}: no scalable target")
        policies = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
        names = {p["PolicyName"] for p in policies}
        expected = {f"{prefix}-{s}-cpu" for s in ("enricher", "indexer", "dashboard")}
        expected |= {f"{prefix}-{s}-lag" for s in ("enricher", "indexer")}
        expect(expected <= names, f"scaling policies {expected - names} missing")
        expect(ids[f"service/{cluster_name}/enricher"]["MaxCapacity"] == 1, "enricher max = shard count")

    def network() -> None:
        groups = out["task_security_group_ids"]
        described = ec2.describe_security_groups(GroupIds=list(groups.values()))["SecurityGroups"]
        for group in described:
            service = next(k for k, v in groups.items() if v == group["GroupId"])
            for rule in group["IpPermissionsEgress"]:
                expect(rule.get("FromPort") == 443 and rule.get("ToPort") == 443, f"{service}: egress {rule}")
                internet = any(r["CidrIp"] == "0.0.0.0/0" for r in rule.get("IpRanges", []))
                expect(not internet or service == "producer", f"{service} may reach the internet")
        endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "tag:Name", "Values": [f"{prefix}-*"]}])[
            "VpcEndpoints"
        ]
        expect(len(endpoints) >= 11, f"{len(endpoints)} VPC endpoints")
        for e in endpoints:
            policy = json.loads(e["PolicyDocument"])
            condition = policy["Statement"][0].get("Condition", {})
            expect(
                "aws:PrincipalAccount" in json.dumps(condition),
                f"{e['ServiceName']}: endpoint policy {policy}",
            )

    def opensearch() -> None:
        domain = boto("opensearch", endpoint).describe_domain(DomainName=f"{prefix}-search")["DomainStatus"]
        expect(domain["VPCOptions"]["SubnetIds"], "domain not in the VPC")
        expect(domain["EncryptionAtRestOptions"]["Enabled"] is True, "not encrypted at rest")
        expect(domain["NodeToNodeEncryptionOptions"]["Enabled"] is True, "no node-to-node encryption")
        expect(domain["DomainEndpointOptions"]["EnforceHTTPS"] is True, "HTTP allowed")
        admin = iam.get_role(RoleName=f"{prefix}-opensearch-admin")["Role"]["Arn"]
        expect(out["opensearch_url"].startswith("https://"), "opensearch_url")
        policy = json.loads(domain["AccessPolicies"])
        principals: set[str] = set()
        for st in policy["Statement"]:
            named = st["Principal"]["AWS"]
            principals |= {named} if isinstance(named, str) else set(named)
        expect(
            principals == {task_roles["indexer"], task_roles["dashboard"], admin},
            f"domain policy {principals}",
        )
        security = domain.get("AdvancedSecurityOptions", {})
        expect(security.get("Enabled") is True, f"fine-grained access control {security}")

    for name, check in [
        ("kinesis stream", stream),
        ("dynamodb table", table),
        ("dynamodb table stream", table_stream),
        ("dead-letter queue", queue),
        ("ecs cluster", cluster),
        ("ecs services and task definitions", services_and_task_definitions),
        ("ecs exec off", ecs_exec_off),
        ("iam task policies", iam_policies),
        ("scaling targets and policies", alarms_and_scaling),
        ("alarms (as planned)", planned_alarms),
        ("security groups and endpoint policies", network),
        *([("opensearch domain", opensearch)] if with_opensearch else []),
    ]:
        checks.run(name, check)
    return checks


# --- the run -------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-only", action="store_true", help="only build (or find) the real provider")
    parser.add_argument("--keep", action="store_true", help="leave what was applied (no destroy)")
    parser.add_argument(
        "--without-opensearch",
        action="store_true",
        help="leave the OpenSearch domain out (the provider waits 10 minutes after creating and deleting it)",
    )
    args = parser.parse_args(argv)

    provider = ensure_real_provider()
    if args.build_only:
        print(f"tf-local: provider {provider / standin.PROVIDER_BINARY}")
        return 0
    endpoint, started = ensure_stack()
    summary = {"planned": 0, "applied": 0, "verified": 0, "destroyed": 0}
    failed: list[str] = []
    env_dir = env = None
    left_out = {**UNSUPPORTED, **(SLOW if args.without_opensearch else {})}
    try:
        certificate_arn = import_certificate(endpoint)
        log(f"imported a certificate for {DOMAIN} into the emulator's ACM: {certificate_arn}")
        env_dir, env = prepare(endpoint, provider, certificate_arn)
        init(env_dir, env)
        schema = terraform(env_dir, env, "providers", "schema", "-json")
        (WORK / "real-schema.json").write_text(schema.stdout)
        log(
            f"saved the real provider's schema: {WORK / 'real-schema.json'} (refresh the stand-in's"
            " flags with deploy/offline/overlay_from_schema.py)"
        )
        warnings = deprecation_warnings(env_dir, env)
        for warning in warnings:
            log(f"deprecated: {warning}")
        log(f"terraform validate with the real provider: valid, {len(warnings)} deprecation warnings")
        if warnings:
            failed.append(f"{len(warnings)} deprecation warnings")
        # The whole of envs/dev is planned (planning calls none of the APIs the emulator lacks);
        # what it cannot create is then left out, planned again, and the rest applied.
        terraform(env_dir, env, "plan", "-input=false", "-no-color", "-out=tfplan")
        plan = json.loads(terraform(env_dir, env, "show", "-json", "tfplan").stdout)
        summary["planned"] = sum("create" in c["change"]["actions"] for c in plan.get("resource_changes", []))
        left_out = {**UNSUPPORTED, **(SLOW if args.without_opensearch else {})}
        leave_out_unsupported(env_dir, left_out)
        if not args.without_opensearch:
            log("the OpenSearch domain is applied too: the provider waits 10 minutes after creating it")
        terraform(env_dir, env, "plan", "-input=false", "-no-color", "-out=tfplan")
        apply = terraform(env_dir, env, "apply", "-input=false", "-no-color", "tfplan", check=False)
        state = json.loads(terraform(env_dir, env, "show", "-json").stdout or "{}")
        resources = managed_resources(state)
        summary["applied"] = len(resources)
        if apply.returncode != 0:
            failed.append("terraform apply: " + " ".join((apply.stdout + apply.stderr).splitlines()[-15:]))
        else:
            outputs = json.loads(terraform(env_dir, env, "output", "-json").stdout)
            checks = verify(endpoint, outputs, resources, plan, with_opensearch=not args.without_opensearch)
            summary["verified"] = len(checks.passed)
            failed.extend(checks.failed)
    except StepFailed as exc:
        failed.append(str(exc))
        log(str(exc))
    finally:
        if env_dir is not None and not args.keep:
            destroy = terraform(
                env_dir, env, "destroy", "-auto-approve", "-input=false", "-no-color", check=False
            )
            text = destroy.stdout + destroy.stderr
            found = [line for line in text.splitlines() if "Destroy complete! Resources:" in line]
            if found:
                summary["destroyed"] = int(found[-1].split("Resources:")[1].split()[0])
            if destroy.returncode != 0:
                failed.append("terraform destroy: " + " ".join(text.splitlines()[-10:]))
        if started:
            stop_stack()
    for problem in failed:
        log(f"problem: {problem}")
    unsupported = ",".join(a.removeprefix("module.pulse.") for a in left_out)
    print(
        f"tf-local: planned={summary['planned']} applied={summary['applied']} verified={summary['verified']}"
        f" unsupported={unsupported} destroyed={summary['destroyed']}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
