# Must fail. An external identity provider needs its client secret (TF_VAR_oidc_client_secret).
mock_provider "aws" {
  source = "./tests/mocks"
}

run "refuses_an_external_provider_without_its_secret" {
  command = plan
  variables {
    oidc = {
      issuer         = "https://idp.example.com", authorization_endpoint = "https://idp.example.com/authorize",
      token_endpoint = "https://idp.example.com/token", user_info_endpoint = "https://idp.example.com/userinfo",
      client_id      = "pulse"
    }
    dashboard_allowed_users = ["analyst@example.com"]
  }
}
