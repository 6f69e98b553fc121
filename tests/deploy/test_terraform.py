"""Invariants of deploy/terraform, checked by parsing every .tf file (python-hcl2); no AWS,
no terraform binary. Each test names the property of the deployment it protects."""

from __future__ import annotations

import re

import pytest
from deploy_tf import (
    ENVS,
    MODULES,
    REPO_ROOT,
    SERVICES,
    TF_ROOT,
    Block,
    as_list,
    blocks,
    find,
    first,
    one,
    parse,
    statements,
    tf_files,
)

SERVICES_MODULE = MODULES / "services"

# Resource types the AWS provider cannot tag (no `tags` argument).
UNTAGGABLE = {
    "aws_appautoscaling_policy",
    "aws_cloudwatch_log_resource_policy",
    "aws_cognito_user_pool_client",
    "aws_cognito_user_pool_domain",
    "aws_ecr_lifecycle_policy",
    "aws_ecr_pull_through_cache_rule",
    "aws_ecs_cluster_capacity_providers",
    "aws_iam_role_policy",
    "aws_kms_alias",
    "aws_opensearch_domain_policy",
    "aws_prometheus_alert_manager_definition",
    "aws_route",
    "aws_route53_record",
    "aws_route_table_association",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_security_group_rule",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_wafv2_web_acl_association",
    "aws_wafv2_web_acl_logging_configuration",
}

# The only IAM statements allowed a "*" resource, each because the action has no resource-level
# permissions at all (AWS Service Authorization Reference):
WILDCARD_RESOURCE_EXCEPTIONS = {
    # ecr:GetAuthorizationToken returns a registry login; it cannot be scoped to a repository.
    ("execution", "EcrLoginHasNoResourceLevelPermission"): {"ecr:GetAuthorizationToken"},
    # cloudwatch:PutMetricData cannot be scoped by ARN; the statement must carry a
    # cloudwatch:namespace condition instead (asserted below).
    # (one document per KCL application: enricher, indexer)
    ("kcl_leases", "KclMetricsInItsNamespaceOnly"): {"cloudwatch:PutMetricData"},
    # ECS Exec's SSM message channels (only attached when enable_execute_command = true).
    ("exec", "EcsExecChannels"): {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    },
}


def _policy_docs() -> list[Block]:
    return find("data", "aws_iam_policy_document")


def _task_policy(service: str) -> Block:
    return one("data", "aws_iam_policy_document", service, under=SERVICES_MODULE)


def _actions(doc: Block) -> set[str]:
    return {a for st in statements(doc) for a in as_list(st.get("actions"))}


def _statement(doc: Block, sid: str) -> dict:
    found = [st for st in statements(doc) if st.get("sid") == sid]
    assert len(found) == 1, f"{doc.where}: no single statement {sid}"
    return found[0]


# --- structure ------------------------------------------------------------------------------


def test_every_terraform_file_parses():
    files = tf_files()
    assert len(files) >= 30
    for path in files:
        assert isinstance(parse(path), dict), path


def test_the_issue_modules_and_both_environments_exist():
    for module in ("network", "data", "search", "services", "observability", "ecr", "kms", "stack"):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (MODULES / module / name).is_file(), f"modules/{module}/{name} missing"
    for env in ("dev", "prod"):
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "providers.tf"):
            assert (ENVS / env / name).is_file(), f"envs/{env}/{name} missing"
        assert (ENVS / env / "backend.hcl.example").is_file()
        assert (ENVS / env / "terraform.tfvars.example").is_file()


def test_only_the_hashicorp_aws_provider_is_used():
    for path in tf_files():
        for tf in parse(path).get("terraform", []):
            for req in as_list(tf.get("required_providers")):
                assert set(req) == {"aws"}, f"{path}: providers {set(req)}"
                assert req["aws"]["source"] == "hashicorp/aws"
    resource_types = {b.type for b in blocks() if b.kind in ("resource", "data")}
    assert resource_types, "no resources parsed"
    assert all(t.startswith("aws_") for t in resource_types), resource_types - {
        t for t in resource_types if t.startswith("aws_")
    }


