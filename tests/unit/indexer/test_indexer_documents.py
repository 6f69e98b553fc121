import base64
import json

import orjson
import pytest

from pulse_common.contracts.items import BadRecord
from pulse_indexer import documents
from pulse_indexer.documents import record_to_action

ALIAS = "pulse-posts"


def enriched(post_id="x:1", version=5, created_at="2026-11-20T08:00:00Z", **extra):
    doc = {
        "id": post_id,
        "network": "x",
        "native_id": post_id.split(":")[1],
        "created_at": created_at,
        "text": "The #Camera is great but the battery dies",
        "author": {"id": "u1", "username": "Alice"},
        "engagement": {"likes": 3, "reposts": 2, "replies": 1, "quotes": 0},
        "hashtags": ["Camera"],
        "geo": {"lat": 48.1, "lon": 11.5},
        "version": version,
        "sentiment": {"label": "neutral", "score": 0.0},
        "aspects": [
            {
                "aspect": "camera",
                "term": "Camera",
                "polarity": "positive",
                "score": 0.8,
                "opinions": ["great"],
                "product": "acme",
            },
            {
                "aspect": "battery",
                "term": "battery",
                "polarity": "negative",
                "score": -0.6,
                "opinions": ["dies"],
                "product": "acme",
            },
            {"aspect": "camera", "term": "cam", "polarity": "positive", "score": 0.5},
        ],
        "influence": {"score": 1.0},
        "enrichment_version": "test",
        "ingested_at": "2026-11-20T08:00:01Z",
    }
    doc.update(extra)
    return doc


def item(doc, version=None):
    return {
        "id": {"S": doc["id"]},
        "version": {"N": str(version if version is not None else doc["version"])},
        "created_at": {"S": doc["created_at"]},
        "ingested_at": {"S": doc.get("ingested_at") or ""},
        "doc": {"S": json.dumps(doc)},
    }


def record(event, new=None, old=None, seq="100", identity=None):
    rec = {
        "eventName": event,
        "dynamodb": {"SequenceNumber": seq, "Keys": {"id": (new or old)["id"]}},
    }
    if new is not None:
        rec["dynamodb"]["NewImage"] = new
    if old is not None:
        rec["dynamodb"]["OldImage"] = old
    if identity is not None:
        rec["userIdentity"] = identity
    return rec


def test_an_insert_becomes_an_externally_versioned_index_of_the_monthly_index():
    action = record_to_action(record("INSERT", new=item(enriched())), ALIAS, "shard-1")
    assert action.op == "index"
    assert action.index == "pulse-posts-2026.11"
    assert action.id == "x:1"
    assert action.version == 5
    header = orjson.loads(action.action_line())
    assert header == {
        "index": {"_index": "pulse-posts-2026.11", "_id": "x:1", "version": 5, "version_type": "external"}
    }
    assert action.shard_id == "shard-1" and action.sequence_number == "100"


def test_the_index_document_keeps_the_post_and_adds_the_derived_fields():
    action = record_to_action(record("MODIFY", new=item(enriched())), ALIAS)
    body = orjson.loads(action.body)
    assert body["text"].startswith("The #Camera")
    assert [a["name"] for a in body["aspects"]] == ["camera", "battery", "camera"]
    assert body["aspects"][0]["aspect"] == "camera"  # the EnrichedPost field is kept
    assert body["aspect_names"] == ["camera", "battery"]
    assert body["location"] == {"lat": 48.1, "lon": 11.5}
    assert body["engagement_total"] == 6


def test_the_item_version_attribute_is_the_external_version():
    action = record_to_action(record("MODIFY", new=item(enriched(version=5), version=9)), ALIAS)
    assert action.version == 9


def test_a_remove_deletes_the_old_image_version_from_its_monthly_index():
    old = item(enriched(version=41, created_at="2025-12-31T23:30:00Z"))
    action = record_to_action(record("REMOVE", old=old), ALIAS)
    assert action.op == "delete"
    assert action.index == "pulse-posts-2025.12"
    assert (action.version, action.version_type) == (41, "external_gte")
    assert action.ndjson().count(b"\n") == 1


def test_a_ttl_expiry_remove_is_skipped_so_the_post_stays_searchable():
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert record_to_action(record("REMOVE", old=item(enriched()), identity=ttl), ALIAS) is None
    user = {"type": "Service", "principalId": "someone-else"}
    assert record_to_action(record("REMOVE", old=item(enriched()), identity=user), ALIAS).op == "delete"


def tombstone(post_id="x:1", version=60):
    return {
        "id": {"S": post_id},
        "version": {"N": str(version)},
        "deleted": {"BOOL": True},
        "expires_at": {"N": "1900000000"},
    }


