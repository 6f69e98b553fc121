from opensearchpy import AWSV4SignerAuth

from pulse_common.opensearch import opensearch_client
from pulse_common.settings import StackSettings


def _connection(stack):
    return opensearch_client(stack).transport.connection_pool.connections[0]


def test_local_opensearch_needs_no_auth_and_no_tls():
    conn = _connection(StackSettings(opensearch_url="http://127.0.0.1:9200"))
    assert conn.host == "http://127.0.0.1:9200"
    assert getattr(conn, "http_auth", None) is None


def test_amazon_opensearch_is_signed_with_sigv4_for_service_es_over_verified_tls(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    stack = StackSettings(
        opensearch_url="https://search-pulse.eu-west-1.es.amazonaws.com",
        opensearch_auth="sigv4",
        aws_region="eu-west-1",
    )
    conn = _connection(stack)
    assert conn.host == "https://search-pulse.eu-west-1.es.amazonaws.com:443"
    assert isinstance(conn.session.auth, AWSV4SignerAuth)
    assert conn.session.auth.service == "es" and conn.session.auth.signer.region == "eu-west-1"
    assert conn.session.verify not in (False, None)  # True or a CA bundle path: verification on


def test_basic_auth_sends_the_configured_user():
    stack = StackSettings(
        opensearch_url="https://os.internal:9200",
        opensearch_auth="basic",
        opensearch_username="pulse",
        opensearch_password="pw",
    )
    conn = _connection(stack)
    assert "authorization" in {k.lower() for k in conn.headers}
