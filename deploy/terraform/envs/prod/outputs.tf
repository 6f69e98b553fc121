# Everything make push / make deploy and deploy/README.md use.
output "region" {
  description = "AWS region of the deployment."
  value       = module.pulse.region
}

output "ecr_registry" {
  description = "ECR registry host for docker login (make push reads it)."
  value       = module.pulse.ecr_registry
}

output "image_repository_prefix" {
  description = "Images are <this>/<service>:<tag> (make push reads it)."
  value       = module.pulse.image_repository_prefix
}

output "ecr_repository_urls" {
  description = "ECR repository URL per service (make push reads it)."
  value       = module.pulse.ecr_repository_urls
}

output "ecs_cluster_name" {
  description = "ECS cluster name."
  value       = module.pulse.ecs_cluster_name
}

output "ecs_service_names" {
  description = "ECS service name per Pulse service."
  value       = module.pulse.ecs_service_names
}

output "autoscaling_bounds" {
  description = "min/max task counts per autoscaled service."
  value       = module.pulse.autoscaling_bounds
}

output "stream_name" {
  description = "Kinesis posts stream."
  value       = module.pulse.stream_name
}

output "table_name" {
  description = "DynamoDB posts table."
  value       = module.pulse.table_name
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.pulse.dlq_url
}

output "opensearch_url" {
  description = "OpenSearch endpoint (VPC only)."
  value       = module.pulse.opensearch_url
}

output "x_token_secret_arn" {
  description = "Secret to put the X bearer token into."
  value       = module.pulse.x_token_secret_arn
}

output "task_role_arns" {
  description = "Task role ARN per service."
  value       = module.pulse.task_role_arns
}

output "dashboard_url" {
  description = "Dashboard URL."
  value       = module.pulse.dashboard_url
}

output "alb_dns_name" {
  description = "Load balancer DNS name (CNAME/alias target for the dashboard)."
  value       = module.pulse.alb_dns_name
}

output "cognito_user_pool_id" {
  description = "Cognito user pool for dashboard users."
  value       = module.pulse.cognito_user_pool_id
}

output "amp_workspace_id" {
  description = "AMP workspace ID."
  value       = module.pulse.amp_workspace_id
}

output "amp_query_url" {
  description = "AMP query endpoint."
  value       = module.pulse.amp_query_url
}

output "grafana_endpoint" {
  description = "Managed Grafana URL (null when disabled)."
  value       = module.pulse.grafana_endpoint
}

output "log_group_names" {
  description = "CloudWatch log group per service."
  value       = module.pulse.log_group_names
}

output "private_subnet_ids" {
  description = "Private subnets of the tasks (deploy/scripts/run-once.sh)."
  value       = module.pulse.private_subnet_ids
}

output "task_security_group_ids" {
  description = "Task security group per service (deploy/scripts/run-once.sh)."
  value       = module.pulse.task_security_group_ids
}

output "alerts_topic_arn" {
  description = "SNS topic the Prometheus alerts go to."
  value       = module.pulse.alerts_topic_arn
}
