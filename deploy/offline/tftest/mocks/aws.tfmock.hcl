# What the mocked hashicorp/aws provider returns where the configuration needs a real-looking
# value at plan time (everything else: Terraform's generated mock values).
mock_data "aws_region" {
  defaults = { region = "us-east-1", name = "us-east-1" }
}

mock_data "aws_partition" {
  defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
}

mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}

mock_data "aws_availability_zones" {
  defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
}
