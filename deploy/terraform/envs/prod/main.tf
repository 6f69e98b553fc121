# Production: on-demand stream, three AZs with a NAT gateway each, a three-node OpenSearch
# domain with dedicated masters, deletion protection on everything stateful.
module "pulse" {
  source = "../../modules/stack"

  name_prefix = "pulse-${var.environment}"
  environment = var.environment
  tags        = { CostCenter = "pulse-prod" }
  image_tag   = var.image_tag

  az_count           = 3
  single_nat_gateway = false

  stream_mode            = "ON_DEMAND"
  shard_count            = 4
  stream_retention_hours = 72

  deletion_protection = true

  opensearch_instance_type    = "r7g.large.search"
  opensearch_instance_count   = 3
  opensearch_dedicated_master = true
  opensearch_volume_size_gb   = 200

  autoscaling = {
    enricher  = { min = 2, max = 4, cpu_target = 60, lag_threshold_seconds = 30 }
    indexer   = { min = 2, max = 6, cpu_target = 60, lag_threshold_seconds = 30 }
    dashboard = { min = 2, max = 4, cpu_target = 60, lag_threshold_seconds = 0 }
  }

  dashboard_domain_name           = var.dashboard_domain_name
  dashboard_certificate_arn       = var.dashboard_certificate_arn
  dashboard_allowed_cidrs         = var.dashboard_allowed_cidrs
  route53_zone_id                 = var.route53_zone_id
  producer_enabled                = var.producer_enabled
  enable_grafana                  = var.enable_grafana
  enable_execute_command          = var.enable_execute_command
  extra_environment               = var.extra_environment
  dashboard_allowed_users         = var.dashboard_allowed_users
  oidc                            = var.oidc
  oidc_client_secret              = var.oidc_client_secret
  opensearch_admin_principal_arns = var.opensearch_admin_principal_arns
  alert_email                     = var.alert_email
}
