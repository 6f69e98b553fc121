# Security groups: tasks accept nothing except the dashboard from its load balancer; tasks may
# only speak HTTPS out (AWS endpoints, X API, OpenSearch, AMP).

resource "aws_security_group" "task" {
  for_each    = local.service_names
  name        = "${var.name_prefix}-${each.key}"
  description = "Pulse ${each.key} tasks"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-${each.key}", Service = each.key })
}

# Rules are separate resources (never inline) because the ALB and dashboard groups refer to
# each other; mixing inline and separate rules on one group makes them fight.
resource "aws_security_group_rule" "task_https_out" {
  for_each          = local.service_names
  type              = "egress"
  description       = "HTTPS to AWS APIs (VPC endpoints), OpenSearch, AMP and the X API"
  security_group_id = aws_security_group.task[each.key].id
  cidr_blocks       = ["0.0.0.0/0"]
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
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
