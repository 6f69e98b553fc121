output "data_key_arn" {
  description = "ARN of the KMS key for data at rest."
  value       = aws_kms_key.data.arn
}

output "logs_key_arn" {
  description = "ARN of the KMS key for CloudWatch log groups."
  value       = aws_kms_key.logs.arn
}