def test_each_environment_keeps_state_in_an_s3_backend():
    for env in ("dev", "prod"):
        backends = [
            backend
            for tf in parse(ENVS / env / "versions.tf").get("terraform", [])
            for backend in as_list(tf.get("backend"))
        ]
        assert backends and "s3" in backends[0], f"envs/{env}: no s3 backend"
        example = (ENVS / env / "backend.hcl.example").read_text()
        assert "encrypt      = true" in example and "use_lockfile = true" in example


def test_every_variable_is_typed_and_described():
    variables = find("variable")
    assert len(variables) > 50
    for var in variables:
        assert var.body.get("type"), f"{var.where}: no type"
        description = var.body.get("description")
        assert isinstance(description, str) and len(description) > 10, f"{var.where}: no description"


def test_every_output_is_described():
    for out in find("output"):
        assert isinstance(out.body.get("description"), str), f"{out.where}: no description"


# --- tags -----------------------------------------------------------------------------------


def test_every_taggable_resource_carries_the_module_tags():
    resources = find("resource")
    assert len(resources) > 60
    for res in resources:
        if res.type in UNTAGGABLE:
            assert "tags" not in res.body, f"{res.where}: listed as untaggable but has tags"
            continue
        tags = res.body.get("tags")
        assert tags is not None, f"{res.where}: not tagged"
        assert "var.tags" in str(tags), f"{res.where}: tags do not include var.tags"


def test_every_module_call_passes_tags_and_the_providers_add_default_tags():
    stack_calls = find("module", under=MODULES / "stack")
    assert {m.name for m in stack_calls} == {
        "kms",
        "network",
        "ecr",
        "data",
        "observability",
        "search",
        "services",
    }
    for call in stack_calls:
        assert call.body.get("tags") == "${local.tags}", f"{call.where}: tags not passed"
    for env in ("dev", "prod"):
        pulse = one("module", "", "pulse", under=ENVS / env)
        assert pulse.body["source"] == "../../modules/stack"
        assert "tags" in pulse.body, f"envs/{env}: no tags passed to the stack"
        provider = one("provider", "", "aws", under=ENVS / env)
        default_tags = first(provider.body, "default_tags")
        assert {"Project", "Environment"} <= set(first(default_tags, "tags")), f"envs/{env}"


# --- IAM ------------------------------------------------------------------------------------


def test_each_service_runs_with_its_own_task_role_and_a_separate_execution_role():
    role = one("resource", "aws_iam_role", "task", under=SERVICES_MODULE)
    assert role.body["for_each"] == "${local.service_names}"
    ports = parse(SERVICES_MODULE / "main.tf")["locals"][0]["ports"]
    assert set(ports) == set(SERVICES)
    taskdef = one("resource", "aws_ecs_task_definition", "this", under=SERVICES_MODULE)
    assert taskdef.body["task_role_arn"] == "${aws_iam_role.task[each.key].arn}"
    assert taskdef.body["execution_role_arn"] == "${aws_iam_role.execution.arn}"
    attached = one("resource", "aws_iam_role_policy", "task", under=SERVICES_MODULE)
    assert attached.body["role"] == "${aws_iam_role.task[each.key].id}"
    assert attached.body["policy"] == "${local.task_policies[each.key]}"
    for service in SERVICES:
        assert _task_policy(service).body.get("statement"), f"{service}: empty task policy"


def test_no_iam_statement_allows_a_wildcard_action():
    for doc in _policy_docs():
        for st in statements(doc):
            for action in as_list(st.get("actions")):
                if st.get("effect") == "Deny":
                    continue  # a wildcard deny (e.g. s3:* without TLS) only narrows access
                assert action != "*" and not action.endswith(":*"), f"{doc.where}: action {action}"
                assert "*" not in action, f"{doc.where}: wildcard action {action}"


