variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name, e.g. pulse-dev."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the AMP workspace."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the AMP and EMF log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of this module's log groups, in days."
  default     = 365
}

variable "scrape_targets" {
  type        = map(number)
  description = "Service name -> metrics port its ADOT sidecar scrapes on 127.0.0.1."
}

variable "scrape_interval" {
  type        = string
  description = "Prometheus scrape interval of the collectors."
  default     = "15s"
}

variable "cloudwatch_metrics" {
  type        = map(list(string))
  description = "Service name -> Prometheus metric names its collector also exports to CloudWatch (for autoscaling)."
  default     = {}
}

variable "enable_grafana" {
  type        = bool
  description = "Create an Amazon Managed Grafana workspace (needs IAM Identity Center in the account)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}

variable "alert_rules_yaml" {
  type        = string
  description = "Prometheus alerting rules (YAML) loaded into the AMP workspace; null loads none."
  default     = null
}

variable "alert_email" {
  type        = string
  description = "E-mail address subscribed to the alerts topic (confirm the e-mail AWS sends); null for none."
  default     = null
}
