# OpenSearch domain for the posts index: inside the VPC (no public endpoint), encrypted at
# rest with the data key and node-to-node, HTTPS only with a TLS 1.2+ policy, fine-grained
# access control, and a resource policy that admits only the indexer's and dashboard's task
# roles and the security admin.
#
# Inside the domain (fine-grained access control) the indexer is mapped to a role limited to
# Pulse's index pattern and template, the dashboard to a read-only one; the master user that
# administers security is a separate break-glass role, never a service's task role. The
# mappings are applied by the one-off `opensearch-admin` task (modules/services,
# deploy/scripts/opensearch_security.py), which alone runs with that role.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  domain_name = "${var.name_prefix}-search"
  domain_arn  = "arn:${data.aws_partition.current.partition}:es:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:domain/${local.domain_name}"
  log_types   = toset(["INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS", "ES_APPLICATION_LOGS", "AUDIT_LOGS"])
  tls_policy  = "Policy-Min-TLS-1-2-PFS-2023-10"
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

# Two shapes of the domain, exactly one of which exists: `ha` (data nodes spread over zones and
# three dedicated masters; envs/prod) and `single_node` (envs/dev). They differ only in
# cluster_config; the single-node shape alone carries the skips of the checks that ask for
# dedicated masters, so no production domain inherits them.

resource "aws_opensearch_domain" "ha" {
  count          = var.dedicated_master_enabled ? 1 : 0
  domain_name    = local.domain_name
  engine_version = var.engine_version

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = var.instance_count
    zone_awareness_enabled   = true
    dedicated_master_enabled = true
    dedicated_master_type    = var.dedicated_master_type
    dedicated_master_count   = 3

    zone_awareness_config {
      availability_zone_count = min(length(var.subnet_ids), 3)
    }
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.volume_size_gb
  }

  vpc_options {
    subnet_ids         = slice(var.subnet_ids, 0, min(length(var.subnet_ids), 3))
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
    tls_security_policy = local.tls_policy
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false
    master_user_options {
      master_user_arn = aws_iam_role.admin.arn
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

resource "aws_opensearch_domain" "single_node" {
  #checkov:skip=CKV_AWS_318:dev-only: exists only without dedicated masters (envs/dev, one node); envs/prod gets aws_opensearch_domain.ha with three dedicated masters
  #checkov:skip=CKV2_AWS_59:dev-only: exists only without dedicated masters (envs/dev, one node); envs/prod gets aws_opensearch_domain.ha
  count          = var.dedicated_master_enabled ? 0 : 1
  domain_name    = local.domain_name
  engine_version = var.engine_version

  cluster_config {
    instance_type            = var.instance_type
    instance_count           = 1
    zone_awareness_enabled   = false
    dedicated_master_enabled = false
  }

  ebs_options {
    ebs_enabled = true
    volume_type = "gp3"
    volume_size = var.volume_size_gb
  }

  vpc_options {
    subnet_ids         = slice(var.subnet_ids, 0, 1)
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
    tls_security_policy = local.tls_policy
  }

  advanced_security_options {
    enabled                        = true
    anonymous_auth_enabled         = false
    internal_user_database_enabled = false
    master_user_options {
      master_user_arn = aws_iam_role.admin.arn
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

# The one domain's attributes, each taken on its own: the whole resource object carries the
# sensitive master-user password, and functions over it would make every attribute sensitive.
locals {
  domain = {
    arn         = one(concat(aws_opensearch_domain.ha[*].arn, aws_opensearch_domain.single_node[*].arn))
    domain_name = one(concat(aws_opensearch_domain.ha[*].domain_name, aws_opensearch_domain.single_node[*].domain_name))
    endpoint    = one(concat(aws_opensearch_domain.ha[*].endpoint, aws_opensearch_domain.single_node[*].endpoint))
  }
}

# --- The security admin (break-glass) ----------------------------------------------------------
# The FGAC master user. Assumed by the one-off opensearch-admin ECS task (which applies the
# Pulse roles) and, if listed in admin_principal_arns, by people with MFA. No service runs with it.

data "aws_iam_policy_document" "admin_assume" {
  statement {
    sid     = "OneOffAdminTaskOfThisAccount"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  dynamic "statement" {
    for_each = length(var.admin_principal_arns) > 0 ? [1] : []
    content {
      sid     = "BreakGlassWithMfa"
      actions = ["sts:AssumeRole"]
      principals {
        type        = "AWS"
        identifiers = var.admin_principal_arns
      }
      condition {
        test     = "Bool"
        variable = "aws:MultiFactorAuthPresent"
        values   = ["true"]
      }
    }
  }
}

resource "aws_iam_role" "admin" {
  name                 = "${var.name_prefix}-opensearch-admin"
  description          = "Break-glass OpenSearch security admin (FGAC master user) of ${local.domain_name}; no service runs with it"
  assume_role_policy   = data.aws_iam_policy_document.admin_assume.json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "AdministerThePulseDomain"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]
    resources = [local.domain_arn, "${local.domain_arn}/*"]
  }
}

resource "aws_iam_role_policy" "admin" {
  name   = "administer-opensearch"
  role   = aws_iam_role.admin.id
  policy = data.aws_iam_policy_document.admin.json
}

# Only these roles may call the domain at all: the readers (dashboard) may only GET/HEAD/POST,
# the writers (indexer, security admin) may also PUT/DELETE. What each may do inside it is
# further limited by its IAM policy and by its fine-grained-access-control role.
data "aws_iam_policy_document" "access" {
  statement {
    sid       = "PulseReaders"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost"]
    resources = ["${local.domain_arn}/*"]
    principals {
      type        = "AWS"
      identifiers = var.reader_role_arns
    }
  }

  statement {
    sid       = "PulseWritersAndSecurityAdmin"
    actions   = ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete", "es:ESHttpPatch"]
    resources = ["${local.domain_arn}/*"]
    principals {
      type        = "AWS"
      identifiers = concat(var.writer_role_arns, [aws_iam_role.admin.arn])
    }
  }
}

resource "aws_opensearch_domain_policy" "this" {
  domain_name     = local.domain.domain_name
  access_policies = data.aws_iam_policy_document.access.json
}
