# Autoscaling. The producer has none (exactly one task). Bounds come from var.autoscaling;
# the enricher's max should equal the Kinesis shard count (more KCL workers than shards idle).
#
# enricher: CPU target tracking + step scale-out when the stream lags (the larger of the
#           polling iterator age and the enhanced fan-out MillisBehindLatest).
# indexer:  CPU target tracking + step scale-out on the indexer's stream-lag metric, which its
#           ADOT sidecar exports to CloudWatch (modules/observability, cloudwatch_metrics).
# dashboard: CPU target tracking.

locals {
  scaled = toset(["enricher", "indexer", "dashboard"])
  scaled_service_names = {
    enricher  = aws_ecs_service.enricher.name
    indexer   = aws_ecs_service.indexer.name
    dashboard = aws_ecs_service.dashboard.name
  }
}

resource "aws_appautoscaling_target" "this" {
  for_each           = local.scaled
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${local.scaled_service_names[each.key]}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.autoscaling[each.key].min
  max_capacity       = var.autoscaling[each.key].max
  tags               = var.tags
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each           = local.scaled
  name               = "${var.name_prefix}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscaling[each.key].cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "lag_scale_out" {
  for_each           = toset(["enricher", "indexer"])
  name               = "${var.name_prefix}-${each.key}-lag"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 120
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = var.autoscaling[each.key].lag_threshold_seconds * 4
      scaling_adjustment          = 1
    }

    step_adjustment {
      metric_interval_lower_bound = var.autoscaling[each.key].lag_threshold_seconds * 4
      scaling_adjustment          = 2
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "enricher_lag" {
  alarm_name          = "${var.name_prefix}-enricher-stream-lag"
  alarm_description   = "Kinesis consumer lag of the enricher above ${var.autoscaling.enricher.lag_threshold_seconds}s: scale out"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  threshold           = var.autoscaling.enricher.lag_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.lag_scale_out["enricher"].arn]

  metric_query {
    id          = "lag_seconds"
    expression  = "MAX([polling, fanout]) / 1000"
    label       = "Enricher lag (s)"
    return_data = true
  }

  metric_query {
    id = "polling"
    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "GetRecords.IteratorAgeMilliseconds"
      dimensions  = { StreamName = var.stream_name }
      period      = 60
      stat        = "Maximum"
    }
  }

  metric_query {
    id = "fanout"
    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "SubscribeToShardEvent.MillisBehindLatest"
      dimensions  = { StreamName = var.stream_name, ConsumerName = var.kcl_application_names["enricher"] }
      period      = 60
      stat        = "Maximum"
    }
  }

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "indexer_lag" {
  alarm_name          = "${var.name_prefix}-indexer-stream-lag"
  alarm_description   = "DynamoDB stream lag of the indexer above ${var.autoscaling.indexer.lag_threshold_seconds}s: scale out"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 3
  threshold           = var.autoscaling.indexer.lag_threshold_seconds
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.lag_scale_out["indexer"].arn]
  namespace           = var.cloudwatch_namespace
  metric_name         = var.indexer_lag_metric_name
  dimensions          = { service = "indexer" }
  period              = 60
  statistic           = "Maximum"
  tags                = var.tags
}
