output "workspace_arn" {
  description = "ARN of the AMP workspace."
  value       = aws_prometheus_workspace.this.arn
}

output "workspace_id" {
  description = "ID of the AMP workspace."
  value       = aws_prometheus_workspace.this.id
}

output "remote_write_url" {
  description = "AMP remote-write URL the collectors send to."
  value       = local.remote_write_url
}

output "query_url" {
  description = "AMP query endpoint (PromQL over SigV4)."
  value       = aws_prometheus_workspace.this.prometheus_endpoint
}

output "collector_configs" {
  description = "ADOT collector configuration (YAML) per service, for the AOT_CONFIG_CONTENT variable."
  value       = local.collector_configs
}

output "emf_log_group_arn" {
  description = "ARN of the log group the collectors write EMF metrics to."
  value       = aws_cloudwatch_log_group.emf.arn
}

output "cloudwatch_namespace" {
  description = "CloudWatch namespace of the metrics exported for autoscaling."
  value       = local.cw_namespace
}

output "grafana_endpoint" {
  description = "URL of the Managed Grafana workspace, or null when disabled."
  value       = var.enable_grafana ? aws_grafana_workspace.this[0].endpoint : null
}

output "alerts_topic_arn" {
  description = "SNS topic AMP's alert manager sends alerts to (subscribe more endpoints to it)."
  value       = aws_sns_topic.alerts.arn
}
