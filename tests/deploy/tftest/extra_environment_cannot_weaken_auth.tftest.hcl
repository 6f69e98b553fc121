# Must fail: extra_environment must not switch the dashboard's authentication off.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  image_tag                 = "0123456789ab"
  dashboard_domain_name     = "pulse.example.com"
  dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  dashboard_allowed_cidrs   = ["203.0.113.0/24"]
  extra_environment = {
    dashboard = { PULSE_DASHBOARD_AUTH_MODE = "none", PULSE_DASHBOARD_ALLOW_ANONYMOUS = "true" }
  }
}

run "refuses_extra_environment_that_turns_authentication_off" {
  command = plan
}
