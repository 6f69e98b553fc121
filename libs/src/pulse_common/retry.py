"""The one retry policy: capped exponential backoff with full jitter, retrying only what is retryable.

Every call site that retries builds a `RetryPolicy` (base, cap, jitter, which errors are retryable,
when to stop) and either hands it the call (`policy.call(fn)`) or, where a response can fail in part
(unprocessed items, failed entries of a batch), takes its schedule (`policy.delays()`) and resends
only the failed subset. `aws_error_code` is the one reading of an AWS error's code.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
CONNECTION_ERRORS = frozenset(
    {
        "EndpointConnectionError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "ConnectionError",
    }
)


def aws_error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("ThrottlingException", ...); for any other
    exception (or a ClientError without a code), its type name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = (response.get("Error") or {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


def aws_status(exc: BaseException) -> int:
    """The HTTP status of an AWS error response (0 when there was no response)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
    return 0


def is_retryable_aws_error(exc: BaseException) -> bool:
    """True for throttling, 429, 5xx and connection trouble; False for client mistakes."""
    if isinstance(getattr(exc, "response", None), dict):
        status = aws_status(exc)
        return aws_error_code(exc) in RETRYABLE_AWS_CODES or status == 429 or status >= 500
    return type(exc).__name__ in CONNECTION_ERRORS


def _never_stop() -> bool:
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """How one kind of call is retried.

    - `base_s`, `cap_s`: attempt n (from 0) waits uniform(0, min(cap, base * 2**n)) ("full jitter"),
      or exactly that ceiling with `jitter=False` (schedules a third party prescribes, such as X's
      reconnect rules);
    - `retryable`: which errors are worth another attempt (default: throttling, 429, 5xx, connection
      errors; anything else is raised at once);
    - `max_attempts`: calls before the last error is raised; None retries until the call succeeds (the
      pipeline's durable writes: blocking is how back-pressure works, skipping would lose data).
      `call(should_stop=...)` also ends the retries (a shutdown).
    """

    base_s: float = 0.1
    cap_s: float = 10.0
    jitter: bool = True
    max_attempts: int | None = 8
    retryable: Callable[[BaseException], bool] = is_retryable_aws_error

    def replace(self, **changes: object) -> RetryPolicy:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The endless schedule of waits, one per retry."""
        rng = rng or random.Random()
        attempt = 0
        while True:
            ceiling = min(self.cap_s, self.base_s * (2**attempt))
            yield rng.uniform(0, ceiling) if self.jitter else ceiling
            attempt = min(attempt + 1, 62)

    def call(
        self,
        fn: Callable[[], T],
        *,
        sleep: Callable[[float], object] = time.sleep,
        on_retry: Callable[[int, BaseException, float], None] | None = None,
        should_stop: Callable[[], bool] = _never_stop,
    ) -> T:
        """fn(), retried on retryable errors; raises the last error once the policy gives up."""
        delays = self.delays()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:
                if (
                    not self.retryable(exc)
                    or (self.max_attempts is not None and attempt >= self.max_attempts)
                    or should_stop()
                ):
                    raise
                delay = next(delays)
                if on_retry is not None:
                    on_retry(attempt, exc, delay)
                sleep(delay)
