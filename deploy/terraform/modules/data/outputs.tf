output "stream_name" {
  description = "Name of the Kinesis posts stream."
  value       = aws_kinesis_stream.posts.name
}

output "stream_arn" {
  description = "ARN of the Kinesis posts stream."
  value       = aws_kinesis_stream.posts.arn
}

output "table_name" {
  description = "Name of the DynamoDB posts table."
  value       = aws_dynamodb_table.posts.name
}

output "table_arn" {
  description = "ARN of the DynamoDB posts table."
  value       = aws_dynamodb_table.posts.arn
}

output "table_stream_arn" {
  description = "ARN of the posts table's DynamoDB stream (NEW_AND_OLD_IMAGES)."
  value       = aws_dynamodb_table.posts.stream_arn
}

output "dlq_name" {
  description = "Name of the dead-letter SQS queue."
  value       = aws_sqs_queue.dead_letter.name
}

output "dlq_arn" {
  description = "ARN of the dead-letter SQS queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dlq_url" {
  description = "URL of the dead-letter SQS queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "kcl_application_names" {
  description = "KCL application name per consuming service (enricher, indexer): lease table name and metrics namespace."
  value       = local.kcl_applications
}

output "kcl_lease_policy_json" {
  description = "IAM policy JSON per consuming service granting its KCL lease, CoordinatorState and WorkerMetricStats tables and its metrics namespace."
  value       = { for svc, doc in data.aws_iam_policy_document.kcl_leases : svc => doc.json }
}
