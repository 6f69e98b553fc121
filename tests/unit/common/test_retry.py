import random

import pytest
from botocore.exceptions import ClientError

from pulse_common.retry import backoff_delays, call_with_retry, is_retryable_aws_error


def _client_error(code: str, status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


def test_backoff_grows_exponentially_up_to_the_cap_without_jitter():
    delays = backoff_delays(0.1, 1.0, jitter=False)
    assert [round(next(delays), 3) for _ in range(6)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_jittered_delays_stay_within_the_exponential_ceiling():
    delays = backoff_delays(0.1, 1.0, rng=random.Random(7))
    for attempt in range(10):
        assert 0 <= next(delays) <= min(1.0, 0.1 * 2**attempt)


def test_throttling_and_5xx_are_retryable_but_validation_errors_are_not():
    assert is_retryable_aws_error(_client_error("ProvisionedThroughputExceededException"))
    assert is_retryable_aws_error(_client_error("Whatever", 503))
    assert not is_retryable_aws_error(_client_error("ValidationException"))


def test_call_with_retry_retries_throttling_then_returns():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise _client_error("ThrottlingException")
        return "ok"

    assert call_with_retry(flaky, sleep=lambda _s: None) == "ok"
    assert len(calls) == 3


def test_call_with_retry_raises_a_non_retryable_error_at_once():
    calls = []

    def broken():
        calls.append(1)
        raise _client_error("ValidationException")

    with pytest.raises(ClientError):
        call_with_retry(broken, sleep=lambda _s: None)
    assert len(calls) == 1