def test_wildcard_resources_appear_only_where_the_action_has_no_resource_level_permission():
    seen = set()
    for doc in _policy_docs():
        for st in statements(doc):
            if st.get("effect") == "Deny":
                continue
            resources = as_list(st.get("resources"))
            if "*" not in resources:
                continue
            key = (doc.name, st.get("sid"))
            assert key in WILDCARD_RESOURCE_EXCEPTIONS, f"{doc.where}: statement {key[1]} has resource *"
            assert set(as_list(st["actions"])) == WILDCARD_RESOURCE_EXCEPTIONS[key], doc.where
            seen.add(key)
    assert seen == set(WILDCARD_RESOURCE_EXCEPTIONS), "an exception is listed that no longer exists"


def test_kcl_metrics_are_confined_to_the_kcl_namespace():
    kcl = one("data", "aws_iam_policy_document", "kcl_leases", under=MODULES / "data")
    st = _statement(kcl, "KclMetricsInItsNamespaceOnly")
    condition = first(st, "condition")
    assert condition["test"] == "StringEquals"
    assert condition["variable"] == "cloudwatch:namespace"
    assert condition["values"] == ["${each.value}"], "the application name is the namespace"


def test_no_allow_statement_names_an_anonymous_principal():
    for doc in _policy_docs():
        for st in statements(doc):
            for principal in as_list(st.get("principals")):
                if "*" in as_list(principal.get("identifiers")):
                    assert st.get("effect") == "Deny", f"{doc.where}: allows principal *"
    for key in find("resource", "aws_kms_key"):
        policy = key.body["policy"]
        assert '"*"' not in re.sub(r'Resource\s*=\s*"\*"', "", policy.replace("\\", "")), key.where
        assert re.search(r"Principal\s*=\s*\{\s*AWS\s*=\s*local\.root_arn\s*\}", policy), key.where


def test_the_producer_may_only_put_records_and_send_dead_letters():
    actions = _actions(_task_policy("producer"))
    assert {"kinesis:PutRecords", "sqs:SendMessage"} <= actions
    assert not any(a.startswith(("dynamodb:", "es:", "cloudwatch:")) for a in actions), actions
    assert not any(a.startswith("kinesis:Get") for a in actions)
    put = _statement(_task_policy("producer"), "PutPostsOnTheStream")
    assert put["resources"] == ["${var.stream_arn}"]
    # The token reaches the producer only through ECS secret injection (execution role).
    inject = _statement(one("data", "aws_iam_policy_document", "execution"), "InjectXToken")
    assert inject["resources"] == ["${aws_secretsmanager_secret.x_token.arn}"]


def test_the_enricher_reads_the_stream_owns_its_lease_tables_and_writes_posts():
    doc = _task_policy("enricher")
    actions = _actions(doc)
    assert {
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
        "dynamodb:PutItem",
        "sqs:SendMessage",
    } <= actions
    assert "kinesis:PutRecords" not in actions
    retrieval = REPO_ROOT / "services" / "enricher" / "src" / "pulse_enricher" / "properties.py"
    if retrieval.exists() and '"retrievalMode": "POLLING"' in retrieval.read_text():
        assert "kinesis:SubscribeToShard" not in actions, "polling KCL needs no enhanced fan-out"
    assert _statement(doc, "WriteEnrichedPosts")["resources"] == ["${var.table_arn}"]


