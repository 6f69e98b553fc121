variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name, e.g. pulse-dev."
}

variable "vpc_id" {
  type        = string
  description = "VPC the tasks and the load balancer run in."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets for the tasks."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets for the dashboard load balancer."
}

variable "kms_key_arn" {
  type        = string
  description = "Data KMS key ARN (stream, table, queue, secret, ECS Exec sessions)."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the service, ECS Exec and WAF log groups and of ALB access logs, in days."
  default     = 365
}

variable "image_repository_urls" {
  type        = map(string)
  description = "ECR repository URL per service (from the ecr module)."
}

variable "image_repository_arns" {
  type        = map(string)
  description = "ECR repository ARN per service (the execution role may pull only these)."
}

variable "image_tag" {
  type        = string
  description = "Image tag to deploy (the git sha that make build-push pushed)."
}

variable "cpu_architecture" {
  type        = string
  description = "Task CPU architecture; must match the images (X86_64 or ARM64)."
  default     = "X86_64"
  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "adot_image" {
  type        = string
  description = "ADOT collector image for the metrics sidecar (pinned version), as named in public.ecr.aws; pulled through the ECR cache."
  default     = "aws-observability/aws-otel-collector:v0.47.0"
}

variable "public_image_cache_prefix" {
  type        = string
  description = "<registry>/<prefix> under which ECR's pull-through cache serves public.ecr.aws images (ecr module)."
}

variable "public_image_cache_repository_prefix" {
  type        = string
  description = "Repository name prefix of the pull-through cache (the execution role may create and pull only these)."
}

variable "collector_configs" {
  type        = map(string)
  description = "ADOT collector YAML per service (from the observability module)."
}

variable "task_sizes" {
  type = map(object({
    cpu    = number
    memory = number
  }))
  description = "Fargate CPU units and memory (MiB) per service."
  default = {
    producer  = { cpu = 256, memory = 512 }
    enricher  = { cpu = 1024, memory = 2048 }
    indexer   = { cpu = 512, memory = 1024 }
    dashboard = { cpu = 512, memory = 1024 }
  }
}

variable "autoscaling" {
  type = map(object({
    min                   = number
    max                   = number
    cpu_target            = number
    lag_threshold_seconds = number
  }))
  description = "Autoscaling bounds per scaled service (enricher, indexer, dashboard); the enricher's max should equal the shard count."
  default = {
    enricher  = { min = 1, max = 2, cpu_target = 60, lag_threshold_seconds = 30 }
    indexer   = { min = 1, max = 4, cpu_target = 60, lag_threshold_seconds = 30 }
    dashboard = { min = 1, max = 3, cpu_target = 60, lag_threshold_seconds = 0 }
  }
}

variable "producer_enabled" {
  type        = bool
  description = "Run the producer (one task) or keep it at zero, e.g. until the X token is set."
  default     = true
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into tasks (adds the SSM message-channel permissions to task roles)."
  default     = false
}

variable "extra_environment" {
  type        = map(map(string))
  description = "Additional environment variables per service (service -> name -> value); never secrets."
  default     = {}
}

variable "stream_name" {
  type        = string
  description = "Name of the Kinesis posts stream."
}

variable "stream_arn" {
  type        = string
  description = "ARN of the Kinesis posts stream."
}

variable "table_name" {
  type        = string
  description = "Name of the DynamoDB posts table."
}

variable "table_arn" {
  type        = string
  description = "ARN of the DynamoDB posts table."
}

variable "table_stream_arn" {
  type        = string
  description = "ARN of the posts table's DynamoDB stream."
}

variable "dlq_name" {
  type        = string
  description = "Name of the dead-letter queue."
}

variable "dlq_arn" {
  type        = string
  description = "ARN of the dead-letter queue."
}

variable "kcl_application_names" {
  type        = map(string)
  description = "KCL application name of the enricher and of the indexer (lease tables and metrics namespace)."
}

variable "kcl_lease_policy_json" {
  type        = map(string)
  description = "IAM policy JSON for the KCL lease tables of the enricher and of the indexer (from the data module)."
}

variable "dynamodb_streams_endpoint_url" {
  type        = string
  description = "URL of the DynamoDB Streams VPC endpoint (it has no private DNS); given to the indexer."
}

variable "endpoints_security_group_id" {
  type        = string
  description = "Security group of the interface VPC endpoints (every task may send HTTPS to it)."
}

variable "gateway_prefix_list_ids" {
  type        = map(string)
  description = "Prefix list ID of the S3 and DynamoDB gateway endpoints (keys s3, dynamodb)."
}

variable "opensearch_security_group_id" {
  type        = string
  description = "Security group of the OpenSearch domain (the indexer, dashboard and admin task may send HTTPS to it)."
}

variable "opensearch_admin_role_arn" {
  type        = string
  description = "Break-glass OpenSearch security admin role (search module): task role of the one-off opensearch-admin task only."
}

variable "opensearch_url" {
  type        = string
  description = "HTTPS URL of the OpenSearch domain."
}

variable "opensearch_domain_arn" {
  type        = string
  description = "ARN of the OpenSearch domain."
}

variable "amp_workspace_arn" {
  type        = string
  description = "ARN of the AMP workspace the collectors remote-write to."
}

variable "emf_log_group_arn" {
  type        = string
  description = "ARN of the log group the indexer's collector writes EMF metrics to."
}

variable "cloudwatch_namespace" {
  type        = string
  description = "CloudWatch namespace of the metrics the collectors export for autoscaling."
}

variable "indexer_lag_metric_name" {
  type        = string
  description = "Prometheus/CloudWatch name of the indexer's stream-lag gauge (seconds)."
}

variable "x_token_env_name" {
  type        = string
  description = "Environment variable the X bearer token is injected into in the producer container."
  default     = "PULSE_PRODUCER_X_BEARER_TOKEN"
}

variable "secret_recovery_window_days" {
  type        = number
  description = "Days a deleted X token secret stays recoverable (0 deletes at once)."
  default     = 30
}

variable "dashboard_domain_name" {
  type        = string
  description = "DNS name users open the dashboard at (covered by dashboard_certificate_arn)."
}

variable "dashboard_certificate_arn" {
  type        = string
  description = "ACM certificate ARN for the dashboard's HTTPS listener."
}

variable "dashboard_allowed_cidrs" {
  type        = list(string)
  description = "Client CIDRs allowed to reach the dashboard load balancer on 443."
}

variable "dashboard_allowed_users" {
  type        = list(string)
  description = "E-mail addresses or \"@domain\"s the dashboard admits (checked on the claims the load balancer signed); empty admits whoever the sign-in admits. Required with an external OIDC provider."
  default     = []
  validation {
    condition     = alltrue([for u in var.dashboard_allowed_users : can(regex("^([^@\\s,]+@[^@\\s,]+\\.[^@\\s,]+|@[^@\\s,]+\\.[^@\\s,]+)$", u))])
    error_message = "dashboard_allowed_users entries must be e-mail addresses (you@example.com) or domains written @example.com."
  }
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 hosted zone to create the dashboard alias record in (null: manage DNS yourself)."
  default     = null
}

variable "oidc" {
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
  })
  description = "External OIDC provider for dashboard sign-in (its secret is oidc_client_secret); null (default) creates a Cognito user pool instead."
  default     = null
}

variable "oidc_client_secret" {
  type        = string
  description = "Client secret of the OIDC provider (with oidc); pass it as TF_VAR_oidc_client_secret."
  default     = null
  sensitive   = true
}

variable "cognito_domain_prefix" {
  type        = string
  description = "Cognito hosted-UI domain prefix (default: <name_prefix>-<account id>)."
  default     = null
}

variable "cognito_deletion_protection" {
  type        = bool
  description = "Protect the Cognito user pool from deletion."
  default     = true
}

variable "session_timeout_seconds" {
  type        = number
  description = "Dashboard sign-in session lifetime at the load balancer, in seconds."
  default     = 28800
}

variable "waf_rate_limit_per_5min" {
  type        = number
  description = "Requests per client IP per 5 minutes before WAF blocks it."
  default     = 2000
}

variable "alb_deletion_protection" {
  type        = bool
  description = "Protect the dashboard load balancer from deletion."
  default     = true
}

variable "alb_logs_force_destroy" {
  type        = bool
  description = "Let terraform destroy empty the ALB access-log bucket."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}
