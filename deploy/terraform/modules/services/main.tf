# ECS on Fargate for the four Pulse services. Each task runs the service container plus an
# ADOT collector sidecar that scrapes the service's metrics port and remote-writes to AMP.
#
#   producer  (9101)  pinned at exactly one task: X allows one streaming connection.
#   enricher  (9102)  KCL MultiLangDaemon; autoscaled on Kinesis lag and CPU, at most one
#                     task per shard (a KCL worker without a lease does nothing).
#   indexer   (9103)  DynamoDB stream -> OpenSearch on the KCL (DynamoDB Streams Kinesis Adapter);
#                     autoscaled on stream lag and CPU.
#   dashboard (8080)  behind an HTTPS ALB that authenticates (Cognito or OIDC), with WAF.
#
# Files: main.tf (cluster, logs, task definitions, services), iam.tf (roles), network.tf
# (security groups), alb.tf (load balancer, auth, WAF), autoscaling.tf.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  ports = {
    producer  = 9101
    enricher  = 9102
    indexer   = 9103
    dashboard = 8080
  }
  service_names = toset(keys(local.ports))

  common_environment = {
    PULSE_AWS_REGION        = local.region
    PULSE_STREAM_NAME       = var.stream_name
    PULSE_TABLE_NAME        = var.table_name
    PULSE_DLQ_NAME          = var.dlq_name
    PULSE_OPENSEARCH_URL    = var.opensearch_url
    PULSE_OPENSEARCH_AUTH   = "sigv4"
    PULSE_TRACKING_CONFIG   = "/app/config/tracking.yaml"
    PYTHONUNBUFFERED        = "1"
    PYTHONDONTWRITEBYTECODE = "1"
    HOME                    = "/tmp"
  }

  service_environment = {
    producer = {
      PULSE_PRODUCER_METRICS_PORT = "9101"
    }
    enricher = {
      PULSE_ENRICHER_METRICS_PORT     = "9102"
      PULSE_ENRICHER_APPLICATION_NAME = var.kcl_application_names["enricher"]
    }
    indexer = {
      PULSE_INDEXER_METRICS_PORT = "9103"
      # The KCL application: its lease table and the two tables KCL 3 adds (-CoordinatorState,
      # -WorkerMetricStats), granted by the data module's KCL policy.
      PULSE_INDEXER_APPLICATION_NAME = var.kcl_application_names["indexer"]
      PULSE_INDEXER_MAPPINGS_DIR     = "/app/mappings"
      # DynamoDB Streams' VPC endpoint has no private DNS: the SDKs (boto3 and the Java SDK under
      # the KCL) are pointed at it by the service-specific endpoint variable.
      AWS_ENDPOINT_URL_DYNAMODB_STREAMS = var.dynamodb_streams_endpoint_url
    }
    dashboard = {
      PULSE_DASHBOARD_HOST = "0.0.0.0"
      PULSE_DASHBOARD_PORT = "8080"
      # The ALB signs in every user (Cognito or the OIDC provider) and passes the claims it signed
      # in x-amzn-oidc-data; the dashboard verifies that signature against this load balancer's
      # ARN and matches the verified e-mail against the allow-list (empty: whoever the user pool
      # admits).
      PULSE_DASHBOARD_AUTH_MODE       = "oidc-header"
      PULSE_DASHBOARD_OIDC_SIGNER_ARN = aws_lb.dashboard.arn
      PULSE_DASHBOARD_OIDC_ALLOWED    = jsonencode(var.dashboard_allowed_users)
    }
  }

  # Every container: no Linux capability, the init process reaps children.
  linux_parameters = {
    initProcessEnabled = true
    capabilities       = { add = [], drop = ["ALL"] }
  }

  # The collector image comes through the ECR pull-through cache (no task reaches public.ecr.aws).
  collector_image = "${var.public_image_cache_prefix}/${var.adot_image}"

  # The images have no ENTRYPOINT; this is the whole command (as in each image's CMD).
  commands = {
    producer  = ["pulse-producer", "x"]
    enricher  = ["pulse-enricher"]
    indexer   = ["pulse-indexer", "run"]
    dashboard = ["pulse-dashboard", "serve"]
  }

  container_definitions = {
    for svc in local.service_names : svc => jsonencode([
      {
        name                   = svc
        image                  = "${var.image_repository_urls[svc]}:${var.image_tag}"
        essential              = true
        command                = local.commands[svc]
        user                   = "10001:10001"
        readonlyRootFilesystem = true
        portMappings           = [{ containerPort = local.ports[svc], protocol = "tcp" }]
        environment = [
          for k, v in merge(local.common_environment, local.service_environment[svc], lookup(var.extra_environment, svc, {})) :
          { name = k, value = v }
        ]
        # Only the producer gets the X token, injected by ECS (execution role) at task start.
        secrets     = svc == "producer" ? [{ name = var.x_token_env_name, valueFrom = aws_secretsmanager_secret.x_token.arn }] : null
        mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
        healthCheck = {
          command     = ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${local.ports[svc]}/healthz', timeout=3)"]
          interval    = 30
          timeout     = 5
          retries     = 3
          startPeriod = contains(["enricher", "indexer"], svc) ? 120 : 30 # the KCL daemons start slowly
        }
        linuxParameters = local.linux_parameters
        stopTimeout     = 60
        logConfiguration = {
          logDriver = "awslogs"
          options = {
            awslogs-group         = aws_cloudwatch_log_group.service[svc].name
            awslogs-region        = local.region
            awslogs-stream-prefix = svc
          }
        }
      },
      {
        name                   = "adot-collector"
        image                  = local.collector_image
        essential              = false
        user                   = "10001:10001"
        readonlyRootFilesystem = true
        linuxParameters        = local.linux_parameters
        environment            = [{ name = "AOT_CONFIG_CONTENT", value = var.collector_configs[svc] }]
        mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
        healthCheck = {
          command     = ["CMD", "/healthcheck"]
          interval    = 30
          timeout     = 5
          retries     = 3
          startPeriod = 15
        }
        logConfiguration = {
          logDriver = "awslogs"
          options = {
            awslogs-group         = aws_cloudwatch_log_group.service[svc].name
            awslogs-region        = local.region
            awslogs-stream-prefix = "adot"
          }
        }
      },
    ])
  }
}

