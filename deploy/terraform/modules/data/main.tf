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

  # KCL 3.x creates and manages these three tables itself (named after the application).
  kcl_lease_table_arn       = "${local.table_arn_prefix}/${var.kcl_application_name}"
  kcl_coordinator_table_arn = "${local.table_arn_prefix}/${var.kcl_application_name}-CoordinatorState"
  kcl_worker_table_arn      = "${local.table_arn_prefix}/${var.kcl_application_name}-WorkerMetricStats"
  # The indexer runs on the KCL too: its application name is the lease table's name, and KCL 3
  # adds the same two companion tables.
  indexer_lease_table_arn       = "${local.table_arn_prefix}/${var.indexer_lease_table_name}"
  indexer_coordinator_table_arn = "${local.table_arn_prefix}/${var.indexer_lease_table_name}-CoordinatorState"
  indexer_worker_table_arn      = "${local.table_arn_prefix}/${var.indexer_lease_table_name}-WorkerMetricStats"
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

# --- Lease tables ---------------------------------------------------------------------------
# The KCL (enricher) and the indexer create their lease/checkpoint tables on first start and
# keep them; these documents grant exactly that on exactly those table names.

data "aws_iam_policy_document" "kcl_leases" {
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
    resources = [local.kcl_lease_table_arn]
  }

  statement {
    sid       = "KclLeaseTableIndexes"
    actions   = ["dynamodb:Query"]
    resources = ["${local.kcl_lease_table_arn}/index/*"]
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
    resources = [local.kcl_coordinator_table_arn, local.kcl_worker_table_arn]
  }
}

data "aws_iam_policy_document" "indexer_leases" {
  statement {
    sid = "IndexerKclLeaseTable"
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
    resources = [local.indexer_lease_table_arn]
  }

  statement {
    sid       = "IndexerKclLeaseTableIndexes"
    actions   = ["dynamodb:Query"]
    resources = ["${local.indexer_lease_table_arn}/index/*"]
  }

  statement {
    sid = "IndexerKclCoordinatorAndWorkerMetricTables"
    actions = [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Scan",
    ]
    resources = [local.indexer_coordinator_table_arn, local.indexer_worker_table_arn]
  }
}