def test_each_kcl_application_owns_exactly_its_three_tables_and_its_metrics():
    leases = one("data", "aws_iam_policy_document", "kcl_leases", under=MODULES / "data")
    assert leases.body["for_each"] == "${local.kcl_applications}"
    table = "${local.kcl_lease_table_arns[each.key]}"
    lease_resources = {r for st in statements(leases) for r in as_list(st["resources"])}
    companions = {f"{table}-CoordinatorState", f"{table}-WorkerMetricStats"}
    # "*" is the metrics statement, confined by its namespace condition (test below).
    assert lease_resources == {table, f"{table}/index/*", *companions, "*"}
    applications = parse(MODULES / "data" / "main.tf")["locals"][0]["kcl_applications"]
    assert applications == {
        "enricher": "${var.kcl_application_name}",
        "indexer": "${var.indexer_application_name}",
    }
    attach = one("resource", "aws_iam_role_policy", "kcl_leases")
    assert attach.body["for_each"] == '${toset(["enricher", "indexer"])}'
    assert attach.body["role"] == "${aws_iam_role.task[each.key].id}"
    # The indexer's KCL (DynamoDB Streams adapter) is told its application name.
    environment = str(parse(SERVICES_MODULE / "main.tf")["locals"][0]["service_environment"])
    assert "PULSE_INDEXER_APPLICATION_NAME" in environment
    assert "PULSE_ENRICHER_APPLICATION_NAME" in environment


def test_the_indexer_reads_only_the_table_stream_and_writes_only_the_domain():
    doc = _task_policy("indexer")
    assert _statement(doc, "ReadThePostsTableStream")["resources"] == ["${var.table_arn}/stream/*"]
    index = _statement(doc, "IndexIntoThePulseDomain")
    assert all(a.startswith("es:ESHttp") for a in index["actions"])
    assert index["resources"] == ["${var.opensearch_domain_arn}", "${var.opensearch_domain_arn}/*"]
    assert not any(a.startswith(("kinesis:", "secretsmanager:")) for a in _actions(doc))
    assert "dynamodb:PutItem" not in {a for st in statements(doc) for a in st["actions"]}


def test_the_dashboard_can_only_search():
    actions = _actions(_task_policy("dashboard"))
    assert actions == {"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"}


# --- encryption and exposure ----------------------------------------------------------------


def test_the_stream_table_queue_and_domain_are_encrypted_with_the_customer_key():
    stream = one("resource", "aws_kinesis_stream", "posts")
    assert stream.body["encryption_type"] == "KMS" and stream.body["kms_key_id"] == "${var.kms_key_arn}"
    table = one("resource", "aws_dynamodb_table", "posts")
    sse = first(table.body, "server_side_encryption")
    assert sse["enabled"] is True and sse["kms_key_arn"] == "${var.kms_key_arn}"
    queue = one("resource", "aws_sqs_queue", "dead_letter")
    assert queue.body["kms_master_key_id"] == "${var.kms_key_arn}"
    for domain in _domains():
        rest = first(domain.body, "encrypt_at_rest")
        assert rest["enabled"] is True and rest["kms_key_id"] == "${var.kms_key_arn}"
        assert first(domain.body, "node_to_node_encryption")["enabled"] is True
        endpoint = first(domain.body, "domain_endpoint_options")
        assert endpoint["enforce_https"] is True
    tls_policy = parse(MODULES / "search" / "main.tf")["locals"][0]["tls_policy"]
    assert tls_policy.startswith("Policy-Min-TLS-1-2")
    for key in find("resource", "aws_kms_key"):
        assert key.body["enable_key_rotation"] is True, key.where


def test_every_log_group_is_encrypted_and_has_a_retention():
    groups = find("resource", "aws_cloudwatch_log_group")
    assert len(groups) >= 6  # (several are for_each blocks)
    for group in groups:
        assert group.body.get("kms_key_id"), f"{group.where}: not KMS-encrypted"
        assert group.body.get("retention_in_days"), f"{group.where}: keeps logs forever"


def test_secrets_and_images_are_encrypted_and_scanned():
    secret = one("resource", "aws_secretsmanager_secret", "x_token")
    assert secret.body["kms_key_id"] == "${var.kms_key_arn}"
    assert "secret_string" not in str(blocks()), "a secret value must never be in Terraform"
    repo = one("resource", "aws_ecr_repository", "this")
    assert first(repo.body, "image_scanning_configuration")["scan_on_push"] is True
    assert first(repo.body, "encryption_configuration")["encryption_type"] == "KMS"
    assert repo.body["image_tag_mutability"] == "IMMUTABLE"
    assert one("resource", "aws_ecr_lifecycle_policy", "this").body["policy"]


