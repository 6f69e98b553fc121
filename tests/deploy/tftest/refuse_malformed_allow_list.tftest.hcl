# Must fail. An allow-list entry must be an e-mail address or an @domain.
mock_provider "aws" {
  source = "./tests/mocks"
}

run "refuses_an_allow_list_entry_that_is_not_an_address_or_domain" {
  command = plan
  variables {
    dashboard_allowed_users = ["everyone"]
  }
}
