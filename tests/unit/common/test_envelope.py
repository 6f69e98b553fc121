from __future__ import annotations

import json
from datetime import UTC, datetime

import enricher_posts as posts

from pulse_common.contracts import envelope as records
from pulse_common.contracts.envelope import Poison, RecordEnvelope, decode
from pulse_common.schema import Author, Post


def test_a_valid_upsert_decodes_into_an_envelope_with_its_post():
    envelope = decode(posts.encode(posts.upsert(1)))
    assert isinstance(envelope, RecordEnvelope)
    assert envelope.op == "upsert" and envelope.post is not None
    assert envelope.id == envelope.post.id == "synthetic:1000001"


def test_a_delete_needs_no_post():
    envelope = decode(posts.encode(posts.delete(1, version=5)))
    assert isinstance(envelope, RecordEnvelope) and envelope.op == "delete" and envelope.version == 5


def test_each_kind_of_poison_gets_its_own_reason():
    expected = {
        "invalid_json": records.INVALID_JSON,
        "wrong_types": records.INVALID_ENVELOPE,
        "huge_text": records.TEXT_TOO_LONG,
        "invalid_utf8": records.INVALID_UTF8,
        "not_an_object": records.INVALID_JSON,
        "missing_post": records.INVALID_ENVELOPE,
    }
    for k in range(len(posts.POISON_KINDS)):
        kind, data, _ = posts.poison(k)
        result = decode(data)
        assert isinstance(result, Poison), kind
        assert result.reason == expected[kind], (kind, result)
        assert result.error


def test_a_two_megabyte_record_is_poison_without_being_parsed():
    data = posts.encode(posts.upsert(1, text="x" * 2_000_000))
    result = decode(data)
    assert isinstance(result, Poison) and result.reason == records.RECORD_TOO_LARGE


def test_an_envelope_whose_id_differs_from_its_post_is_poison():
    env = posts.upsert(1)
    env["id"] = "synthetic:other"
    result = decode(json.dumps(env).encode())
    assert isinstance(result, Poison) and result.reason == records.INVALID_ENVELOPE


def test_reasons_are_a_small_fixed_set():
    assert len(set(records.POISON_REASONS)) == len(records.POISON_REASONS) <= 10


def test_an_encoded_envelope_is_exactly_its_model_json():
    from pulse_common.contracts.envelope import delete, encode, upsert

    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    post = Post(id="x:1", network="x", native_id="1", created_at=at, text="naïve 🔋 \u2028 \"q\"",
                author=Author(id="x:9", username="ünï"), version=5)
    for envelope in (upsert(post, at), delete("x:2", 7, ingested_at=at)):
        assert encode(envelope) == envelope.model_dump_json().encode("utf-8")