def _domains() -> list[Block]:
    """The two shapes of the domain (exactly one exists: `ha` in prod, `single_node` in dev)."""
    domains = find("resource", "aws_opensearch_domain")
    assert {d.name for d in domains} == {"ha", "single_node"}
    assert {d.body["count"] for d in domains} == {
        "${var.dedicated_master_enabled ? 1 : 0}",
        "${var.dedicated_master_enabled ? 0 : 1}",
    }
    return domains


def test_the_search_domain_is_private_and_admits_only_the_indexer_dashboard_and_admin_roles():
    for domain in _domains():
        vpc = first(domain.body, "vpc_options")
        assert vpc and vpc["subnet_ids"], "domain must live in the VPC (no public endpoint)"
        security = first(domain.body, "advanced_security_options")
        assert security["enabled"] is True and security["anonymous_auth_enabled"] is False
        assert security["internal_user_database_enabled"] is False
    access = one("data", "aws_iam_policy_document", "access", under=MODULES / "search")
    readers, writers = statements(access)
    assert as_list(readers["principals"])[0]["identifiers"] == "${var.reader_role_arns}"
    assert set(readers["actions"]) == {"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"}
    writer_ids = as_list(writers["principals"])[0]["identifiers"]
    assert writer_ids == "${concat(var.writer_role_arns, [aws_iam_role.admin.arn])}"
    stack = one("module", "", "search", under=MODULES / "stack")
    assert stack.body["reader_role_arns"] == ['${module.services.task_role_arns["dashboard"]}']
    assert stack.body["writer_role_arns"] == ['${module.services.task_role_arns["indexer"]}']


def test_tasks_get_no_public_ip_and_accept_traffic_only_from_the_load_balancer():
    for name in SERVICES:
        service = one("resource", "aws_ecs_service", name)
        network = first(service.body, "network_configuration")
        assert network["assign_public_ip"] is False, name
        assert network["subnets"] == "${var.private_subnet_ids}", name
        breaker = first(service.body, "deployment_circuit_breaker")
        assert breaker == {"enable": True, "rollback": True}, name
    task_sg = one("resource", "aws_security_group", "task", under=SERVICES_MODULE)
    assert "ingress" not in task_sg.body
    rule = one("resource", "aws_security_group_rule", "dashboard_from_alb")
    assert rule.body["source_security_group_id"] == "${aws_security_group.alb.id}"


def test_data_stores_have_the_stream_ttl_and_recovery_the_pipeline_relies_on():
    table = one("resource", "aws_dynamodb_table", "posts")
    assert table.body["billing_mode"] == "PAY_PER_REQUEST"
    assert table.body["hash_key"] == "id"
    assert table.body["stream_view_type"] == "NEW_AND_OLD_IMAGES"
    assert first(table.body, "ttl") == {"attribute_name": "expires_at", "enabled": True}
    assert first(table.body, "point_in_time_recovery")["enabled"] is True
    stream = one("resource", "aws_kinesis_stream", "posts")
    assert first(stream.body, "stream_mode_details")["stream_mode"] == "${var.stream_mode}"


def test_the_network_has_the_endpoints_the_issue_asks_for():
    local = str(parse(MODULES / "network" / "main.tf")["locals"])
    wanted = ("kinesis-streams", "ecr.api", "ecr.dkr", "logs", "secretsmanager", "sqs", "dynamodb", "s3")
    for endpoint in wanted:
        assert f"'{endpoint}'" in local or f'"{endpoint}"' in local, endpoint
    assert one("resource", "aws_flow_log", "this").body["traffic_type"] == "ALL"
    default_sg = one("resource", "aws_default_security_group", "this")
    assert "ingress" not in default_sg.body and "egress" not in default_sg.body


# --- dashboard entry ------------------------------------------------------------------------


