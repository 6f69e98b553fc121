output "repository_urls" {
  description = "Repository URL per service (registry/prefix/service)."
  value       = { for k, r in aws_ecr_repository.this : k => r.repository_url }
}

output "repository_arns" {
  description = "Repository ARN per service."
  value       = { for k, r in aws_ecr_repository.this : k => r.arn }
}

output "registry" {
  description = "Registry host for docker login (<account>.dkr.ecr.<region>.amazonaws.com)."
  value       = split("/", values(aws_ecr_repository.this)[0].repository_url)[0]
}

output "public_image_cache_prefix" {
  description = "<registry>/<prefix>: public.ecr.aws/<image> is pulled as <this>/<image>."
  value       = "${split("/", values(aws_ecr_repository.this)[0].repository_url)[0]}/${aws_ecr_pull_through_cache_rule.ecr_public.ecr_repository_prefix}"
}

output "public_image_cache_repository_prefix" {
  description = "Repository name prefix of the public.ecr.aws pull-through cache."
  value       = aws_ecr_pull_through_cache_rule.ecr_public.ecr_repository_prefix
}
