"""The one OpenSearch client builder: the stack's URL, its auth (none / basic / SigV4), TLS verified."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from pulse_common.settings import StackSettings

if TYPE_CHECKING:
    from opensearchpy import OpenSearch


def opensearch_client(
    stack: StackSettings, *, timeout_s: float = 30.0, pool_size: int = 10, max_retries: int = 0
) -> OpenSearch:
    """An opensearch-py client for `stack.opensearch_url`. Its own retries are off by default: the
    writers retry what is retryable with their RetryPolicy; a reader may allow `max_retries`."""
    from opensearchpy import OpenSearch, RequestsHttpConnection, Urllib3HttpConnection

    url = urlparse(stack.opensearch_url)
    use_ssl = url.scheme == "https"
    kwargs: dict[str, Any] = {
        "hosts": [{"host": url.hostname, "port": url.port or (443 if use_ssl else 80)}],
        "use_ssl": use_ssl,
        "verify_certs": stack.opensearch_verify_tls if use_ssl else False,
        "ssl_show_warn": False,
        "timeout": timeout_s,
        "max_retries": max_retries,
        "retry_on_timeout": False,
        "http_compress": False,
    }
    if url.path and url.path != "/":
        kwargs["url_prefix"] = url.path
    if stack.opensearch_auth == "sigv4":
        import boto3
        from opensearchpy import AWSV4SignerAuth

        credentials = boto3.Session().get_credentials()
        kwargs["http_auth"] = AWSV4SignerAuth(credentials, stack.aws_region, "es")
        kwargs["connection_class"] = RequestsHttpConnection
        kwargs["pool_maxsize"] = pool_size
    else:
        if stack.opensearch_auth == "basic":
            password = stack.opensearch_password.get_secret_value() if stack.opensearch_password else ""
            kwargs["http_auth"] = (stack.opensearch_username or "", password)
        kwargs["connection_class"] = Urllib3HttpConnection
        kwargs["maxsize"] = pool_size
    return OpenSearch(**kwargs)
