"""Secrets never reach a log: a token pasted with its newline is cleaned (or refused without being
echoed) when settings are built, and every path by which text gets into a log line (the message,
its %-args, `extra`, `exc_info` with chained causes and notes, `stack_info`) is redacted by the one
JSON formatter all services use."""

from __future__ import annotations

import io
import json
import logging

import pytest
import requests

from pulse_common.logging import REDACTED, configure_logging, redact
from pulse_common.settings import StackSettings, secret_values
from pulse_dashboard.settings import DashboardSettings
from pulse_producer import cli as producer_cli
from pulse_producer.settings import ProducerSettings

# The shapes of real credentials (AWS's documented example keys; an X app-only bearer token).
X_TOKEN = (
    "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3D"
    "EUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F"
)
AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DASHBOARD_TOKEN = "dash-7f3c9a1e5b2d"
OPENSEARCH_PASSWORD = "Op3nS3arch!pass"
# Known to no setting and no environment variable: only the pattern rules can catch it.
STRAY_SECRET = "z9Y8x7W6v5U4t3S2r1Q0pOnMlKjIhGfEdCbA1234"
SECRETS = (X_TOKEN, AWS_KEY_ID, AWS_SECRET, DASHBOARD_TOKEN, OPENSEARCH_PASSWORD, STRAY_SECRET)


@pytest.fixture
def logs(monkeypatch):
    """Logging configured as a service does, with its settings' secrets; returns a reader of the lines
    its stderr handler wrote."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
    monkeypatch.setenv("PULSE_OPENSEARCH_PASSWORD", OPENSEARCH_PASSWORD)
    settings = DashboardSettings(auth_mode="token", auth_token=DASHBOARD_TOKEN)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("security-test", "DEBUG", secrets=secret_values(settings))
    (handler,) = root.handlers
    written = io.StringIO()
    handler.setStream(written)  # the configured handler and formatter, writing where the test reads

    def lines() -> list[str]:
        return [line for line in written.getvalue().splitlines() if line.strip()]

    yield lines
    root.handlers[:], level = saved
    root.setLevel(level)


def _invalid_header_error() -> requests.exceptions.InvalidHeader:
    """What requests raised for a bearer token pasted with its trailing newline."""
    try:
        stream = "https://api.x.com/2/tweets/search/stream"
        requests.Request("GET", stream, headers={"Authorization": f"Bearer {X_TOKEN}\n"}).prepare()
    except requests.exceptions.InvalidHeader as exc:
        return exc
    raise AssertionError("requests accepted a header with a newline")


def test_every_logging_path_is_redacted(logs):
    log = logging.getLogger("pulse.security")
    header_error = _invalid_header_error()
    assert X_TOKEN in str(header_error)  # the leak the issue saw
    log.info(f"message: Authorization: Bearer {X_TOKEN}")
    log.warning(
        "args: %s %s", {"Authorization": f"Bearer {X_TOKEN}"}, f"aws_secret_access_key={STRAY_SECRET}"
    )
    log.warning(
        "extra",
        extra={
            "headers": {"Authorization": f"Basic {DASHBOARD_TOKEN}", "X-Amz-Security-Token": AWS_SECRET},
            "url": f"https://dash.example.com/api/posts?pulse_token={DASHBOARD_TOKEN}",
            "x_bearer_token": X_TOKEN,
            "credentials": {"SecretAccessKey": AWS_SECRET, "SessionToken": STRAY_SECRET},
            "error": header_error,  # not JSON: turned into text, then redacted
            "signed": f"AWS4-HMAC-SHA256 Credential={AWS_KEY_ID}/20261202/us-east-1/kinesis/aws4_request",
        },
    )
    try:
        try:
            raise header_error
        except requests.exceptions.InvalidHeader as cause:
            wrapped = RuntimeError(f"sync failed for {AWS_KEY_ID} with the dashboard token {DASHBOARD_TOKEN}")
            wrapped.add_note(f"opensearch password was {OPENSEARCH_PASSWORD}")
            raise wrapped from cause
    except RuntimeError:
        log.exception("exc_info: source failed")
    _log_with_stack(log)
    lines = logs()
    assert len(lines) == 5
    for line in lines:
        entry = json.loads(line)  # still one JSON object a line
        for secret in SECRETS:
            assert secret not in line, (secret, entry)
        assert REDACTED in line
    exc_line = json.loads(lines[3])
    assert "InvalidHeader" in exc_line["exc"] and "RuntimeError" in exc_line["exc"]  # the trace stays useful
    assert "stack" in json.loads(lines[4])


def _log_with_stack(log: logging.Logger) -> None:
    log.warning("stack_info", stack_info=True)  # a secret on the logging line: token=dash-7f3c9a1e5b2d


def test_a_cli_error_line_on_stderr_is_redacted_too(logs):
    assert DASHBOARD_TOKEN not in redact(f"source failed: token mismatch {DASHBOARD_TOKEN}")
    assert X_TOKEN not in redact(f"InvalidHeader: 'Bearer {X_TOKEN}\\n'")


def test_a_pasted_token_loses_its_newline_before_it_reaches_a_header(monkeypatch):
    monkeypatch.setenv("PULSE_PRODUCER_X_BEARER_TOKEN", f"{X_TOKEN}\r\n")
    assert ProducerSettings().x_bearer_token.get_secret_value() == X_TOKEN
    monkeypatch.setenv("PULSE_DASHBOARD_AUTH_TOKEN", f"  {DASHBOARD_TOKEN}\n")
    monkeypatch.setenv("PULSE_DASHBOARD_AUTH_MODE", "token")
    assert DashboardSettings().auth_token.get_secret_value() == DASHBOARD_TOKEN


def test_a_token_with_a_break_inside_is_refused_without_being_echoed(monkeypatch, capsys):
    monkeypatch.setenv("PULSE_PRODUCER_X_BEARER_TOKEN", f"{X_TOKEN[:40]}\n{X_TOKEN[40:]}")
    assert producer_cli.main(["x"]) == producer_cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "x_bearer_token" in err and "visible ASCII" in err
    assert X_TOKEN[:40] not in err and X_TOKEN[40:] not in err


def test_a_refused_password_is_not_echoed_either(monkeypatch):
    # A password pasted into the wrong variable.
    monkeypatch.setenv("PULSE_OPENSEARCH_AUTH", OPENSEARCH_PASSWORD)
    with pytest.raises(ValueError) as refused:
        StackSettings()
    assert OPENSEARCH_PASSWORD not in str(refused.value)
