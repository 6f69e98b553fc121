variable "services" {
  type        = list(string)
  description = "Services that get a repository."
  default     = ["producer", "enricher", "indexer", "dashboard"]
}

variable "repository_prefix" {
  type        = string
  description = "Repository name prefix; repositories are <prefix>/<service>."
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key ARN encrypting the repositories."
}

variable "keep_images" {
  type        = number
  description = "How many images each repository keeps (older ones expire)."
  default     = 30
}

variable "force_delete" {
  type        = bool
  description = "Allow terraform destroy to delete repositories that still hold images."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags applied to every resource of this module."
  default     = {}
}
