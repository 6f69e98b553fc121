"""The posts template: versioned migrations, the read alias, and the queries the dashboard runs."""

from __future__ import annotations

import json

import indexer_data as data
import indexer_helpers  # noqa: F401 - puts tests/fixtures/indexer on sys.path first
import pytest

from pulse_common.contracts import search as naming
from pulse_common.opensearch import opensearch_client
from pulse_indexer.bulk import BulkWriter
from pulse_indexer.documents import upsert_action
from pulse_indexer.migrate import apply_migrations, installed_version, load_template

pytestmark = pytest.mark.integration


def _index_docs(stack, docs):
    search = opensearch_client(stack)
    writer = BulkWriter(search, sleep=lambda _s: None)
    actions = [upsert_action(data.make_item(doc), stack.opensearch_index_alias) for doc in docs]
    outcome = writer.write(actions)
    writer.close()
    assert outcome.indexed == len(docs) and not outcome.failed
    search.indices.refresh(index=stack.opensearch_index_alias)
    return search


def test_migrate_installs_the_versioned_template_once_and_upgrades_existing_indices(indexer_stack, tmp_path):
    stack = indexer_stack
    search = opensearch_client(stack)
    alias = stack.opensearch_index_alias
    version = load_template()["_meta"]["mapping_version"]
    assert installed_version(search, alias) == version  # isolated_stack already ran the migration
    assert apply_migrations(stack)["template_updated"] is False  # idempotent

    _index_docs(stack, [data.make_doc(1, 1)])
    newer = load_template()
    newer["_meta"]["mapping_version"] = version + 1
    newer["template"]["mappings"]["properties"]["campaign"] = {"type": "keyword"}
    newer["template"]["settings"]["index"]["refresh_interval"] = "750ms"
    (tmp_path / "posts.template.json").write_text(json.dumps(newer))
    result = apply_migrations(stack, mappings_dir=tmp_path)
    assert result["template_updated"] and result["needs_reindex"] == []
    assert result["indices_updated"] == [naming.index_for(alias, data.make_doc(1, 1)["created_at"])]
    mapping = search.indices.get_mapping(index=alias)
    assert all(m["mappings"]["properties"]["campaign"] == {"type": "keyword"} for m in mapping.values())
    settings = search.indices.get_settings(index=alias, name="index.refresh_interval")
    assert [s["settings"]["index"]["refresh_interval"] for s in settings.values()] == ["750ms"]
    assert installed_version(search, alias) == version + 1
    with pytest.raises(RuntimeError, match="refusing to downgrade"):
        apply_migrations(stack)


def test_a_type_change_an_index_cannot_take_is_reported_as_needing_a_reindex(indexer_stack, tmp_path):
    stack = indexer_stack
    _index_docs(stack, [data.make_doc(2, 1)])
    changed = load_template()
    changed["_meta"]["mapping_version"] += 1
    changed["template"]["mappings"]["properties"]["lang"] = {"type": "long"}
    (tmp_path / "posts.template.json").write_text(json.dumps(changed))
    result = apply_migrations(stack, mappings_dir=tmp_path)
    assert result["needs_reindex"] == [
        naming.index_for(stack.opensearch_index_alias, data.make_doc(2, 1)["created_at"])
    ]


def test_bootstrap_creates_the_current_month_so_the_alias_resolves_before_the_first_post(indexer_stack):
    stack = indexer_stack
    result = apply_migrations(stack, bootstrap=True)
    assert result["bootstrapped"] is not None
    search = opensearch_client(stack)
    assert search.search(index=stack.opensearch_index_alias)["hits"]["total"]["value"] == 0


def test_the_mapping_serves_partial_search_nested_aspect_aggregations_and_highlighting(indexer_stack):
    stack = indexer_stack
    docs = []
    for i in range(12):
        doc = data.make_doc(100 + i, 1)
        doc["hashtags"] = ["CameraFail"] if i % 2 else ["Unboxing"]
        doc["text"] = "The batteries died again" if i % 3 == 0 else "Lovely screen and camera"
        doc["aspects"] = [
            {
                "aspect": "battery",
                "term": "batteries",
                "polarity": "negative",
                "score": -0.7,
                "opinions": ["died"],
                "product": "acme-phone",
            },
            {
                "aspect": "camera",
                "term": "camera",
                "polarity": "positive" if i % 2 else "negative",
                "score": 0.5,
                "opinions": ["lovely"],
                "product": "globex-phone",
            },
        ]
        docs.append(doc)
    search = _index_docs(stack, docs)
    alias = stack.opensearch_index_alias

    partial = search.search(index=alias, body={"query": {"match": {"hashtags.search": "cAMERAf"}}})
    assert partial["hits"]["total"]["value"] == 6
    aspect_prefix = search.search(index=alias, body={"query": {"match": {"aspect_names.search": "BATT"}}})
    assert aspect_prefix["hits"]["total"]["value"] == 12
    stemmed = search.search(
        index=alias,
        body={"query": {"match": {"text": "battery"}}, "highlight": {"fields": {"text": {}}}},
    )
    assert stemmed["hits"]["total"]["value"] == 4
    assert "<em>batteries</em>" in stemmed["hits"]["hits"][0]["highlight"]["text"][0]

    # "camera" mentions: 6 positive and 6 negative, counted per aspect mention (nested, exact)
    aggs = search.search(
        index=alias,
        body={
            "size": 0,
            "aggs": {
                "aspects": {
                    "nested": {"path": "aspects"},
                    "aggs": {
                        "name": {
                            "terms": {"field": "aspects.name"},
                            "aggs": {"polarity": {"terms": {"field": "aspects.polarity"}}},
                        }
                    },
                }
            },
        },
    )["aggregations"]["aspects"]["name"]["buckets"]
    counts = {b["key"]: {p["key"]: p["doc_count"] for p in b["polarity"]["buckets"]} for b in aggs}
    assert counts == {"battery": {"negative": 12}, "camera": {"negative": 6, "positive": 6}}
    significant = search.search(
        index=alias,
        body={
            "size": 0,
            "query": {"match": {"hashtags": "camerafail"}},
            "aggs": {"terms": {"significant_text": {"field": "text"}}},
        },
    )
    assert "aggregations" in significant
