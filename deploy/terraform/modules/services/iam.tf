# IAM: one execution role (pull images, write logs, inject the X token) and one task role per
# service holding only the actions that service calls, on only its resources.

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksOfThisAccountAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# --- Execution role -------------------------------------------------------------------------

resource "aws_iam_role" "execution" {
  name               = "${var.name_prefix}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  # ecr:GetAuthorizationToken has no resource-level permissions: "*" is its only valid resource
  # (the pull actions below are scoped to the four repositories).
  statement {
    sid       = "EcrLoginHasNoResourceLevelPermission"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PullPulseImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
    ]
    resources = values(var.image_repository_arns)
  }

  # The collector image, pulled through the ECR cache of public.ecr.aws: the first pull
  # creates the cached repository and imports the image.
  statement {
    sid = "PullCollectorThroughTheCache"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:GetDownloadUrlForLayer",
      "ecr:BatchGetImage",
      "ecr:BatchImportUpstreamImage",
      "ecr:CreateRepository",
    ]
    resources = ["arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository/${var.public_image_cache_repository_prefix}/*"]
  }

  statement {
    sid       = "WriteServiceLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = concat([for lg in aws_cloudwatch_log_group.service : "${lg.arn}:*"], ["${aws_cloudwatch_log_group.opensearch_admin.arn}:*"])
  }

  statement {
    sid       = "InjectXToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.x_token.arn]
  }

  statement {
    sid       = "DecryptSecretAndImages"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-inject"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# --- Task roles, one per service --------------------------------------------------------------

resource "aws_iam_role" "task" {
  for_each           = local.service_names
  name               = "${var.name_prefix}-${each.key}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
  tags               = merge(var.tags, { Service = each.key })
}

# Every task: its ADOT sidecar remote-writes to the AMP workspace.
data "aws_iam_policy_document" "collector" {
  statement {
    sid       = "RemoteWriteToPulseAmpWorkspace"
    actions   = ["aps:RemoteWrite"]
    resources = [var.amp_workspace_arn]
  }
}

resource "aws_iam_role_policy" "collector" {
  for_each = local.service_names
  name     = "adot-remote-write"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.collector.json
}

data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "PutPostsOnTheStream"
    actions   = ["kinesis:PutRecords", "kinesis:PutRecord", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
    resources = [var.stream_arn]
  }

  # The X token is not readable by the task role: the producer takes it only from its
  # environment (PULSE_PRODUCER_X_BEARER_TOKEN), which ECS fills from Secrets Manager with the
  # execution role (statement InjectXToken).

  statement {
    sid       = "UseDataKeyForTheStream"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [var.dlq_arn]
  }
}

data "aws_iam_policy_document" "enricher" {
  # The enricher's KCL uses POLLING retrieval (pulse_enricher.properties). Enhanced fan-out
  # would also need kinesis:RegisterStreamConsumer on the stream and kinesis:SubscribeToShard,
  # kinesis:DescribeStreamConsumer on "<stream arn>/consumer/*".
  statement {
    sid = "ReadTheStream"
    actions = [
      "kinesis:DescribeStreamSummary",
      "kinesis:DescribeStream",
      "kinesis:ListShards",
      "kinesis:GetShardIterator",
      "kinesis:GetRecords",
    ]
    resources = [var.stream_arn]
  }

  statement {
    sid = "WriteEnrichedPosts"
    actions = [
      "dynamodb:DescribeTable",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
    ]
    resources = [var.table_arn]
  }

  statement {
    sid       = "UseDataKeyForStreamAndTable"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [var.dlq_arn]
  }
}

# The indexer runs the KCL through the DynamoDB Streams Kinesis Adapter: it reads the posts
# table's stream, owns its KCL tables (data module) and publishes the KCL's metrics.
data "aws_iam_policy_document" "indexer" {
  # The KCL reads the stream through the DynamoDB Streams Kinesis Adapter: DescribeStream (also
  # with ShardFilter CHILD_SHARDS when a shard ends), GetShardIterator, GetRecords.
  statement {
    sid       = "ReadThePostsTableStream"
    actions   = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"]
    resources = ["${var.table_arn}/stream/*"]
  }

  statement {
    sid       = "FindTheLatestStream"
    actions   = ["dynamodb:DescribeTable"]
    resources = [var.table_arn]
  }

  statement {
    sid = "IndexIntoThePulseDomain"
    actions = [
      "es:ESHttpGet",
      "es:ESHttpHead",
      "es:ESHttpPost",
      "es:ESHttpPut",
      "es:ESHttpDelete",
    ]
    resources = [var.opensearch_domain_arn, "${var.opensearch_domain_arn}/*"]
  }

  statement {
    sid       = "DecryptStreamRecordsEncryptDeadLetters"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid       = "SendDeadLetters"
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = [var.dlq_arn]
  }

  statement {
    sid       = "CollectorExportsLagMetricToCloudWatch"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${var.emf_log_group_arn}:*"]
  }
}

data "aws_iam_policy_document" "dashboard" {
  statement {
    sid       = "SearchThePulseDomain"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
    resources = [var.opensearch_domain_arn, "${var.opensearch_domain_arn}/*"]
  }
}

locals {
  task_policies = {
    producer  = data.aws_iam_policy_document.producer.json
    enricher  = data.aws_iam_policy_document.enricher.json
    indexer   = data.aws_iam_policy_document.indexer.json
    dashboard = data.aws_iam_policy_document.dashboard.json
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.service_names
  name     = "${each.key}-least-privilege"
  role     = aws_iam_role.task[each.key].id
  policy   = local.task_policies[each.key]
}

# The KCL of the enricher and of the indexer: its three tables and its metrics namespace
# (documents come from the data module, which owns the names).
resource "aws_iam_role_policy" "kcl_leases" {
  for_each = toset(["enricher", "indexer"])
  name     = "kcl-lease-tables"
  role     = aws_iam_role.task[each.key].id
  policy   = var.kcl_lease_policy_json[each.key]
}

# ECS Exec (off by default): the SSM message channels have no resource-level permissions.
data "aws_iam_policy_document" "exec" {
  # The ssmmessages channel actions support only "*" as resource.
  statement {
    sid = "EcsExecChannels"
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "EcsExecSessionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.exec.arn}:*"]
  }

  statement {
    sid       = "EcsExecSessionEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn, var.logs_kms_key_arn]
  }
}

resource "aws_iam_role_policy" "exec" {
  for_each = var.enable_execute_command ? local.service_names : toset([])
  name     = "ecs-exec"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.exec.json
}
