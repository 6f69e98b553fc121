import random

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from pulse_common.retry import RetryPolicy, aws_error_code, is_retryable_aws_error


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


def test_backoff_grows_exponentially_up_to_the_cap_without_jitter():
    delays = RetryPolicy(0.1, 1.0, jitter=False).delays()
    assert [round(next(delays), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_jittered_delays_stay_within_the_exponential_ceiling():
    delays = RetryPolicy(0.1, 1.0).delays(rng=random.Random(7))
    waits = [next(delays) for _ in range(10)]
    for attempt, wait in enumerate(waits):
        assert 0 <= wait <= min(1.0, 0.1 * 2**attempt)
    assert len(set(waits)) == len(waits)  # jittered: no two alike


def test_throttling_and_5xx_are_retryable_but_validation_errors_are_not():
    assert is_retryable_aws_error(_client_error("ProvisionedThroughputExceededException"))
    assert is_retryable_aws_error(_client_error("Whatever", 503))
    assert is_retryable_aws_error(_client_error("Whatever", 429))
    assert is_retryable_aws_error(EndpointConnectionError(endpoint_url="http://x"))
    assert not is_retryable_aws_error(_client_error("ValidationException"))
    assert not is_retryable_aws_error(ValueError("a bug"))


def test_the_error_code_is_the_aws_code_or_else_the_exception_type():
    assert aws_error_code(_client_error("ThrottlingException")) == "ThrottlingException"
    assert aws_error_code(ClientError({"Error": {}}, "Op")) == "ClientError"
    assert aws_error_code(TimeoutError()) == "TimeoutError"


def test_a_call_is_retried_on_throttling_then_returns():
    calls, waits = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise _client_error("ThrottlingException")
        return "ok"

    retried = []
    policy = RetryPolicy(0.1, 1.0, jitter=False)
    assert policy.call(flaky, sleep=waits.append, on_retry=lambda n, exc, d: retried.append(n)) == "ok"
    assert len(calls) == 3 and waits == [0.1, 0.2] and retried == [1, 2]


def failing_with(code: str, calls: list):
    def call():
        calls.append(1)
        raise _client_error(code)

    return call


def test_a_non_retryable_error_is_raised_at_once():
    calls: list = []
    with pytest.raises(ClientError):
        RetryPolicy().call(failing_with("ValidationException", calls), sleep=lambda _s: None)
    assert len(calls) == 1


def test_the_policy_gives_up_after_its_attempts_and_never_without_a_limit_until_told_to_stop():
    calls: list = []
    with pytest.raises(ClientError):
        RetryPolicy(max_attempts=4).call(failing_with("ThrottlingException", calls), sleep=lambda _s: None)
    assert len(calls) == 4

    calls.clear()
    with pytest.raises(ClientError):
        RetryPolicy(max_attempts=None).call(
            failing_with("ThrottlingException", calls),
            sleep=lambda _s: None,
            should_stop=lambda: len(calls) >= 30,
        )
    assert len(calls) == 30


def test_what_is_retryable_is_the_policy_s_choice():
    policy = RetryPolicy(retryable=lambda exc: isinstance(exc, KeyError))
    attempts = []

    def once_missing():
        attempts.append(1)
        if len(attempts) == 1:
            raise KeyError("x")
        return 7

    assert policy.call(once_missing, sleep=lambda _s: None) == 7
