terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0, < 7.0"
    }
  }

  # State in S3 (encrypted, with S3-native locking). Values come from backend.hcl
  # (copy backend.hcl.example): terraform init -backend-config=backend.hcl
  backend "s3" {}
}
