output "region" {
  description = "AWS region of the deployment."
  value       = data.aws_region.current.region
}

output "ecr_registry" {
  description = "ECR registry host for docker login."
  value       = module.ecr.registry
}

output "image_repository_prefix" {
  description = "Images are <this>/<service>:<tag> (make push reads it)."
  value       = "${module.ecr.registry}/${var.name_prefix}"
}

output "ecr_repository_urls" {
  description = "ECR repository URL per service."
  value       = module.ecr.repository_urls
}

output "ecs_cluster_name" {
  description = "ECS cluster name."
  value       = module.services.cluster_name
}

output "ecs_service_names" {
  description = "ECS service name per Pulse service."
  value       = module.services.service_names
}

output "autoscaling_bounds" {
  description = "min/max task counts per autoscaled service (producer is always 1)."
  value       = { for k, v in local.autoscaling : k => { min = v.min, max = v.max } }
}

output "stream_name" {
  description = "Kinesis posts stream."
  value       = module.data.stream_name
}

output "table_name" {
  description = "DynamoDB posts table."
  value       = module.data.table_name
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.data.dlq_url
}

output "opensearch_url" {
  description = "OpenSearch domain endpoint (reachable from inside the VPC only)."
  value       = module.search.endpoint_url
}

output "x_token_secret_arn" {
  description = "Secret to put the X bearer token into."
  value       = module.services.x_token_secret_arn
}

output "task_role_arns" {
  description = "Task role ARN per service."
  value       = module.services.task_role_arns
}

output "dashboard_url" {
  description = "Dashboard URL."
  value       = module.services.dashboard_url
}

output "alb_dns_name" {
  description = "Load balancer DNS name to point the dashboard's DNS record at."
  value       = module.services.alb_dns_name
}

output "cognito_user_pool_id" {
  description = "Cognito user pool for dashboard users (null with OIDC)."
  value       = module.services.cognito_user_pool_id
}

output "amp_workspace_id" {
  description = "AMP workspace ID."
  value       = module.observability.workspace_id
}

output "amp_query_url" {
  description = "AMP query endpoint."
  value       = module.observability.query_url
}

output "grafana_endpoint" {
  description = "Managed Grafana URL (null when disabled)."
  value       = module.observability.grafana_endpoint
}

output "log_group_names" {
  description = "CloudWatch log group per service."
  value       = module.services.log_group_names
}

output "private_subnet_ids" {
  description = "Private subnets of the tasks (for one-off tasks: deploy/scripts/run-once.sh)."
  value       = module.network.private_subnet_ids
}

output "task_security_group_ids" {
  description = "Task security group per service (for one-off tasks)."
  value       = module.services.task_security_group_ids
}

output "alerts_topic_arn" {
  description = "SNS topic the alerts go to."
  value       = module.observability.alerts_topic_arn
}
