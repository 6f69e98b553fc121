# `terraform plan` of an environment with a mocked hashicorp/aws provider: Terraform evaluates
# every expression, output, validation and precondition as a real plan would, without AWS.
# deploy/offline/standin.py copies this directory into a copy of the environment as tests/ and
# runs `terraform test -var environment=<env>` with the stand-in provider's schema.

mock_provider "aws" {
  source = "./tests/mocks"
}

# The variables: common.auto.tfvars (and -var environment=<env>).

run "plans_with_the_cognito_user_pool" {
  command = plan

  assert {
    condition     = output.ecs_cluster_name == "pulse-${var.environment}"
    error_message = "the cluster is named after the environment"
  }

  assert {
    condition     = output.dashboard_url == "https://pulse.example.com"
    error_message = "the dashboard URL is the configured name"
  }
}

run "plans_with_an_external_oidc_provider_and_an_allow_list" {
  command = plan

  variables {
    oidc = {
      issuer                 = "https://idp.example.com"
      authorization_endpoint = "https://idp.example.com/authorize"
      token_endpoint         = "https://idp.example.com/token"
      user_info_endpoint     = "https://idp.example.com/userinfo"
      client_id              = "pulse"
    }
    oidc_client_secret      = "not-a-real-secret"
    dashboard_allowed_users = ["analyst@example.com", "@example.org"]
  }

  assert {
    condition     = output.cognito_user_pool_id == null
    error_message = "no Cognito user pool with an external provider"
  }
}