def test_the_dashboard_is_served_over_tls_and_only_after_authentication():
    listener = one("resource", "aws_lb_listener", "https")
    assert listener.body["protocol"] == "HTTPS" and listener.body["port"] == 443
    assert listener.body["ssl_policy"].startswith("ELBSecurityPolicy-TLS13")
    text = listener.text
    assert '"type": "authenticate-cognito"' in text and '"type": "authenticate-oidc"' in text
    forward = [a for a in as_list(listener.body.get("default_action")) if a.get("type") == "forward"]
    assert forward and forward[0]["order"] == 2, "forward must come after the auth action (order 1)"
    assert text.count('"order": 1') == 2  # the cognito and the oidc variants, exactly one applies
    assert len(find("resource", "aws_lb_listener")) == 1, "no plain-HTTP listener"
    lb = one("resource", "aws_lb", "dashboard")
    assert lb.body["drop_invalid_header_fields"] is True
    assert one("resource", "aws_wafv2_web_acl_association", "dashboard")


# --- scaling --------------------------------------------------------------------------------


def test_the_producer_is_pinned_at_one_task_even_during_deployments():
    producer = one("resource", "aws_ecs_service", "producer")
    assert producer.body["desired_count"] == "${var.producer_enabled ? 1 : 0}"
    assert producer.body["deployment_maximum_percent"] == 100
    assert producer.body["deployment_minimum_healthy_percent"] == 0
    scaled = parse(SERVICES_MODULE / "autoscaling.tf")["locals"][0]
    assert "producer" not in str(scaled["scaled"]) and "producer" not in str(scaled["scaled_service_names"])


def test_the_enricher_scales_on_lag_and_cpu_up_to_the_shard_count():
    stack_locals = str(parse(MODULES / "stack" / "main.tf")["locals"])
    assert "min(var.autoscaling.enricher.max, var.shard_count)" in stack_locals
    alarm = one("resource", "aws_cloudwatch_metric_alarm", "enricher_lag")
    assert "GetRecords.IteratorAgeMilliseconds" in alarm.text
    assert "SubscribeToShardEvent.MillisBehindLatest" in alarm.text
    assert alarm.body["alarm_actions"] == ['${aws_appautoscaling_policy.lag_scale_out["enricher"].arn}']
    cpu = one("resource", "aws_appautoscaling_policy", "cpu")
    assert "ECSServiceAverageCPUUtilization" in cpu.text


def test_the_indexer_scales_on_its_exported_lag_metric():
    alarm = one("resource", "aws_cloudwatch_metric_alarm", "indexer_lag")
    assert alarm.body["metric_name"] == "${var.indexer_lag_metric_name}"
    assert alarm.body["alarm_actions"] == ['${aws_appautoscaling_policy.lag_scale_out["indexer"].arn}']
    stack = one("module", "", "observability", under=MODULES / "stack")
    assert stack.body["cloudwatch_metrics"] == {"indexer": ["${var.indexer_lag_metric_name}"]}
    default = one("variable", "", "indexer_lag_metric_name", under=MODULES / "stack").body["default"]
    metrics_py = TF_ROOT.parents[1] / "services" / "indexer" / "src" / "pulse_indexer" / "metrics.py"
    if metrics_py.exists():  # the name must be one the indexer really exports
        assert f'"{default}"' in metrics_py.read_text()


# --- observability --------------------------------------------------------------------------


def test_every_service_has_a_collector_sidecar_scraping_its_metrics_port():
    taskdefs = parse(SERVICES_MODULE / "main.tf")["locals"][0]["container_definitions"]
    assert "adot-collector" in taskdefs and "AOT_CONFIG_CONTENT" in taskdefs
    ports = str(parse(MODULES / "stack" / "main.tf")["locals"][0]["metrics_ports"])
    for service, port in (("producer", 9101), ("enricher", 9102), ("indexer", 9103), ("dashboard", 8080)):
        assert re.search(rf"{service}\W+{port}", ports), service
    configs = str(parse(MODULES / "observability" / "main.tf")["locals"][0]["collector_configs"])
    assert "127.0.0.1:${port}" in configs and "prometheusremotewrite" in configs and "sigv4auth" in configs
    assert one("resource", "aws_prometheus_workspace", "this").body["kms_key_arn"]
    grafana = one("resource", "aws_grafana_workspace", "this")
    assert grafana.body["count"] == "${var.enable_grafana ? 1 : 0}"


