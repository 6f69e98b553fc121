# Must fail: an external identity provider without an allow-list would let anyone it signs in
# read every post.
mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  image_tag                 = "0123456789ab"
  dashboard_domain_name     = "pulse.example.com"
  dashboard_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  dashboard_allowed_cidrs   = ["203.0.113.0/24"]
  oidc = {
    issuer                 = "https://idp.example.com"
    authorization_endpoint = "https://idp.example.com/authorize"
    token_endpoint         = "https://idp.example.com/token"
    user_info_endpoint     = "https://idp.example.com/userinfo"
    client_id              = "pulse"
  }
  oidc_client_secret = "not-a-real-secret"
}

run "refuses_an_external_provider_without_an_allow_list" {
  command = plan
}
