# VPC for Pulse: private subnets for the ECS tasks and the OpenSearch domain, public subnets
# only for the dashboard's load balancer and the NAT gateway(s).
#
# AWS APIs are reached only through VPC endpoints, each with a policy that admits this
# account's principals to the Pulse resources and the actions Pulse calls: interface endpoints
# for Kinesis, ECR, CloudWatch Logs and metrics, Secrets Manager, SQS, AMP and DynamoDB Streams
# (which has no private DNS: the indexer is given the endpoint's own name), gateway endpoints
# for DynamoDB and S3 (ECR image layers). The NAT gateway is left for the producer's X and
# Bluesky connections alone: no other task may reach the internet (modules/services).

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
# Pin the zone set by name so it never silently grows when AWS adds a zone.
data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "zone-name"
    values = [for s in var.availability_zone_suffixes : "${data.aws_region.current.region}${s}"]
  }
}

locals {
  region        = data.aws_region.current.region
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  azs           = slice(data.aws_availability_zones.available.names, 0, var.az_count)
  private_cidrs = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 4, i)]
  public_cidrs  = [for i in range(var.az_count) : cidrsubnet(var.vpc_cidr, 8, 240 + i)]
  nat_count     = var.enable_nat_gateway ? (var.single_nat_gateway ? 1 : var.az_count) : 0

  # Interface endpoints and whether they have private DNS (DynamoDB Streams has none).
  interface_endpoints = merge(
    {
      "kinesis-streams"  = true
      "ecr.api"          = true
      "ecr.dkr"          = true
      "logs"             = true
      "monitoring"       = true
      "secretsmanager"   = true
      "sqs"              = true
      "aps-workspaces"   = true
      "dynamodb-streams" = false
    },
    # ECS Exec's agent talks to SSM Messages and KMS (session encryption).
    var.enable_execute_command ? { "ssmmessages" = true, "kms" = true } : {},
  )
  gateway_endpoints = toset(["dynamodb", "s3"])
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(var.tags, { Name = "${var.name_prefix}-vpc" })
}

# The default security group allows nothing: every workload gets its own group.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-default-deny" })
}

resource "aws_subnet" "private" {
  count             = var.az_count
  vpc_id            = aws_vpc.this.id
  cidr_block        = local.private_cidrs[count.index]
  availability_zone = local.azs[count.index]
  tags              = merge(var.tags, { Name = "${var.name_prefix}-private-${local.azs[count.index]}", Tier = "private" })
}

resource "aws_subnet" "public" {
  count                   = var.az_count
  vpc_id                  = aws_vpc.this.id
  cidr_block              = local.public_cidrs[count.index]
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = false
  tags                    = merge(var.tags, { Name = "${var.name_prefix}-public-${local.azs[count.index]}", Tier = "public" })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-igw" })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-public" })
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count          = var.az_count
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  count  = local.nat_count
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name_prefix}-nat-${count.index}" })
}

resource "aws_nat_gateway" "this" {
  count         = local.nat_count
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name_prefix}-nat-${count.index}" })
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "private" {
  count  = var.az_count
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name_prefix}-private-${local.azs[count.index]}" })
}

resource "aws_route" "private_nat" {
  count                  = local.nat_count > 0 ? var.az_count : 0
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[var.single_nat_gateway ? 0 : count.index].id
}

