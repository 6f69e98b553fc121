"""OpenSearch client (none / basic / SigV4 auth, TLS verified) and the dead-letter queue writer."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlparse

from pulse_common.aws import client as aws_client
from pulse_common.contracts.dead_letter import DEAD_LETTER_RETRY, DeadLetterWriter
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


def dead_letter_writer(
    stack: StackSettings, *, retry_base_s: float = 0.2, retry_cap_s: float = 10.0, sqs: Any = None
) -> DeadLetterWriter:
    """The dead-letter queue PULSE_DLQ_NAME, counted in pulse_indexer_dead_letters_total{reason}."""
    return DeadLetterWriter(
        sqs or aws_client("sqs", stack),
        stack.dlq_name,
        retry=DEAD_LETTER_RETRY.replace(base_s=retry_base_s, cap_s=retry_cap_s),
        on_sent=lambda letter: m.DEAD_LETTERS.labels(letter.reason).inc(),
    )
