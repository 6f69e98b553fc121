# The whole Pulse deployment, composed from the small modules. envs/dev and envs/prod call
# this with their sizes; every module gets the same tags (on top of the provider's
# default_tags, so resources are tagged even where default_tags do not reach).

locals {
  tags = merge(var.tags, { Project = "pulse", Environment = var.environment })

  metrics_ports = {
    producer  = 9101
    enricher  = 9102
    indexer   = 9103
    dashboard = 8080
  }

  kcl_application_name     = "${var.name_prefix}-enricher"
  indexer_application_name = "${var.name_prefix}-indexer"

  # Index replicas follow the domain's data nodes (pulse-indexer migrate applies them).
  extra_environment = merge(var.extra_environment, {
    indexer = merge(
      { PULSE_INDEXER_INDEX_REPLICAS = var.opensearch_dedicated_master && var.opensearch_instance_count > 1 ? "1" : "0" },
      lookup(var.extra_environment, "indexer", {}),
    )
  })

  # The enricher never runs more KCL workers than there are shards.
  autoscaling = merge(var.autoscaling, {
    enricher = merge(var.autoscaling.enricher, { max = min(var.autoscaling.enricher.max, var.shard_count) })
  })
}

module "kms" {
  source      = "../kms"
  name_prefix = var.name_prefix
  tags        = local.tags
}

module "network" {
  source             = "../network"
  name_prefix        = var.name_prefix
  vpc_cidr           = var.vpc_cidr
  az_count           = var.az_count
  single_nat_gateway = var.single_nat_gateway
  logs_kms_key_arn   = module.kms.logs_key_arn
  log_retention_days = var.log_retention_days
  # ECS Exec's SSM Messages and KMS endpoints exist only while it is turned on.
  enable_execute_command = var.enable_execute_command
  tags                   = local.tags
}

module "ecr" {
  source            = "../ecr"
  repository_prefix = var.name_prefix
  kms_key_arn       = module.kms.data_key_arn
  force_delete      = !var.deletion_protection
  tags              = local.tags
}

module "data" {
  source                   = "../data"
  name_prefix              = var.name_prefix
  kms_key_arn              = module.kms.data_key_arn
  stream_mode              = var.stream_mode
  shard_count              = var.shard_count
  stream_retention_hours   = var.stream_retention_hours
  deletion_protection      = var.deletion_protection
  kcl_application_name     = local.kcl_application_name
  indexer_application_name = local.indexer_application_name
  tags                     = local.tags
}

module "observability" {
  source             = "../observability"
  name_prefix        = var.name_prefix
  kms_key_arn        = module.kms.data_key_arn
  logs_kms_key_arn   = module.kms.logs_key_arn
  log_retention_days = var.log_retention_days
  scrape_targets     = local.metrics_ports
  cloudwatch_metrics = { indexer = [var.indexer_lag_metric_name] }
  enable_grafana     = var.enable_grafana
  alert_rules_yaml   = file("${path.module}/../../../prometheus/alerts.yml")
  alert_email        = var.alert_email
  tags               = local.tags
}

module "search" {
  source                    = "../search"
  name_prefix               = var.name_prefix
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [for svc in ["indexer", "dashboard", "opensearch-admin"] : module.services.task_security_group_ids[svc]]
  reader_role_arns          = [module.services.task_role_arns["dashboard"]]
  writer_role_arns          = [module.services.task_role_arns["indexer"]]
  admin_principal_arns      = var.opensearch_admin_principal_arns
  kms_key_arn               = module.kms.data_key_arn
  logs_kms_key_arn          = module.kms.logs_key_arn
  log_retention_days        = var.log_retention_days
  instance_type             = var.opensearch_instance_type
  instance_count            = var.opensearch_instance_count
  dedicated_master_enabled  = var.opensearch_dedicated_master
  volume_size_gb            = var.opensearch_volume_size_gb
  tags                      = local.tags
}

module "services" {
  source                               = "../services"
  name_prefix                          = var.name_prefix
  vpc_id                               = module.network.vpc_id
  private_subnet_ids                   = module.network.private_subnet_ids
  public_subnet_ids                    = module.network.public_subnet_ids
  kms_key_arn                          = module.kms.data_key_arn
  logs_kms_key_arn                     = module.kms.logs_key_arn
  log_retention_days                   = var.log_retention_days
  image_repository_urls                = module.ecr.repository_urls
  image_repository_arns                = module.ecr.repository_arns
  image_tag                            = var.image_tag
  cpu_architecture                     = var.cpu_architecture
  collector_configs                    = module.observability.collector_configs
  task_sizes                           = var.task_sizes
  autoscaling                          = local.autoscaling
  producer_enabled                     = var.producer_enabled
  enable_execute_command               = var.enable_execute_command
  extra_environment                    = local.extra_environment
  stream_name                          = module.data.stream_name
  stream_arn                           = module.data.stream_arn
  table_name                           = module.data.table_name
  table_arn                            = module.data.table_arn
  table_stream_arn                     = module.data.table_stream_arn
  dlq_name                             = module.data.dlq_name
  dlq_arn                              = module.data.dlq_arn
  kcl_application_names                = module.data.kcl_application_names
  kcl_lease_policy_json                = module.data.kcl_lease_policy_json
  dynamodb_streams_endpoint_url        = module.network.dynamodb_streams_endpoint_url
  endpoints_security_group_id          = module.network.endpoints_security_group_id
  gateway_prefix_list_ids              = module.network.gateway_prefix_list_ids
  opensearch_security_group_id         = module.search.security_group_id
  opensearch_admin_role_arn            = module.search.admin_role_arn
  public_image_cache_prefix            = module.ecr.public_image_cache_prefix
  public_image_cache_repository_prefix = module.ecr.public_image_cache_repository_prefix
  opensearch_url                       = module.search.endpoint_url
  opensearch_domain_arn                = module.search.domain_arn
  amp_workspace_arn                    = module.observability.workspace_arn
  emf_log_group_arn                    = module.observability.emf_log_group_arn
  cloudwatch_namespace                 = module.observability.cloudwatch_namespace
  indexer_lag_metric_name              = var.indexer_lag_metric_name
  dashboard_domain_name                = var.dashboard_domain_name
  dashboard_certificate_arn            = var.dashboard_certificate_arn
  dashboard_allowed_cidrs              = var.dashboard_allowed_cidrs
  dashboard_allowed_users              = var.dashboard_allowed_users
  route53_zone_id                      = var.route53_zone_id
  oidc                                 = var.oidc
  oidc_client_secret                   = var.oidc_client_secret
  cognito_deletion_protection          = var.deletion_protection
  alb_deletion_protection              = var.deletion_protection
  alb_logs_force_destroy               = !var.deletion_protection
  secret_recovery_window_days          = var.deletion_protection ? 30 : 0
  tags                                 = local.tags
}
