"""No anonymous data service by accident: `pulse-dashboard` with AUTH_MODE=none serves on loopback
only, unless PULSE_DASHBOARD_ALLOW_ANONYMOUS says anonymous access is meant."""

from __future__ import annotations

import pytest

from pulse_dashboard import cli
from pulse_dashboard.settings import DashboardSettings


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.0.3.17", "dashboard.internal"])
def test_the_dashboard_refuses_to_start_without_auth_on_a_reachable_address(host, monkeypatch, capsys):
    monkeypatch.delenv("PULSE_DASHBOARD_AUTH_MODE", raising=False)
    monkeypatch.delenv("PULSE_DASHBOARD_ALLOW_ANONYMOUS", raising=False)
    monkeypatch.setenv("PULSE_DASHBOARD_HOST", host)
    assert cli.main(["--port", "0"]) == 2  # before binding anything
    err = capsys.readouterr().err
    assert "refusing to serve without authentication" in err and "PULSE_DASHBOARD_ALLOW_ANONYMOUS" in err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.53", "::1", "[::1]", "localhost"])
def test_without_auth_loopback_is_fine(host):
    assert DashboardSettings(host=host).serving_problem() is None


def test_anonymous_access_on_a_reachable_address_needs_saying_so(monkeypatch):
    monkeypatch.setenv("PULSE_DASHBOARD_ALLOW_ANONYMOUS", "true")
    assert DashboardSettings(host="0.0.0.0").serving_problem() is None
    assert DashboardSettings(host="0.0.0.0", allow_anonymous=False).serving_problem() is not None


def test_a_real_auth_mode_serves_on_any_address():
    settings = DashboardSettings(host="0.0.0.0", auth_mode="token", auth_token="t0ken-long-enough")
    assert settings.serving_problem() is None
