# Pipeline data stores: the Kinesis posts stream, the DynamoDB posts table (with its stream
# feeding the indexer), the dead-letter SQS queue, and the IAM policy documents for the
# lease tables the enricher (KCL) and the indexer create and own at run time.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id       = data.aws_caller_identity.current.account_id
  region           = data.aws_region.current.region
  partition        = data.aws_partition.current.partition
  table_arn_prefix = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table"

  # KCL 3.x creates and manages three tables per application, named after it: the enricher
  # (Kinesis) and the indexer (DynamoDB Streams through AWS's Kinesis adapter) each have one.
  kcl_applications = {
    enricher = var.kcl_application_name
    indexer  = var.indexer_application_name
  }
  kcl_lease_table_arns = { for svc, app in local.kcl_applications : svc => "${local.table_arn_prefix}/${app}" }
}

resource "aws_kinesis_stream" "posts" {
  name             = "${var.name_prefix}-posts"
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.stream_retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "posts" {
  name                        = "${var.name_prefix}-posts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  stream_enabled              = true
  stream_view_type            = "NEW_AND_OLD_IMAGES"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.name_prefix}-dead-letter"
  message_retention_seconds         = var.dlq_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = var.tags
}

# --- The KCL's tables and metrics ------------------------------------------------------------
# The KCL creates its lease table (with an index), CoordinatorState and WorkerMetricStats tables
# on first start and keeps them, and publishes its metrics in a namespace named after the
# application; each document grants exactly that for exactly one application.

data "aws_iam_policy_document" "kcl_leases" {
  for_each = local.kcl_applications

  statement {
    sid = "KclLeaseTable"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:UpdateTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
    ]
    resources = [local.kcl_lease_table_arns[each.key]]
  }

  statement {
    sid       = "KclLeaseTableIndexes"
    actions   = ["dynamodb:Query"]
    resources = ["${local.kcl_lease_table_arns[each.key]}/index/*"]
  }

  statement {
    sid = "KclCoordinatorAndWorkerMetricTables"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
    ]
    resources = [
      "${local.kcl_lease_table_arns[each.key]}-CoordinatorState",
      "${local.kcl_lease_table_arns[each.key]}-WorkerMetricStats",
    ]
  }

  # PutMetricData has no resource-level permissions; the namespace condition limits the KCL
  # to its own namespace (the application name).
  statement {
    sid       = "KclMetricsInItsNamespaceOnly"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [each.value]
    }
  }
}