def test_containers_run_read_only_as_the_image_user_with_health_checks():
    taskdefs = str(parse(SERVICES_MODULE / "main.tf")["locals"][0]["container_definitions"])
    assert taskdefs.count("readonlyRootFilesystem") == 2 and "'readonlyRootFilesystem': False" not in taskdefs
    assert "10001:10001" in taskdefs
    assert "/healthz" in taskdefs and "/healthcheck" in taskdefs


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_examples_cover_every_required_variable(env):
    required = {v.name for v in find("variable", under=ENVS / env) if "default" not in v.body}
    example = (ENVS / env / "terraform.tfvars.example").read_text()
    given = set(re.findall(r"^([a-z_]+)\s*=", example, flags=re.M))
    assert required - {"image_tag"} <= given, f"envs/{env}: example lacks {required - given}"


def test_every_role_that_writes_to_an_encrypted_store_may_generate_data_keys():
    for service in SERVICES:
        actions = _actions(_task_policy(service))
        writes = {"sqs:SendMessage", "kinesis:PutRecords", "dynamodb:PutItem"} & actions
        if writes:
            assert "kms:GenerateDataKey" in actions, f"{service} writes {writes} but cannot encrypt"
        if {"kinesis:GetRecords", "dynamodb:GetRecords"} & actions:
            assert "kms:Decrypt" in actions, f"{service} reads encrypted records but cannot decrypt"


def test_terraform_files_are_canonically_formatted():
    import shutil
    import subprocess

    binary = shutil.which("terraform") or shutil.which("tofu")
    if binary is None:
        pytest.skip("neither terraform nor tofu is installed (fmt needs no provider, only the binary)")
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TF_ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "TF_CLI_CONFIG_FILE": "/dev/null"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_repository_alert_rules_are_loaded_into_amp_and_routed_to_an_encrypted_topic():
    stack = one("module", "", "observability", under=MODULES / "stack")
    rules_expr = stack.body["alert_rules_yaml"]
    assert rules_expr == '${file("${path.module}/../../../prometheus/alerts.yml")}'
    rules = MODULES / "stack" / ".." / ".." / ".." / "prometheus" / "alerts.yml"
    assert rules.resolve().is_file(), "deploy/prometheus/alerts.yml is what AMP loads"
    assert "pulse-" in rules.read_text(), "the rules select jobs named pulse-<service>"
    configs = str(parse(MODULES / "observability" / "main.tf")["locals"][0]["collector_configs"])
    assert "pulse-${svc}" in configs and "service = svc" in configs, "jobs and labels the rules expect"
    namespace = one("resource", "aws_prometheus_rule_group_namespace", "alerts")
    assert namespace.body["data"] == "${var.alert_rules_yaml}"
    manager = one("resource", "aws_prometheus_alert_manager_definition", "this")
    assert "aws_sns_topic.alerts.arn" in manager.text and "sigv4" in manager.text
    topic = one("resource", "aws_sns_topic", "alerts")
    assert topic.body["kms_master_key_id"] == "${var.kms_key_arn}"
    policy = one("data", "aws_iam_policy_document", "alerts_topic")
    (st,) = statements(policy)
    assert as_list(st["principals"])[0]["identifiers"] == ["aps.amazonaws.com"]
    assert {c["variable"] for c in as_list(st["condition"])} == {"aws:SourceAccount", "aws:SourceArn"}


def test_no_terraform_working_data_is_committed():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "deploy"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert tracked, "not a git checkout?"
    leaked = [p for p in tracked if "/.terraform/" in p or p.endswith((".tfstate", ".backup", "tfplan"))]
    assert not leaked, leaked
