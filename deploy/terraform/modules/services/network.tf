# Security groups: tasks accept nothing except the dashboard from its load balancer; each task
# may send HTTPS only where its service must go: the interface VPC endpoints (AWS APIs, image
# pulls, logs) and the S3 gateway (image layers) for all, the DynamoDB gateway for the KCL
# lease tables and the posts table, the OpenSearch domain for the indexer and the dashboard, and
# the internet for the producer alone (the X API and Bluesky's Jetstream).

locals {
  egress = {
    producer           = ["endpoints", "s3", "internet"]
    enricher           = ["endpoints", "s3", "dynamodb"]
    indexer            = ["endpoints", "s3", "dynamodb", "opensearch"]
    dashboard          = ["endpoints", "s3", "opensearch"]
    "opensearch-admin" = ["endpoints", "s3", "opensearch"]
  }

  egress_descriptions = {
    endpoints  = "HTTPS to the interface VPC endpoints (AWS APIs, ECR, logs)"
    s3         = "HTTPS to S3 through its gateway endpoint (ECR image layers)"
    dynamodb   = "HTTPS to DynamoDB through its gateway endpoint"
    opensearch = "HTTPS to the OpenSearch domain"
    internet   = "HTTPS to the X API and Bluesky Jetstream (through the NAT gateway)"
  }

  egress_rules = merge([
    for svc, targets in local.egress : { for t in targets : "${svc}:${t}" => { service = svc, target = t } }
  ]...)
}

resource "aws_security_group" "task" {
  for_each    = local.service_names
  name        = "${var.name_prefix}-${each.key}"
  description = "Pulse ${each.key} tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-${each.key}", Service = each.key })
}

resource "aws_security_group" "opensearch_admin" {
  #checkov:skip=CKV2_AWS_5:attached at run time: deploy/scripts/run-once.sh starts the one-off opensearch-admin task with this group (run-task is not a Terraform resource)
  name        = "${var.name_prefix}-opensearch-admin"
  description = "Pulse one-off opensearch-admin task"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-opensearch-admin", Service = "opensearch-admin" })
}

locals {
  task_group_ids = merge(
    { for svc, sg in aws_security_group.task : svc => sg.id },
    { "opensearch-admin" = aws_security_group.opensearch_admin.id },
  )
}

# Rules are separate resources (never inline) because the ALB and dashboard groups refer to
# each other; mixing inline and separate rules on one group makes them fight.
resource "aws_security_group_rule" "task_egress" {
  for_each                 = local.egress_rules
  type                     = "egress"
  description              = local.egress_descriptions[each.value.target]
  security_group_id        = local.task_group_ids[each.value.service]
  from_port                = 443
  to_port                  = 443
  protocol                 = "tcp"
  source_security_group_id = lookup({ endpoints = var.endpoints_security_group_id, opensearch = var.opensearch_security_group_id }, each.value.target, null)
  prefix_list_ids          = contains(["s3", "dynamodb"], each.value.target) ? [var.gateway_prefix_list_ids[each.value.target]] : null
  cidr_blocks              = each.value.target == "internet" ? ["0.0.0.0/0"] : null
}

resource "aws_security_group_rule" "dashboard_from_alb" {
  type                     = "ingress"
  description              = "Dashboard HTTP from its load balancer only"
  security_group_id        = aws_security_group.task["dashboard"].id
  source_security_group_id = aws_security_group.alb.id
  from_port                = 8080
  to_port                  = 8080
  protocol                 = "tcp"
}

resource "aws_security_group" "alb" {
  name        = "${var.name_prefix}-dashboard-alb"
  description = "Dashboard load balancer: HTTPS in, dashboard tasks out"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-dashboard-alb" })
}

resource "aws_security_group_rule" "alb_https_in" {
  type              = "ingress"
  description       = "HTTPS from allowed clients"
  security_group_id = aws_security_group.alb.id
  cidr_blocks       = var.dashboard_allowed_cidrs
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
}

resource "aws_security_group_rule" "alb_to_dashboard" {
  type                     = "egress"
  description              = "To the dashboard tasks"
  security_group_id        = aws_security_group.alb.id
  source_security_group_id = aws_security_group.task["dashboard"].id
  from_port                = 8080
  to_port                  = 8080
  protocol                 = "tcp"
}

resource "aws_security_group_rule" "alb_to_idp" {
  type              = "egress"
  description       = "HTTPS to the identity provider (Cognito/OIDC token and user-info endpoints)"
  security_group_id = aws_security_group.alb.id
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
}
