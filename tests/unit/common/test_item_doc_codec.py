import base64
import json
import zlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from pulse_common.contracts.envelope import upsert
from pulse_common.contracts.items import BadRecord, decode_doc, encode_doc, from_item, item_size, to_item
from pulse_common.schema import EnrichedPost


def a_doc(text: str = "Nova 12 battery life is great") -> dict:
    return {"id": "x:1", "version": 5, "created_at": "2026-11-20T10:00:00Z", "text": text,
            "author": {"id": "x:9", "followers": 3}, "aspects": [], "brands": []}


def an_item(doc: dict, stored: dict) -> dict:
    return {"id": {"S": doc["id"]}, "version": {"N": str(doc["version"])},
            "created_at": {"S": doc["created_at"]}, "doc": stored}


def test_a_stored_doc_reads_back_as_the_same_json():
    doc = a_doc()
    stored = encode_doc(json.dumps(doc).encode())
    assert json.loads(decode_doc(stored)) == doc
    assert from_item(an_item(doc, {"B": stored})).doc == doc


def test_a_doc_from_a_stream_record_arrives_as_base64_text_and_reads_the_same():
    doc = a_doc()
    stored = base64.b64encode(encode_doc(json.dumps(doc).encode())).decode()
    assert from_item(an_item(doc, {"B": stored})).doc == doc


def test_items_written_before_the_codec_with_a_plain_json_doc_still_read():
    doc = a_doc()
    assert from_item(an_item(doc, {"S": json.dumps(doc)})).doc == doc


def test_the_stored_doc_of_a_typical_post_is_far_smaller_than_its_json():
    doc = a_doc("the screen is bright, the battery lasts two days and the camera " * 3)
    raw = json.dumps(doc).encode()
    assert len(encode_doc(raw)) < len(raw) / 2
    assert item_size({"doc": {"B": encode_doc(raw)}}) == 3 + len(encode_doc(raw))


@pytest.mark.parametrize("stored", [
    b"",
    b"\x07" + b"abc",  # an unknown codec byte
    b"\x01" + b"\xff\xfe not deflate",
    encode_doc(json.dumps(a_doc()).encode())[:-4],  # truncated
])
def test_a_doc_the_codec_did_not_write_is_refused_with_a_reason(stored):
    with pytest.raises(BadRecord) as refused:
        from_item(an_item(a_doc(), {"B": stored}))
    assert refused.value.reason == "invalid_doc" and refused.value.post_id == "x:1"


def test_a_doc_that_inflates_beyond_any_item_is_refused_not_inflated():
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = b"\x01" + packer.compress(b" " * (64 * 1024 * 1024)) + packer.flush()
    with pytest.raises(BadRecord):
        decode_doc(bomb)



def an_enriched_post(at: datetime) -> EnrichedPost:
    return EnrichedPost(
        id="x:1", network="x", native_id="1", created_at=at, text="Nova 12 🔋 naïve \u2028 \"great\"",
        author={"id": "x:9", "username": "ünï", "followers": 3}, version=5, text_normalized="nova 12",
        emojis=["🔋"], brands=[{"id": "nova", "kind": "product", "term": "Nova",
                                "sentiment": {"label": "positive", "score": 0.25, "confidence": 1}}],
        sentiment={"label": "positive", "score": 0.5, "confidence": 0.75},
        aspects=[{"aspect": "battery", "term": "🔋", "polarity": "positive", "score": 1}],
        influence={"score": 1.5}, enrichment_version="v", ingested_at=at, enriched_at=at,
    )


def test_an_enriched_posts_item_stores_exactly_its_model_json():
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    post = an_enriched_post(at)
    item = to_item(post, upsert(post, at), enriched_at=at, retention=timedelta(days=1))
    assert decode_doc(item["doc"]["B"]) == post.model_dump_json(warnings=False).encode("utf-8")


def test_each_post_gets_the_enriched_at_and_expiry_of_its_own_batch():
    post = an_enriched_post(datetime(2026, 11, 20, 10, tzinfo=UTC))
    moments = [datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC),
               datetime(2026, 12, 1, 12, 0, 1, tzinfo=UTC),
               datetime(2026, 12, 1, 13, 0, 1, tzinfo=timezone(timedelta(hours=1)))]
    for retention in (timedelta(days=1), timedelta(days=30)):
        for moment in moments * 2:
            item = to_item(post, upsert(post, moment), enriched_at=moment, retention=retention)
            assert item["enriched_at"] == {"S": moment.astimezone(UTC).isoformat().replace("+00:00", "Z")}
            assert item["expires_at"] == {"N": str(int((moment + retention).timestamp()))}
