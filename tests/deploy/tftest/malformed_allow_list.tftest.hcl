# Must fail: an allow-list entry that is neither an e-mail address nor an @domain.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  image_tag                 = "0123456789ab"
  dashboard_domain_name     = "pulse.example.com"
  dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  dashboard_allowed_cidrs   = ["203.0.113.0/24"]
  dashboard_allowed_users   = ["everyone"]
}

run "refuses_an_allow_list_entry_that_is_not_an_address_or_domain" {
  command = plan
}
