from __future__ import annotations

import json

import enricher_posts as posts

from pulse_common.contracts import envelope as records
from pulse_common.contracts.envelope import Poison, RecordEnvelope, decode


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
