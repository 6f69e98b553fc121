variable "name_prefix" {
  type        = string
  description = "Prefix for every resource name, e.g. pulse-dev."
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR block of the VPC (a /16 to /20)."
  default     = "10.40.0.0/16"
}

variable "az_count" {
  type        = number
  description = "Number of availability zones (2 or 3) to spread subnets over."
  default     = 2
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 3
    error_message = "az_count must be 2 or 3."
  }
}

variable "availability_zone_suffixes" {
  type        = list(string)
  description = "Zone letters the VPC may use, in order (the first az_count available ones are used)."
  default     = ["a", "b", "c"]
}

variable "enable_nat_gateway" {
  type        = bool
  description = "Create NAT gateway(s); the producer needs one to reach the X API."
  default     = true
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all AZs (cheaper, not AZ-redundant) instead of one per AZ."
  default     = true
}

variable "enable_execute_command" {
  type        = bool
  description = "Add the SSM Messages and KMS endpoints that ECS Exec needs (only when it is turned on)."
  default     = false
}

variable "logs_kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the VPC flow-log group."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the VPC flow-log group, in days."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}
