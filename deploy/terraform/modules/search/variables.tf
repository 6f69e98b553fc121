variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name, e.g. pulse-dev (domain name <= 28 chars)."
}

variable "vpc_id" {
  type        = string
  description = "VPC the domain is placed in."
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the domain's network interfaces."
}

variable "client_security_group_ids" {
  type        = list(string)
  description = "Security groups (indexer, dashboard tasks) allowed to reach the domain on 443."
}

variable "reader_role_arns" {
  type        = list(string)
  description = "IAM role ARNs that may search the domain (the dashboard's task role)."
}

variable "writer_role_arns" {
  type        = list(string)
  description = "IAM role ARNs that may also write to the domain (the indexer's task role)."
}

variable "admin_principal_arns" {
  type        = list(string)
  description = "IAM principals (people's roles) that may assume the break-glass security admin role, with MFA; empty: only the one-off opensearch-admin task."
  default     = []
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key ARN for encryption at rest."
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the domain's log groups."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the domain's log groups, in days."
  default     = 365
}

variable "engine_version" {
  type        = string
  description = "OpenSearch engine version."
  default     = "OpenSearch_2.19"
}

variable "instance_type" {
  type        = string
  description = "Data node instance type."
  default     = "r7g.large.search"
}

variable "instance_count" {
  type        = number
  description = "Number of data nodes with dedicated masters (3 or more, spread over AZs); without dedicated masters the domain has one node."
  default     = 3
  validation {
    condition     = var.instance_count >= 1
    error_message = "instance_count must be at least 1."
  }
}

variable "dedicated_master_enabled" {
  type        = bool
  description = "The production shape: three dedicated masters and instance_count data nodes over the zones; false: a single-node domain (dev)."
  default     = true
}

variable "dedicated_master_type" {
  type        = string
  description = "Dedicated master instance type."
  default     = "m7g.large.search"
}

variable "volume_size_gb" {
  type        = number
  description = "gp3 EBS volume size per data node, in GiB."
  default     = 100
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}
