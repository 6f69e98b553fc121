# Development: smallest sizes that still exercise every part (one provisioned shard, one
# OpenSearch node, two AZs, one NAT gateway), and easy tear-down (no deletion protection).
module "pulse" {
  source = "../../modules/stack"

  name_prefix = "pulse-${var.environment}"
  environment = var.environment
  tags        = { CostCenter = "pulse-dev" }
  image_tag   = var.image_tag

  az_count           = 2
  single_nat_gateway = true

  stream_mode = "PROVISIONED"
  shard_count = 1

  deletion_protection = false

  opensearch_instance_type    = "t3.medium.search"
  opensearch_instance_count   = 1
  opensearch_dedicated_master = false
  opensearch_volume_size_gb   = 20

  task_sizes = {
    producer  = { cpu = 256, memory = 512 }
    enricher  = { cpu = 1024, memory = 2048 }
    indexer   = { cpu = 512, memory = 1024 } # the KCL daemon (JVM) and its Python processors
    dashboard = { cpu = 256, memory = 512 }
  }

  autoscaling = {
    enricher  = { min = 1, max = 1, cpu_target = 70, lag_threshold_seconds = 60 }
    indexer   = { min = 1, max = 2, cpu_target = 70, lag_threshold_seconds = 60 }
    dashboard = { min = 1, max = 2, cpu_target = 70, lag_threshold_seconds = 0 }
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
