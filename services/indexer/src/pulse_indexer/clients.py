"""OpenSearch client (none / basic / SigV4 auth, TLS verified) and the dead-letter queue writer."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

import orjson

from pulse_common.aws import client as aws_client
from pulse_common.retry import RetryPolicy, aws_error_code
from pulse_common.settings import StackSettings
from pulse_indexer import metrics as m

log = logging.getLogger("pulse.indexer")


def opensearch_client(stack: StackSettings, *, timeout_s: float = 30.0, pool_size: int = 8) -> Any:
    """An opensearch-py client; its own retries are off (callers retry what is retryable)."""
    from opensearchpy import OpenSearch, RequestsHttpConnection, Urllib3HttpConnection

    url = urlparse(stack.opensearch_url)
    use_ssl = url.scheme == "https"
    kwargs: dict[str, Any] = {
        "hosts": [{"host": url.hostname, "port": url.port or (443 if use_ssl else 80)}],
        "use_ssl": use_ssl,
        "verify_certs": stack.opensearch_verify_tls if use_ssl else False,
        "timeout": timeout_s,
        "max_retries": 0,
        "retry_on_timeout": False,
        "http_compress": False,
        "pool_maxsize": pool_size,
    }
    if url.path and url.path != "/":
        kwargs["url_prefix"] = url.path
    if stack.opensearch_auth == "basic":
        password = stack.opensearch_password.get_secret_value() if stack.opensearch_password else ""
        kwargs["http_auth"] = (stack.opensearch_username or "", password)
        kwargs["connection_class"] = Urllib3HttpConnection
    elif stack.opensearch_auth == "sigv4":
        import boto3
        from opensearchpy import AWSV4SignerAuth

        credentials = boto3.Session().get_credentials()
        kwargs["http_auth"] = AWSV4SignerAuth(credentials, stack.aws_region, "es")
        kwargs["connection_class"] = RequestsHttpConnection
    else:
        kwargs["connection_class"] = Urllib3HttpConnection
    return OpenSearch(**kwargs)


class DeadLetterQueue:
    """Sends dead-letter messages to the SQS queue PULSE_DLQ_NAME; retries until they are stored."""

    def __init__(
        self,
        stack: StackSettings,
        *,
        sqs: Any = None,
        retry_base_s: float = 0.2,
        retry_cap_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.stack = stack
        self.sqs = sqs or aws_client("sqs", stack)
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s
        self._sleep = sleep
        self._url: str | None = None

    def url(self) -> str:
        if self._url is None:
            try:
                self._url = self.sqs.get_queue_url(QueueName=self.stack.dlq_name)["QueueUrl"]
            except Exception as exc:
                code = aws_error_code(exc)
                if "NonExistentQueue" not in code and "QueueDoesNotExist" not in code:
                    raise
                self._url = self.sqs.create_queue(QueueName=self.stack.dlq_name)["QueueUrl"]
        return self._url

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Store every message (batches of 10); blocks with backoff while SQS fails, never drops."""
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            entries = {str(i): orjson.dumps(msg).decode() for i, msg in enumerate(batch)}
            delays = RetryPolicy(self.retry_base_s, self.retry_cap_s).delays()
            while entries:
                try:
                    response = self.sqs.send_message_batch(
                        QueueUrl=self.url(),
                        Entries=[{"Id": key, "MessageBody": body} for key, body in entries.items()],
                    )
                except Exception as exc:  # noqa: BLE001 - a dead letter must not be lost: retry
                    log.warning("dead-letter send failed; retrying", extra={"error": str(exc)[:300]})
                    self._sleep(next(delays))
                    continue
                for ok in response.get("Successful", []):
                    msg = batch[int(ok["Id"])]
                    m.DEAD_LETTERS.labels(msg.get("reason", "unknown")).inc()
                    entries.pop(ok["Id"], None)
                if entries:
                    log.warning(
                        "some dead letters not accepted; retrying",
                        extra={"failed": response.get("Failed", [])[:3]},
                    )
                    self._sleep(next(delays))
