output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service name per Pulse service."
  value = {
    producer  = aws_ecs_service.producer.name
    enricher  = aws_ecs_service.enricher.name
    indexer   = aws_ecs_service.indexer.name
    dashboard = aws_ecs_service.dashboard.name
  }
}

output "task_role_arns" {
  description = "Task role ARN per service."
  value       = { for k, r in aws_iam_role.task : k => r.arn }
}

output "task_security_group_ids" {
  description = "Task security group ID per service (and of the one-off opensearch-admin task)."
  value       = local.task_group_ids
}

output "execution_role_arn" {
  description = "ARN of the shared ECS task execution role."
  value       = aws_iam_role.execution.arn
}

output "x_token_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the X bearer token (value set out of band)."
  value       = aws_secretsmanager_secret.x_token.arn
}

output "dashboard_url" {
  description = "URL of the dashboard."
  value       = "https://${var.dashboard_domain_name}"
}

output "alb_dns_name" {
  description = "DNS name of the dashboard load balancer (point dashboard_domain_name at it)."
  value       = aws_lb.dashboard.dns_name
}

output "cognito_user_pool_id" {
  description = "Cognito user pool to invite dashboard users into (null with OIDC)."
  value       = local.use_oidc ? null : aws_cognito_user_pool.dashboard[0].id
}

output "log_group_names" {
  description = "CloudWatch log group per service (and of the one-off opensearch-admin task)."
  value       = merge({ for k, lg in aws_cloudwatch_log_group.service : k => lg.name }, { "opensearch-admin" = aws_cloudwatch_log_group.opensearch_admin.name })
}
