# Customer-managed KMS keys for Pulse.
#
# - data: Kinesis stream, DynamoDB posts table, SQS dead-letter queue, Secrets Manager,
#         OpenSearch domain, ECR repositories, AMP workspace.
# - logs: every CloudWatch log group (ECS tasks, VPC flow logs, OpenSearch, WAF, ECS Exec).
#
# Key policies delegate to IAM in this account (the usual "root" statement): the task roles
# in modules/services get kms:Decrypt / kms:GenerateDataKey on the data key by ARN. The logs
# key additionally lets the regional CloudWatch Logs service use it, scoped by encryption
# context to this account's log groups.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition
  root_arn   = "arn:${local.partition}:iam::${local.account_id}:root"
}

resource "aws_kms_key" "data" {
  description             = "${var.name_prefix} data at rest (Kinesis, DynamoDB, SQS, Secrets Manager, OpenSearch, ECR, AMP)"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  # In a key policy "Resource": "*" means "this key"; the only principal is this account.
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersAndDelegatesToIam"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # AMP's alert manager publishes to the KMS-encrypted alerts topic.
        Sid       = "AmpPublishesToTheEncryptedAlertsTopic"
        Effect    = "Allow"
        Principal = { Service = "aps.amazonaws.com" }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
        }
      },
    ]
  })
  tags = merge(var.tags, { Name = "${var.name_prefix}-data" })
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name_prefix}-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_kms_key" "logs" {
  description             = "${var.name_prefix} CloudWatch Logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersAndDelegatesToIam"
        Effect    = "Allow"
        Principal = { AWS = local.root_arn }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsUsesKeyForThisAccountsLogGroups"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action = [
          "kms:Encrypt*",
          "kms:Decrypt*",
          "kms:ReEncrypt*",
          "kms:GenerateDataKey*",
          "kms:Describe*",
        ]
        Resource = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"
          }
        }
      },
    ]
  })
  tags = merge(var.tags, { Name = "${var.name_prefix}-logs" })
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${var.name_prefix}-logs"
  target_key_id = aws_kms_key.logs.key_id
}
