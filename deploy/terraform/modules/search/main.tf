# OpenSearch domain for the posts index: inside the VPC (no public endpoint), encrypted at
# rest with the data key and node-to-node, HTTPS only with a TLS 1.2+ policy, fine-grained
# access control with an IAM master user, and a resource policy that admits only the
# indexer's and the dashboard's task roles.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  domain_name = "${var.name_prefix}-search"
  domain_arn  = "arn:${data.aws_partition.current.partition}:es:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:domain/${local.domain_name}"
  log_types   = toset(["INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"])
}

resource "aws_security_group" "domain" {
  name        = "${var.name_prefix}-opensearch"
  description = "OpenSearch domain: HTTPS from the indexer and dashboard tasks only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "HTTPS from the Pulse tasks that use the domain"
    from_port       = 443
    to_port         = 443
    protocol        = "tcp"
    security_groups = var.client_security_group_ids
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-opensearch" })
}

resource "aws_cloudwatch_log_group" "domain" {
  for_each          = local.log_types
  name              = "/pulse/${var.name_prefix}/opensearch/${lower(each.key)}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "opensearch_logs" {
  statement {
    sid       = "OpenSearchWritesItsLogGroups"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for lg in aws_cloudwatch_log_group.domain : "${lg.arn}:*"]
    principals {
      type        = "Service"
      identifiers = ["es.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "opensearch" {
  policy_name     = "${var.name_prefix}-opensearch-logs"
  policy_document = data.aws_iam_policy_document.opensearch_logs.json
}

resource "aws_opensearch_domain" "this" {
  #checkov:skip=CKV_AWS_318:dedicated masters and node count are per-environment variables: envs/prod runs 3 data nodes + 3 dedicated masters; single-node dev does not need them
  #checkov:skip=CKV2_AWS_59:same as CKV_AWS_318: dedicated masters are enabled by variable in envs/prod
  domain_name    = local.domain_name
  engine_version = var.engine_version

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = var.instance_count
    zone_awareness_enabled   = var.instance_count > 1
    dedicated_master_enabled = var.dedicated_master_enabled
    dedicated_master_type    = var.dedicated_master_enabled ? var.dedicated_master_type : null
    dedicated_master_count   = var.dedicated_master_enabled ? 3 : null

    dynamic "zone_awareness_config" {
      for_each = var.instance_count > 1 ? [1] : []
      content {
        availability_zone_count = min(length(var.subnet_ids), 3)
      }
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.volume_size_gb
  }

  vpc_options {
    subnet_ids         = slice(var.subnet_ids, 0, var.instance_count > 1 ? min(length(var.subnet_ids), 3) : 1)
    security_group_ids = [aws_security_group.domain.id]
  }

  encrypt_at_rest {
    enabled    = true
    kms_key_id = var.kms_key_arn
  }

  node_to_node_encryption {
    enabled = true
  }

  domain_endpoint_options {
    enforce_https       = true
    tls_security_policy = "Policy-Min-TLS-1-2-PFS-2023-10"
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false
    master_user_options {
      master_user_arn = var.master_user_role_arn
    }
  }

  log_publishing_options {
    log_type                 = "INDEX_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["INDEX_SLOW_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "SEARCH_SLOW_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["SEARCH_SLOW_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "ES_APPLICATION_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["ES_APPLICATION_LOGS"].arn
    enabled                  = true
  }

  log_publishing_options {
    log_type                 = "AUDIT_LOGS"
    cloudwatch_log_group_arn = aws_cloudwatch_log_group.domain["AUDIT_LOGS"].arn
    enabled                  = true
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_resource_policy.opensearch]
}

# Only the indexer and dashboard task roles may call the domain at all; what each may do
# inside it is further limited by their IAM policies and by fine-grained access control.
data "aws_iam_policy_document" "access" {
  statement {
    sid       = "PulseTaskRolesOnly"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"]
    resources = ["${local.domain_arn}/*"]
    principals {
      type        = "AWS"
      identifiers = var.allowed_role_arns
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = aws_opensearch_domain.this.domain_name
  access_policies = data.aws_iam_policy_document.access.json
}
