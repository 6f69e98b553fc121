# Must fail. extra_environment must not switch the dashboard's authentication off.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "refuses_extra_environment_that_turns_authentication_off" {
  command = plan
  variables {
    extra_environment = {
      dashboard = { PULSE_DASHBOARD_AUTH_MODE = "none", PULSE_DASHBOARD_ALLOW_ANONYMOUS = "true" }
    }
  }
}
