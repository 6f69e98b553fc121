"""The OpenSearch client, built from StackSettings (none / basic / SigV4 auth)."""

from __future__ import annotations

from opensearchpy import OpenSearch, RequestsHttpConnection, Urllib3HttpConnection

from pulse_common.settings import StackSettings


def make_client(stack: StackSettings, *, timeout_s: float = 10.0, maxsize: int = 16) -> OpenSearch:
    kwargs: dict = {
        "hosts": [stack.opensearch_url],
        "timeout": timeout_s,
        "max_retries": 1,
        "retry_on_timeout": False,
        "verify_certs": stack.opensearch_verify_tls,
        "ssl_show_warn": False,
    }
    if stack.opensearch_auth == "basic":
        password = stack.opensearch_password.get_secret_value() if stack.opensearch_password else ""
        kwargs["http_auth"] = (stack.opensearch_username or "", password)
    if stack.opensearch_auth == "sigv4":
        import boto3
        from opensearchpy import AWSV4SignerAuth

        credentials = boto3.Session().get_credentials()
        kwargs["http_auth"] = AWSV4SignerAuth(credentials, stack.aws_region, "es")
        kwargs["connection_class"] = RequestsHttpConnection
        kwargs["pool_maxsize"] = maxsize
    else:
        kwargs["connection_class"] = Urllib3HttpConnection
        kwargs["maxsize"] = maxsize
    return OpenSearch(**kwargs)
