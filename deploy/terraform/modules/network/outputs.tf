output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  description = "Private subnets (ECS tasks, OpenSearch)."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnets (dashboard load balancer, NAT)."
  value       = aws_subnet.public[*].id
}

output "endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints (tasks may send HTTPS to it)."
  value       = aws_security_group.endpoints.id
}

output "gateway_prefix_list_ids" {
  description = "Prefix list per gateway endpoint (dynamodb, s3) for task egress rules."
  value       = { for k, e in aws_vpc_endpoint.gateway : k => e.prefix_list_id }
}

output "dynamodb_streams_endpoint_url" {
  description = "HTTPS URL of the DynamoDB Streams interface endpoint (no private DNS: clients must be pointed at it)."
  value       = "https://${aws_vpc_endpoint.interface["dynamodb-streams"].dns_entry[0].dns_name}"
}