def test_a_tombstone_over_an_indexed_post_deletes_it_with_the_delete_version():
    old = item(enriched(version=41, created_at="2025-12-31T23:30:00Z"))
    action = record_to_action(record("MODIFY", new=tombstone(version=60), old=old, seq="7"), ALIAS, "s-1")
    assert action.op == "delete" and action.id == "x:1"
    assert action.index == "pulse-posts-2025.12"  # where the OldImage's document lives
    assert (action.version, action.version_type) == (60, "external_gte")
    assert (action.shard_id, action.sequence_number) == ("s-1", "7")
    assert orjson.loads(action.action_line()) == {
        "delete": {
            "_index": "pulse-posts-2025.12", "_id": "x:1", "version": 60, "version_type": "external_gte"
        }
    }


def test_a_tombstone_without_an_old_image_is_skipped():
    assert record_to_action(record("INSERT", new=tombstone()), ALIAS) is None


def test_a_tombstone_over_an_older_tombstone_is_skipped():
    old = tombstone(version=50)
    assert record_to_action(record("MODIFY", new=tombstone(version=60), old=old), ALIAS) is None


def test_a_newer_post_over_a_tombstone_is_indexed_again():
    action = record_to_action(record("MODIFY", new=item(enriched(version=70)), old=tombstone()), ALIAS)
    assert action.op == "index" and action.version == 70 and action.version_type == "external"


def test_a_tombstone_over_a_post_whose_old_image_has_only_a_doc_created_at_uses_the_doc():
    old = item(enriched(created_at="2024-07-04T12:00:00Z"))
    old.pop("created_at")
    action = record_to_action(record("MODIFY", new=tombstone(), old=old), ALIAS)
    assert action.op == "delete" and action.index == "pulse-posts-2024.07"


def test_a_tombstone_over_an_old_image_without_created_at_raises_bad_record():
    old = {"id": {"S": "x:1"}, "version": {"N": "5"}}
    with pytest.raises(BadRecord) as info:
        record_to_action(record("MODIFY", new=tombstone(), old=old), ALIAS)
    assert info.value.reason == "missing_created_at"


def test_removing_a_tombstone_changes_nothing_in_opensearch():
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    assert record_to_action(record("REMOVE", old=tombstone(), identity=ttl), ALIAS) is None
    assert record_to_action(record("REMOVE", old=tombstone()), ALIAS) is None


def test_a_tombstone_is_recognised_only_by_deleted_true():
    assert documents.is_tombstone(tombstone())
    assert not documents.is_tombstone(item(enriched()))
    assert not documents.is_tombstone({**tombstone(), "deleted": {"BOOL": False}})
    assert not documents.is_tombstone(None)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda it: it.pop("doc"), "missing_doc"),
        (lambda it: it.update(doc={"S": "{not json"}), "invalid_json"),
        (lambda it: it.update(doc={"S": "[1, 2]"}), "invalid_json"),
        (lambda it: (it.pop("created_at"), it.update(doc={"S": "{}"})), "missing_created_at"),
        (lambda it: it.update(created_at={"S": "yesterday"}), "invalid_created_at"),
        (
            lambda it: it.update(version={"S": "v1"}, doc={"S": '{"created_at": "2026-01-01T00:00:00Z"}'}),
            "missing_version",
        ),
    ],
)
def test_a_record_that_cannot_be_indexed_raises_bad_record_with_a_reason(mutate, reason):
    it = item(enriched())
    mutate(it)
    with pytest.raises(BadRecord) as info:
        record_to_action(record("INSERT", new=it), ALIAS)
    assert info.value.reason == reason


def test_a_remove_without_created_at_attribute_falls_back_to_the_doc():
    old = item(enriched(created_at="2024-07-04T12:00:00Z"))
    old.pop("created_at")
    assert record_to_action(record("REMOVE", old=old), ALIAS).index == "pulse-posts-2024.07"


def test_an_indexer_dead_letter_carries_the_raw_record_and_the_post_it_is_about():
    raw = documents.record_json({"eventName": "INSERT", "when": documents.parse_time("2026-01-01T00:00:00Z")})
    letter = documents.dead_letter(
        reason="mapping_conflict",
        error="boom",
        source="dynamodb-stream:t",
        shard_id="s",
        sequence_number="7",
        raw=raw,
        post_id="x:1",
    )
    body = json.loads(letter.body())
    assert body["service"] == "indexer" and body["post_id"] == "x:1" and body["sequence_number"] == "7"
    assert base64.b64decode(body["raw_b64"]) == raw
    assert orjson.loads(letter.raw)["eventName"] == "INSERT"
