"""The dev stack's OpenSearch node, built from Maven Central jars, behaves like the real thing for
everything Pulse relies on: english and edge_ngram analysis, nested mappings, external versioning,
significant_text and nested aggregations, painless, mapper-extras fields; and it stops cleanly.

Each test module run starts its own node on free ports in a temporary home, never the shared stack's.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from pulse_devstack import opensearch
from pulse_devstack.paths import CACHE_DIR

pytestmark = pytest.mark.integration

OPENSEARCH_CACHE = CACHE_DIR / "opensearch"
HEAP_MB = 512


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return opensearch._group_alive(pgid)


class Node:
    def __init__(self, url: str, proc, log_path: Path, home: Path, http_port: int, transport_port: int):
        self.url = url
        self.proc = proc
        self.log_path = log_path
        self.home = home
        self.http_port = http_port
        self.transport_port = transport_port

    def req(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        resp = self.req(method, path, **kwargs)
        assert resp.status_code < 300, f"{method} {path} -> {resp.status_code}: {resp.text}"
        return resp.json()


def _start(tmp: Path, name: str) -> Node:
    http_port, transport_port = _free_port(), _free_port()
    home = tmp / name
    log_path = tmp / f"{name}.log"
    proc = opensearch.start_node(
        cache_dir=OPENSEARCH_CACHE,
        home=home,
        http_port=http_port,
        transport_port=transport_port,
        log_path=log_path,
        heap_mb=HEAP_MB,
    )
    url = f"http://127.0.0.1:{http_port}"
    try:
        opensearch.wait_healthy(url, timeout_s=180, log_path=log_path, proc=proc)
    except BaseException:
        opensearch.stop_node(proc.pid, timeout_s=10)
        raise
    return Node(url, proc, log_path, home, http_port, transport_port)


@pytest.fixture(scope="module")
def built() -> list[Path]:
    return opensearch.build(OPENSEARCH_CACHE, log=print)


@pytest.fixture(scope="module")
def node(built, tmp_path_factory) -> Iterator[Node]:
    started = time.monotonic()
    n = _start(tmp_path_factory.mktemp("opensearch"), "node")
    print(f"bench: opensearch_start_to_healthy_s {time.monotonic() - started:.1f}")
    yield n
    opensearch.stop_node(n.proc.pid, timeout_s=30)


# ------------------------------------------------------------------------------------------- build


def test_a_second_build_reuses_the_cache_without_running_maven(built, monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"build ran a process although the cache is current: {args}")

    monkeypatch.setattr(opensearch.subprocess, "run", no_subprocess)
    assert opensearch.build(OPENSEARCH_CACHE, log=print) == built
    assert built[0].name == "pulse-node.jar"
    assert any(p.name.startswith("opensearch-2.19.") for p in built)


def test_a_missing_maven_is_reported_clearly(tmp_path, monkeypatch):
    real_which = opensearch.shutil.which
    monkeypatch.setattr(opensearch.shutil, "which", lambda tool: None if tool == "mvn" else real_which(tool))
    with pytest.raises(RuntimeError, match="Maven is required"):
        opensearch.build(tmp_path / "cache", log=print)


def test_a_missing_java_is_reported_clearly(tmp_path, monkeypatch):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setattr(opensearch.shutil, "which", lambda tool: None)
    with pytest.raises(RuntimeError, match=r"Java 17\+ is required"):
        opensearch.build(tmp_path / "cache", log=print)


# ------------------------------------------------------------------------------------------- start


def test_the_node_is_opensearch_2_19_with_the_module_plugins(node):
    info = node.ok("GET", "/")
    assert info["version"]["number"].startswith("2.19.")
    plugins = {p["component"] for p in node.ok("GET", "/_cat/plugins?format=json")}
    assert {
        "org.opensearch.transport.Netty4Plugin",
        "org.opensearch.analysis.common.CommonAnalysisPlugin",
        "org.opensearch.painless.PainlessPlugin",
        "org.opensearch.index.mapper.MapperExtrasPlugin",
    } <= plugins


def test_the_node_starts_from_the_class_data_sharing_archive_made_by_build(node):
    log = node.log_path.read_text()
    if not opensearch._cds_enabled():
        # PULSE_OPENSEARCH_CDS=0 (CI, where few node starts do not repay the archive's training).
        assert "-XX:SharedArchiveFile=" not in log
        return
    assert "-XX:SharedArchiveFile=" in log
    assert "Unable to use shared archive" not in log


def test_starting_on_a_busy_port_fails_before_launching_java(node, tmp_path):
    with pytest.raises(RuntimeError, match=f"port 127.0.0.1:{node.http_port} is already in use"):
        opensearch.start_node(
            cache_dir=OPENSEARCH_CACHE,
            home=tmp_path / "other",
            http_port=node.http_port,
            transport_port=_free_port(),
            log_path=tmp_path / "other.log",
        )


def test_a_node_that_cannot_start_fails_fast_and_names_its_log(node, tmp_path):
    # Same home as the running node: the data directory lock makes the second JVM exit.
    log_path = tmp_path / "second.log"
    proc = opensearch.start_node(
        cache_dir=OPENSEARCH_CACHE,
        home=node.home,
        http_port=_free_port(),
        transport_port=_free_port(),
        log_path=log_path,
        heap_mb=256,
    )
    try:
        with pytest.raises(RuntimeError, match="exited with code") as excinfo:
            opensearch.wait_healthy(
                f"http://127.0.0.1:{_free_port()}", timeout_s=120, log_path=log_path, proc=proc
            )
        assert str(log_path) in str(excinfo.value)
        assert "PulseNode: failed to start" in str(excinfo.value)
    finally:
        opensearch.stop_node(proc.pid, timeout_s=10)


# ----------------------------------------------------------------------------------------- search

POSTS_INDEX = {
    "settings": {
        "number_of_shards": 1,
        "number_of_replicas": 0,
        "analysis": {
            "tokenizer": {
                "autocomplete_edge": {
                    "type": "edge_ngram",
                    "min_gram": 2,
                    "max_gram": 15,
                    "token_chars": ["letter", "digit"],
                }
            },
            "filter": {"edge_2_15": {"type": "edge_ngram", "min_gram": 2, "max_gram": 15}},
            "analyzer": {
                "autocomplete": {"type": "custom", "tokenizer": "autocomplete_edge", "filter": ["lowercase"]},
                "autocomplete_filter": {
                    "type": "custom",
                    "tokenizer": "standard",
                    "filter": ["lowercase", "edge_2_15"],
                },
            },
        },
    },
    "mappings": {
        "properties": {
            "text": {"type": "text", "analyzer": "english"},
            "brand": {"type": "keyword"},
            "product": {
                "type": "text",
                "analyzer": "autocomplete",
                "search_analyzer": "standard",
                "fields": {"prefix": {"type": "text", "analyzer": "autocomplete_filter"}},
            },
            "engagement": {"type": "rank_feature"},
            "score": {"type": "scaled_float", "scaling_factor": 100},
            "entities": {
                "type": "nested",
                "properties": {"name": {"type": "keyword"}, "sentiment": {"type": "float"}},
            },
        }
    },
}


def _post(i: int) -> dict:
    if i % 3 == 0:
        return {
            "text": f"The battery drains overnight, battery life is terrible {i}",
            "brand": "acme",
            "product": "Acme Phone X",
            "engagement": 1 + i,
            "score": -0.75,
            "entities": [{"name": "battery", "sentiment": -0.8}, {"name": "acme", "sentiment": -0.2}],
        }
    return {
        "text": f"Lovely weather today, went for a walk in the park {i}",
        "brand": "other",
        "product": "Umbrella Pro",
        "engagement": 1 + i,
        "score": 0.5,
        "entities": [{"name": "weather", "sentiment": 0.6}],
    }


@pytest.fixture(scope="module")
def posts(node) -> str:
    index = "t-posts-node-test"
    node.ok("PUT", f"/{index}", json=POSTS_INDEX)
    for i in range(30):
        node.ok("PUT", f"/{index}/_doc/p{i}?version={1000 + i}&version_type=external", json=_post(i))
    node.ok("POST", f"/{index}/_refresh")
    return index


def test_the_english_analyzer_stems_so_runs_finds_running(node, posts):
    node.ok(
        "PUT",
        f"/{posts}/_doc/stem?version=1&version_type=external&refresh=true",
        json={"text": "My phone keeps running hot", "brand": "x"},
    )
    hits = node.ok("POST", f"/{posts}/_search", json={"query": {"match": {"text": "runs"}}})["hits"]
    assert [h["_id"] for h in hits["hits"]] == ["stem"]
    tokens = node.ok("POST", "/_analyze", json={"analyzer": "english", "text": "batteries running"})
    assert [t["token"] for t in tokens["tokens"]] == ["batteri", "run"]


def test_edge_ngram_analysis_matches_a_typed_prefix(node, posts):
    for field in ("product", "product.prefix"):
        hits = node.ok("POST", f"/{posts}/_search", json={"query": {"match": {field: "umbr"}}})["hits"]
        assert hits["total"]["value"] == 20, field
    tokens = node.ok("POST", f"/{posts}/_analyze", json={"analyzer": "autocomplete", "text": "Acme"})
    assert [t["token"] for t in tokens["tokens"]] == ["ac", "acm", "acme"]


def test_an_older_external_version_is_rejected_with_409(node, posts):
    doc = f"/{posts}/_doc/versioned"
    node.ok("PUT", f"{doc}?version=2000&version_type=external", json={"text": "newer", "brand": "b"})
    older = node.req("PUT", f"{doc}?version=1999&version_type=external", json={"text": "older", "brand": "b"})
    assert older.status_code == 409
    assert older.json()["error"]["type"] == "version_conflict_engine_exception"
    same = node.req("PUT", f"{doc}?version=2000&version_type=external", json={"text": "same", "brand": "b"})
    assert same.status_code == 409
    got = node.ok("GET", doc)
    assert (got["_version"], got["_source"]["text"]) == (2000, "newer")
    node.ok("PUT", f"{doc}?version=2001&version_type=external", json={"text": "newest", "brand": "b"})
    assert node.ok("GET", doc)["_source"]["text"] == "newest"


def test_significant_text_surfaces_what_sets_a_brand_apart(node, posts):
    body = {
        "size": 0,
        "query": {"term": {"brand": "acme"}},
        "aggs": {"sig": {"significant_text": {"field": "text", "size": 10, "min_doc_count": 3}}},
    }
    buckets = node.ok("POST", f"/{posts}/_search", json=body)["aggregations"]["sig"]["buckets"]
    keys = [b["key"] for b in buckets]
    assert "batteri" in keys
    assert "weather" not in keys


def test_a_nested_aggregation_averages_sentiment_per_entity(node, posts):
    body = {
        "size": 0,
        "aggs": {
            "entities": {
                "nested": {"path": "entities"},
                "aggs": {
                    "names": {
                        "terms": {"field": "entities.name"},
                        "aggs": {"sentiment": {"avg": {"field": "entities.sentiment"}}},
                    }
                },
            }
        },
    }
    aggs = node.ok("POST", f"/{posts}/_search", json=body)["aggregations"]["entities"]
    by_name = {b["key"]: b for b in aggs["names"]["buckets"]}
    assert by_name["battery"]["doc_count"] == 10
    assert by_name["weather"]["doc_count"] == 20
    assert by_name["battery"]["sentiment"]["value"] == pytest.approx(-0.8, abs=1e-6)
    nested_query = {
        "query": {
            "nested": {
                "path": "entities",
                "query": {
                    "bool": {
                        "filter": [
                            {"term": {"entities.name": "acme"}},
                            {"range": {"entities.sentiment": {"lt": 0}}},
                        ]
                    }
                },
            }
        }
    }
    assert node.ok("POST", f"/{posts}/_search", json=nested_query)["hits"]["total"]["value"] == 10


def test_painless_and_mapper_extras_fields_work(node, posts):
    node.ok(
        "POST",
        f"/{posts}/_update/p1?refresh=true",
        json={
            "script": {"lang": "painless", "source": "ctx._source.score += params.d", "params": {"d": 0.25}}
        },
    )
    assert node.ok("GET", f"/{posts}/_doc/p1")["_source"]["score"] == pytest.approx(0.75)
    body = {
        "query": {
            "bool": {
                "must": [{"match": {"text": "battery"}}],
                "should": [{"rank_feature": {"field": "engagement"}}],
            }
        }
    }
    hits = node.ok("POST", f"/{posts}/_search", json=body)["hits"]["hits"]
    assert hits and all(h["_source"]["brand"] == "acme" for h in hits)


# -------------------------------------------------------------------------------------------- stop


def test_stopping_a_node_closes_it_cleanly_and_leaves_no_process(built, tmp_path):
    n = _start(tmp_path, "stoppable")
    pid = n.proc.pid
    assert os.getpgid(pid) == pid  # its own process group
    opensearch.stop_node(pid, timeout_s=30)
    assert not _group_alive(pid)
    # SIGTERM runs the JVM's shutdown hooks (Node.close) and exits with 128 + 15.
    assert n.proc.wait(timeout=5) == 128 + signal.SIGTERM
    assert "[pulse-dev-node] closed" in n.log_path.read_text()
    assert not opensearch._port_in_use(n.http_port)
    # Stopping again is harmless.
    opensearch.stop_node(pid, timeout_s=1)
