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
  description = "Client CIDRs allowed to reach the dashboard on 443."
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

variable "oidc" {
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
    client_secret          = string
  })
  description = "OIDC provider for dashboard sign-in (e.g. via TF_VAR_oidc); null uses a Cognito user pool."
  default     = null
  sensitive   = true
}

variable "alert_email" {
  type        = string
  description = "E-mail address that receives the Prometheus alerts; null for none."
  default     = null
}
