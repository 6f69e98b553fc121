# Amazon Managed Service for Prometheus (AMP) and the configuration of the ADOT collector
# sidecar that runs in every Pulse task, scraping that task's metrics port and remote-writing
# to AMP (SigV4). Selected metrics are also exported to CloudWatch (EMF) where autoscaling
# needs them (the indexer's stream lag). Optionally an Amazon Managed Grafana workspace.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  region           = data.aws_region.current.region
  cw_namespace     = "Pulse/${var.name_prefix}"
  remote_write_url = "${aws_prometheus_workspace.this.prometheus_endpoint}api/v1/remote_write"

  collector_configs = {
    for svc, port in var.scrape_targets : svc => yamlencode({
      extensions = {
        sigv4auth    = { region = local.region, service = "aps" }
        health_check = { endpoint = "127.0.0.1:13133" }
      }
      receivers = {
        prometheus = {
          config = {
            global = { scrape_interval = var.scrape_interval, scrape_timeout = "10s" }
            scrape_configs = [{
              job_name       = "pulse-${svc}"
              metrics_path   = "/metrics"
              static_configs = [{ targets = ["127.0.0.1:${port}"], labels = { service = svc, env = var.name_prefix } }]
            }]
          }
        }
      }
      processors = merge(
        { batch = {} },
        { for k, v in {
          "filter/cloudwatch" = { metrics = { include = { match_type = "strict", metric_names = lookup(var.cloudwatch_metrics, svc, []) } } }
        } : k => v if length(lookup(var.cloudwatch_metrics, svc, [])) > 0 }
      )
      exporters = merge(
        {
          prometheusremotewrite = {
            endpoint                         = local.remote_write_url
            auth                             = { authenticator = "sigv4auth" }
            resource_to_telemetry_conversion = { enabled = true }
          }
        },
        { for k, v in {
          awsemf = {
            namespace               = local.cw_namespace
            log_group_name          = aws_cloudwatch_log_group.emf.name
            log_stream_name         = svc
            dimension_rollup_option = "NoDimensionRollup"
            metric_declarations     = [{ dimensions = [["service"]], metric_name_selectors = lookup(var.cloudwatch_metrics, svc, []) }]
          }
        } : k => v if length(lookup(var.cloudwatch_metrics, svc, [])) > 0 }
      )
      service = {
        extensions = ["sigv4auth", "health_check"]
        pipelines = merge(
          { metrics = { receivers = ["prometheus"], processors = ["batch"], exporters = ["prometheusremotewrite"] } },
          { for k, v in {
            "metrics/cloudwatch" = { receivers = ["prometheus"], processors = ["filter/cloudwatch", "batch"], exporters = ["awsemf"] }
          } : k => v if length(lookup(var.cloudwatch_metrics, svc, [])) > 0 }
        )
      }
    })
  }
}

resource "aws_cloudwatch_log_group" "amp" {
  name              = "/pulse/${var.name_prefix}/amp"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

resource "aws_prometheus_workspace" "this" {
  alias       = var.name_prefix
  kms_key_arn = var.kms_key_arn

  logging_configuration {
    log_group_arn = "${aws_cloudwatch_log_group.amp.arn}:*"
  }

  tags = var.tags
}

# EMF log group the collectors write the CloudWatch-exported metrics to.
resource "aws_cloudwatch_log_group" "emf" {
  name              = "/pulse/${var.name_prefix}/emf-metrics"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

# --- Optional Amazon Managed Grafana ---------------------------------------------------------

data "aws_iam_policy_document" "grafana_assume" {
  statement {
    sid     = "GrafanaAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["grafana.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "grafana" {
  statement {
    sid = "QueryPulseWorkspace"
    actions = [
      "aps:DescribeWorkspace",
      "aps:QueryMetrics",
      "aps:GetLabels",
      "aps:GetSeries",
      "aps:GetMetricMetadata",
    ]
    resources = [aws_prometheus_workspace.this.arn]
  }
}

resource "aws_iam_role" "grafana" {
  count              = var.enable_grafana ? 1 : 0
  name               = "${var.name_prefix}-grafana"
  assume_role_policy = data.aws_iam_policy_document.grafana_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "grafana" {
  count  = var.enable_grafana ? 1 : 0
  name   = "query-amp"
  role   = aws_iam_role.grafana[0].id
  policy = data.aws_iam_policy_document.grafana.json
}

resource "aws_grafana_workspace" "this" {
  count                    = var.enable_grafana ? 1 : 0
  name                     = var.name_prefix
  account_access_type      = "CURRENT_ACCOUNT"
  authentication_providers = ["AWS_SSO"]
  permission_type          = "CUSTOMER_MANAGED"
  data_sources             = ["PROMETHEUS"]
  role_arn                 = aws_iam_role.grafana[0].arn
  tags                     = var.tags
}

# --- Alerting: the repository's Prometheus rules in AMP, notifications through SNS --------------
# deploy/prometheus/alerts.yml (owned by observability) is written for both the local Prometheus
# and AMP: jobs are pulse-<service> and every series has a `service` label, as the collectors
# above scrape them.

resource "aws_prometheus_rule_group_namespace" "alerts" {
  count        = var.alert_rules_yaml == null ? 0 : 1
  name         = "pulse"
  workspace_id = aws_prometheus_workspace.this.id
  data         = var.alert_rules_yaml
  tags         = var.tags
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-alerts"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "alerts_topic" {
  statement {
    sid       = "PulseAmpWorkspacePublishesAlerts"
    actions   = ["sns:Publish", "sns:GetTopicAttributes"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["aps.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_prometheus_workspace.this.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts_topic.json
}

resource "aws_sns_topic_subscription" "alert_email" {
  count     = var.alert_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

resource "aws_prometheus_alert_manager_definition" "this" {
  workspace_id = aws_prometheus_workspace.this.id
  definition = yamlencode({
    alertmanager_config = yamlencode({
      route = {
        receiver        = "sns"
        group_by        = ["alertname", "service"]
        group_wait      = "30s"
        group_interval  = "5m"
        repeat_interval = "4h"
      }
      receivers = [{
        name = "sns"
        sns_configs = [{
          topic_arn  = aws_sns_topic.alerts.arn
          sigv4      = { region = local.region }
          subject    = "[${var.name_prefix}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.severity }})"
          attributes = { severity = "{{ .CommonLabels.severity }}" }
        }]
      }]
    })
  })
}