resource "aws_route_table_association" "private" {
  count          = var.az_count
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

resource "aws_security_group" "endpoints" {
  name        = "${var.name_prefix}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS from inside the VPC only"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-vpc-endpoints" })
}

# --- Endpoint policies ------------------------------------------------------------------------
# What may pass each endpoint: principals of this account only (aws:PrincipalAccount), the
# actions Pulse calls, on Pulse's resources (named <name_prefix>...). A "*" resource appears only
# for actions without resource-level permissions (ecr:GetAuthorizationToken,
# cloudwatch:PutMetricData, the SSM message channels).

locals {
  arn    = "arn:${local.partition}"
  scope  = "${local.region}:${local.account_id}"
  prefix = var.name_prefix

  endpoint_statements = {
    "kinesis-streams" = [{
      actions = [
        "kinesis:PutRecord", "kinesis:PutRecords", "kinesis:GetRecords", "kinesis:GetShardIterator",
        "kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards",
      ]
      resources = ["${local.arn}:kinesis:${local.scope}:stream/${local.prefix}-*"]
    }]
    "ecr.api" = local.ecr_statements
    "ecr.dkr" = local.ecr_statements
    "logs" = [{
      actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
      resources = ["${local.arn}:logs:${local.scope}:log-group:/pulse/${local.prefix}/*"]
    }]
    "monitoring" = [{
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"]
    }]
    "secretsmanager" = [{
      actions   = ["secretsmanager:GetSecretValue"]
      resources = ["${local.arn}:secretsmanager:${local.scope}:secret:${local.prefix}/*"]
    }]
    "sqs" = [{
      actions   = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
      resources = ["${local.arn}:sqs:${local.scope}:${local.prefix}-*"]
    }]
    "aps-workspaces" = [{
      actions   = ["aps:RemoteWrite"]
      resources = ["${local.arn}:aps:${local.scope}:workspace/*"]
    }]
    "dynamodb-streams" = [{
      actions   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      resources = ["${local.arn}:dynamodb:${local.scope}:table/${local.prefix}-*/stream/*"]
    }]
    "ssmmessages" = [{
      actions = [
        "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
      ]
      resources = ["*"]
    }]
    "kms" = [{
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = ["${local.arn}:kms:${local.scope}:key/*"]
    }]
    "dynamodb" = [{
      actions = [
        "dynamodb:DescribeTable", "dynamodb:CreateTable", "dynamodb:UpdateTable",
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem", "dynamodb:Scan", "dynamodb:Query",
      ]
      resources = [
        "${local.arn}:dynamodb:${local.scope}:table/${local.prefix}-*",
        "${local.arn}:dynamodb:${local.scope}:table/${local.prefix}-*/index/*",
      ]
    }]
    # ECR keeps image layers in this regional AWS-owned bucket.
    "s3" = [{
      actions   = ["s3:GetObject"]
      resources = ["${local.arn}:s3:::prod-${local.region}-starport-layer-bucket/*"]
    }]
  }

  ecr_statements = [
    {
      actions   = ["ecr:GetAuthorizationToken"]
      resources = ["*"]
    },
    {
      # Pulse's repositories, and those the pull-through cache creates for the collector image.
      actions = [
        "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage",
        "ecr:BatchImportUpstreamImage", "ecr:CreateRepository",
      ]
      resources = ["${local.arn}:ecr:${local.scope}:repository/${local.prefix}*"]
    },
  ]
}

data "aws_iam_policy_document" "endpoint" {
  for_each = merge(local.interface_endpoints, { for g in local.gateway_endpoints : g => true })

  dynamic "statement" {
    for_each = local.endpoint_statements[each.key]
    content {
      sid       = "PulseOnly${statement.key}"
      actions   = statement.value.actions
      resources = statement.value.resources
      principals {
        type        = "AWS"
        identifiers = ["*"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:PrincipalAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.interface_endpoints
  vpc_id              = aws_vpc.this.id
  service_name        = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = each.value
  subnet_ids          = aws_subnet.private[*].id
  security_group_ids  = [aws_security_group.endpoints.id]
  policy              = data.aws_iam_policy_document.endpoint[each.key].json
  tags                = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })
}

resource "aws_vpc_endpoint" "gateway" {
  for_each          = local.gateway_endpoints
  vpc_id            = aws_vpc.this.id
  service_name      = "com.amazonaws.${local.region}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = aws_route_table.private[*].id
  policy            = data.aws_iam_policy_document.endpoint[each.key].json
  tags              = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })
}

# --- VPC flow logs -> CloudWatch Logs (KMS-encrypted) ---------------------------------------

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/pulse/${var.name_prefix}/vpc-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "flow_logs_assume" {
  statement {
    sid     = "VpcFlowLogsAssumesRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid = "WriteFlowLogsToItsLogGroup"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
    ]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }
}

resource "aws_iam_role" "flow_logs" {
  name               = "${var.name_prefix}-vpc-flow-logs"
  assume_role_policy = data.aws_iam_policy_document.flow_logs_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "this" {
  vpc_id          = aws_vpc.this.id
  traffic_type    = "ALL"
  iam_role_arn    = aws_iam_role.flow_logs.arn
  log_destination = aws_cloudwatch_log_group.flow_logs.arn
  tags            = var.tags
}
