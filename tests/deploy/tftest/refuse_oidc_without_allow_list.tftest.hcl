# Must fail. An external identity provider without an allow-list would let anyone it signs in read every post.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "refuses_an_external_provider_without_an_allow_list" {
  command = plan
  variables {
    oidc = {
      issuer         = "https://idp.example.com", authorization_endpoint = "https://idp.example.com/authorize",
      token_endpoint = "https://idp.example.com/token", user_info_endpoint = "https://idp.example.com/userinfo",
      client_id      = "pulse"
    }
    oidc_client_secret = "not-a-real-secret"
  }
}
