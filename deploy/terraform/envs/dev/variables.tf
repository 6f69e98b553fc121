variable "region" {
  type        = string
  description = "AWS region to deploy into."
  default     = "us-east-1"
}

variable "environment" {
  type        = string
  description = "Environment name (tags, resource names)."
}

variable "image_tag" {
  type        = string
  description = "Image tag (git sha) to deploy; make deploy sets it."
}

variable "dashboard_domain_name" {
  type        = string
  description = "DNS name of the dashboard, e.g. pulse-dev.example.com."
}

variable "dashboard_certificate_arn" {
  type        = string
  description = "ACM certificate ARN in this region covering dashboard_domain_name."
}

variable "route53_zone_id" {
  type        = string
  description = "Route 53 zone for the dashboard alias record (null: manage DNS yourself)."
  default     = null
}

variable "dashboard_allowed_cidrs" {
  type        = list(string)
  description = "Client CIDRs allowed to reach the dashboard on 443 (dev: anywhere; sign-in is still required)."
  default     = ["0.0.0.0/0"]
}

variable "producer_enabled" {
  type        = bool
  description = "Run the producer (set false until the X token secret has a value)."
  default     = true
}

variable "enable_grafana" {
  type        = bool
  description = "Create an Amazon Managed Grafana workspace (needs IAM Identity Center)."
  default     = false
}

variable "extra_environment" {
  type        = map(map(string))
  description = "Additional non-secret environment variables per service."
  default     = {}
}

variable "dashboard_allowed_users" {
  type        = list(string)
  description = "E-mail addresses or \"@domain\"s the dashboard admits (empty: whoever the sign-in admits); required with oidc."
  default     = []
}

variable "oidc" {
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
  })
  description = "External OIDC provider for dashboard sign-in (its secret: oidc_client_secret); null uses a Cognito user pool."
  default     = null
}

variable "oidc_client_secret" {
  type        = string
  description = "Client secret of the OIDC provider: pass it as TF_VAR_oidc_client_secret, never in a file."
  default     = null
  sensitive   = true
}

variable "enable_execute_command" {
  type        = bool
  description = "Allow ECS Exec into the tasks (off unless you turn it on for debugging)."
  default     = false
}

variable "opensearch_admin_principal_arns" {
  type        = list(string)
  description = "People's IAM roles that may assume the break-glass OpenSearch security admin role (with MFA)."
  default     = []
}

variable "alert_email" {
  type        = string
  description = "E-mail address that receives the Prometheus alerts; null for none."
  default     = null
}
