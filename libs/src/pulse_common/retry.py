"""Capped exponential backoff with full jitter; retry only what is retryable."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

# AWS error codes that mean "slow down or try again", never "your request is wrong".
RETRYABLE_AWS_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "InternalFailure",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
        "TransactionInProgressException",
    }
)


def backoff_delays(
    base_s: float = 0.1,
    cap_s: float = 10.0,
    *,
    rng: random.Random | None = None,
    jitter: bool = True,
) -> Iterator[float]:
    """Endless delays: attempt n waits uniform(0, min(cap, base * 2**n)) ("full jitter")."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        ceiling = min(cap_s, base_s * (2**attempt))
        yield rng.uniform(0, ceiling) if jitter else ceiling
        attempt = min(attempt + 1, 62)


def is_retryable_aws_error(exc: BaseException) -> bool:
    """True for throttling, 5xx and connection trouble; False for client mistakes."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0
        return code in RETRYABLE_AWS_CODES or status == 429 or status >= 500
    name = type(exc).__name__
    return name in {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ConnectionError",
    }


def call_with_retry(
    fn: Callable[[], T],
    *,
    is_retryable: Callable[[BaseException], bool] = is_retryable_aws_error,
    max_attempts: int | None = 8,
    base_s: float = 0.1,
    cap_s: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call fn; on a retryable error wait and try again, up to max_attempts (None = forever)."""
    delays = backoff_delays(base_s, cap_s)
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:
            if not is_retryable(exc) or (max_attempts is not None and attempt >= max_attempts):
                raise
            delay = next(delays)
            if on_retry:
                on_retry(attempt, exc, delay)
            sleep(delay)
