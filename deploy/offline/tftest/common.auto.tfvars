# Variables every mocked plan needs (terraform test reads *.auto.tfvars of its test directory).
image_tag                 = "0123456789ab"
dashboard_domain_name     = "pulse.example.com"
dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
dashboard_allowed_cidrs   = ["203.0.113.0/24"]