# --- Cluster --------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "exec" {
  name              = "/pulse/${var.name_prefix}/ecs-exec"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_cluster" "this" {
  name = var.name_prefix

  setting {
    name  = "containerInsights"
    value = "enabled"
  }

  configuration {
    execute_command_configuration {
      kms_key_id = var.kms_key_arn
      logging    = "OVERRIDE"
      log_configuration {
        cloud_watch_encryption_enabled = true
        cloud_watch_log_group_name     = aws_cloudwatch_log_group.exec.name
      }
    }
  }

  tags = var.tags
}

resource "aws_ecs_cluster_capacity_providers" "this" {
  cluster_name       = aws_ecs_cluster.this.name
  capacity_providers = ["FARGATE"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_cloudwatch_log_group" "service" {
  for_each          = local.service_names
  name              = "/pulse/${var.name_prefix}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# --- The X bearer token ---------------------------------------------------------------------
# Terraform creates the secret, never its value: put the value with
# `aws secretsmanager put-secret-value` (deploy/README.md), so it is in no state file or layer.

resource "aws_secretsmanager_secret" "x_token" {
  #checkov:skip=CKV2_AWS_57:X bearer tokens are issued by X and cannot be rotated by a Lambda; rotation is the documented manual procedure in deploy/README.md
  name                    = "${var.name_prefix}/x-bearer-token"
  description             = "Bearer token of the X streaming API used by the Pulse producer"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = var.tags
}

# --- Task definitions and services ------------------------------------------------------------

resource "aws_ecs_task_definition" "this" {
  for_each                 = local.service_names
  family                   = "${var.name_prefix}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.task_sizes[each.key].cpu
  memory                   = var.task_sizes[each.key].memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task[each.key].arn
  container_definitions    = local.container_definitions[each.key]

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  tags = var.tags
}

# --- The OpenSearch security admin: a one-off task, never a service ----------------------------
# `deploy/scripts/run-once.sh opensearch-admin` runs it after the domain is created (and after
# any role change): it applies Pulse's fine-grained-access-control roles and mappings with the
# break-glass admin role, which no service has.

resource "aws_cloudwatch_log_group" "opensearch_admin" {
  name              = "/pulse/${var.name_prefix}/opensearch-admin"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_task_definition" "opensearch_admin" {
  family                   = "${var.name_prefix}-opensearch-admin"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = var.opensearch_admin_role_arn
  container_definitions = jsonencode([{
    name                   = "opensearch-admin"
    image                  = "${var.image_repository_urls["indexer"]}:${var.image_tag}"
    essential              = true
    command                = ["python", "/app/tools/opensearch_security.py", "apply"]
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    linuxParameters        = local.linux_parameters
    environment = [for k, v in {
      PULSE_AWS_REGION                    = local.region
      PULSE_OPENSEARCH_URL                = var.opensearch_url
      PULSE_OPENSEARCH_INDEXER_ROLE_ARN   = aws_iam_role.task["indexer"].arn
      PULSE_OPENSEARCH_DASHBOARD_ROLE_ARN = aws_iam_role.task["dashboard"].arn
      PULSE_OPENSEARCH_ADMIN_ROLE_ARN     = var.opensearch_admin_role_arn
      HOME                                = "/tmp"
    } : { name = k, value = v }]
    mountPoints = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.opensearch_admin.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "opensearch-admin"
      }
    }
  }])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = "tmp"
  }

  tags = var.tags
}

resource "aws_ecs_service" "producer" {
  name                   = "producer"
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.this["producer"].arn
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = var.enable_execute_command
  propagate_tags         = "SERVICE"
  # Exactly one connection to X: never run two producers, not even during a deployment.
  desired_count                      = var.producer_enabled ? 1 : 0
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.task["producer"].id]
    assign_public_ip = false
  }

  tags = var.tags
}

resource "aws_ecs_service" "enricher" {
  name                               = "enricher"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["enricher"].arn
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = var.enable_execute_command
  propagate_tags                     = "SERVICE"
  desired_count                      = var.autoscaling.enricher.min
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.task["enricher"].id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by autoscaling after the first apply
  }

  tags = var.tags
}

resource "aws_ecs_service" "indexer" {
  name                               = "indexer"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["indexer"].arn
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = var.enable_execute_command
  propagate_tags                     = "SERVICE"
  desired_count                      = var.autoscaling.indexer.min
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.task["indexer"].id]
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  tags = var.tags
}

resource "aws_ecs_service" "dashboard" {
  name                               = "dashboard"
  cluster                            = aws_ecs_cluster.this.id
  task_definition                    = aws_ecs_task_definition.this["dashboard"].arn
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  enable_execute_command             = var.enable_execute_command
  propagate_tags                     = "SERVICE"
  desired_count                      = var.autoscaling.dashboard.min
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  health_check_grace_period_seconds  = 60

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.task["dashboard"].id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.dashboard.arn
    container_name   = "dashboard"
    container_port   = 8080
  }

  lifecycle {
    ignore_changes = [desired_count]
  }

  depends_on = [aws_lb_listener.https]
  tags       = var.tags
}
