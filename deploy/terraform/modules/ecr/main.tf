# One private ECR repository per Pulse image: immutable tags (images are tagged with the git
# sha), scan on push, KMS encryption, and a lifecycle policy that bounds storage.

resource "aws_ecr_repository" "this" {
  for_each             = toset(var.services)
  name                 = "${var.repository_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images after 7 days"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 7
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# public.ecr.aws through ECR (the ADOT collector image): tasks pull it over the ECR endpoints
# like Pulse's own images, so none of them needs the internet for it. ECR creates the cached
# repository on the first pull.
resource "aws_ecr_pull_through_cache_rule" "ecr_public" {
  ecr_repository_prefix = "${var.repository_prefix}-ecr-public"
  upstream_registry_url = "public.ecr.aws"
}
