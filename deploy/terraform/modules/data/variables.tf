variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name, e.g. pulse-dev."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the stream, the table and the queue."
}

variable "stream_mode" {
  type        = string
  description = "Kinesis capacity mode: ON_DEMAND or PROVISIONED."
  default     = "ON_DEMAND"
  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  type        = number
  description = "Shard count when stream_mode is PROVISIONED (also the enricher's autoscaling ceiling)."
  default     = 2
  validation {
    condition     = var.shard_count >= 1
    error_message = "shard_count must be at least 1."
  }
}

variable "stream_retention_hours" {
  type        = number
  description = "Kinesis record retention in hours (24-8760)."
  default     = 24
}

variable "deletion_protection" {
  type        = bool
  description = "Protect the posts table from deletion (turn off only to tear down)."
  default     = true
}

variable "dlq_retention_seconds" {
  type        = number
  description = "How long dead letters are kept (max 14 days = 1209600)."
  default     = 1209600
}

variable "kcl_application_name" {
  type        = string
  description = "KCL application name of the enricher; names its lease, CoordinatorState and WorkerMetricStats tables."
}

variable "indexer_application_name" {
  type        = string
  description = "KCL application name of the indexer (DynamoDB Streams adapter); names its lease, CoordinatorState and WorkerMetricStats tables."
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}
