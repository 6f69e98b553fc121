variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name (lowercase, <= 17 chars), e.g. pulse-dev."
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,16}$", var.name_prefix))
    error_message = "name_prefix must be 3-17 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  type        = string
  description = "Environment name used in tags (dev, prod, ...)."
}

variable "tags" {
  type        = map(string)
  description = "Extra tags for every resource (Project and Environment are added)."
  default     = {}
}

variable "image_tag" {
  type        = string
  description = "Image tag (git sha) to deploy; make deploy passes the one make build-push pushed."
}

variable "cpu_architecture" {
  type        = string
  description = "CPU architecture of the images and tasks (X86_64 or ARM64)."
  default     = "X86_64"
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the VPC."
  default     = "10.40.0.0/16"
}

variable "az_count" {
  type        = number
  description = "Availability zones to use (2 or 3)."
  default     = 2
}

variable "single_nat_gateway" {
  type        = bool
  description = "One shared NAT gateway (cheaper) instead of one per AZ."
  default     = true
}

variable "stream_mode" {
  type        = string
  description = "Kinesis capacity mode: ON_DEMAND or PROVISIONED."
  default     = "ON_DEMAND"
}

variable "shard_count" {
  type        = number
  description = "Provisioned shard count, or the expected open shard count in ON_DEMAND mode (4 at creation); caps the enricher's task count."
  default     = 4
}

variable "stream_retention_hours" {
  type        = number
  description = "Kinesis record retention in hours."
  default     = 24
}

variable "deletion_protection" {
  type        = bool
  description = "Protect stateful resources (table, load balancer, user pool, images, secret) from deletion."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of every log group, in days."
  default     = 365
}

variable "opensearch_instance_type" {
  type        = string
  description = "OpenSearch data node instance type."
  default     = "r7g.large.search"
}

variable "opensearch_instance_count" {
  type        = number
  description = "OpenSearch data node count."
  default     = 3
}

variable "opensearch_dedicated_master" {
  type        = bool
  description = "Run three dedicated OpenSearch master nodes."
  default     = true
}

variable "opensearch_volume_size_gb" {
  type        = number
  description = "EBS volume per OpenSearch data node, in GiB."
  default     = 100
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
  description = "Autoscaling bounds for enricher, indexer and dashboard (the enricher's max is also capped at shard_count)."
  default = {
    enricher  = { min = 1, max = 4, cpu_target = 60, lag_threshold_seconds = 30 }
    indexer   = { min = 1, max = 4, cpu_target = 60, lag_threshold_seconds = 30 }
    dashboard = { min = 1, max = 3, cpu_target = 60, lag_threshold_seconds = 0 }
  }
}

variable "producer_enabled" {
  type        = bool
  description = "Run the producer's single task (false until the X token secret has a value)."
  default     = true
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into the tasks (adds the SSM Messages and KMS endpoints and the task permissions it needs)."
  default     = false
}

variable "extra_environment" {
  type        = map(map(string))
  description = "Additional non-secret environment variables per service (they cannot change the dashboard's authentication)."
  default     = {}
  validation {
    # The deployment sets the dashboard's authentication; an extra variable must not weaken it.
    condition = alltrue([
      for name in keys(lookup(var.extra_environment, "dashboard", {})) :
      !startswith(name, "PULSE_DASHBOARD_AUTH_") && !startswith(name, "PULSE_DASHBOARD_OIDC_") && name != "PULSE_DASHBOARD_ALLOW_ANONYMOUS"
    ])
    error_message = "extra_environment.dashboard may not set PULSE_DASHBOARD_AUTH_*, PULSE_DASHBOARD_OIDC_* or PULSE_DASHBOARD_ALLOW_ANONYMOUS: the deployment authenticates every request at the load balancer and in the dashboard."
  }
}

variable "indexer_lag_metric_name" {
  type        = string
  description = "Name of the indexer's stream-lag gauge in seconds (exported to CloudWatch for autoscaling)."
  default     = "pulse_indexer_lag_seconds"
}

variable "enable_grafana" {
  type        = bool
  description = "Create an Amazon Managed Grafana workspace (needs IAM Identity Center)."
  default     = false
}

variable "dashboard_domain_name" {
  type        = string
  description = "DNS name of the dashboard, e.g. pulse.example.com."
}

variable "dashboard_certificate_arn" {
  type        = string
  description = "ACM certificate ARN (same region) covering dashboard_domain_name."
}

variable "dashboard_allowed_cidrs" {
  type        = list(string)
  description = "Client CIDRs allowed to reach the dashboard on 443 (the environment decides; prod has no default)."
  validation {
    condition     = length(var.dashboard_allowed_cidrs) > 0 && alltrue([for c in var.dashboard_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "dashboard_allowed_cidrs must list at least one valid CIDR block."
  }
}

variable "dashboard_allowed_users" {
  type        = list(string)
  description = "E-mail addresses or \"@domain\"s the dashboard admits (empty: whoever the sign-in admits); required with an external OIDC provider."
  default     = []
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 zone for the dashboard alias record (null: manage DNS yourself)."
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
  description = "External OIDC provider for dashboard sign-in (secret in oidc_client_secret); null uses a Cognito user pool."
  default     = null
}

variable "oidc_client_secret" {
  type        = string
  description = "Client secret of the OIDC provider; pass it as TF_VAR_oidc_client_secret."
  default     = null
  sensitive   = true
}

variable "opensearch_admin_principal_arns" {
  type        = list(string)
  description = "People's IAM roles that may assume the break-glass OpenSearch security admin role (with MFA); empty: only the one-off opensearch-admin task."
  default     = []
}

variable "alert_email" {
  type        = string
  description = "E-mail address that receives the Prometheus alerts (via SNS); null for none."
  default     = null
}
