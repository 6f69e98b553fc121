output "domain_arn" {
  description = "ARN of the OpenSearch domain."
  value       = local.domain.arn
}

output "domain_name" {
  description = "Name of the OpenSearch domain."
  value       = local.domain.domain_name
}

output "endpoint_url" {
  description = "HTTPS URL of the domain's VPC endpoint."
  value       = "https://${local.domain.endpoint}"
}

output "admin_role_arn" {
  description = "ARN of the break-glass security admin role (the domain's FGAC master user)."
  value       = aws_iam_role.admin.arn
}

output "security_group_id" {
  description = "Security group of the domain (clients send HTTPS to it)."
  value       = aws_security_group.domain.id
}
