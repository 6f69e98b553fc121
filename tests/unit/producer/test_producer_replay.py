"""The replay path: files of any supported shape -> batched, envelope-encoded Kinesis records."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from pulse_common.contracts.envelope import RecordEnvelope
from pulse_producer.runner import Runner
from pulse_producer.sample import generate
from pulse_producer.sink import KinesisSink
from pulse_producer.sources.replay import ReplaySource


def _write_sample(path: Path, count: int) -> list[dict]:
    docs = [made.doc for made in generate(count)]
    payload = b"".join(json.dumps(doc).encode() + b"\n" for doc in docs)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return docs


def _run(paths, kinesis, dead_letter, **kw):
    sink = KinesisSink(kinesis, "s", dead_letter=dead_letter, sleep=lambda _s: None)
    return Runner(ReplaySource([str(p) for p in paths], **kw), sink, linger_s=0.05).run()


def test_a_gzipped_v2_file_is_put_as_envelopes_keyed_by_post_id(tmp_path, fake_kinesis, fake_dead_letter):
    docs = _write_sample(tmp_path / "posts.jsonl.gz", 1200)
    summary = _run([tmp_path / "posts.jsonl.gz"], fake_kinesis, fake_dead_letter)
    assert summary.as_dict() == {"received": 1200, "put": 1200, "failed": 0, "skipped": 0, "dead_letter": 0}
    assert max(fake_kinesis.calls) <= 500  # batched, never above the put_records limit
    assert len(fake_kinesis.calls) <= 1200 // 20
    envelopes = [RecordEnvelope.model_validate_json(r["Data"]) for r in fake_kinesis.records]
    assert [r["PartitionKey"] for r in fake_kinesis.records] == [e.id for e in envelopes]
    assert {e.id for e in envelopes} == {f"x:{d['data']['id']}" for d in docs}
    assert all(e.op == "upsert" and e.post is not None for e in envelopes)


def test_replaying_the_same_file_twice_gives_the_same_versions(tmp_path, fake_kinesis, fake_dead_letter):
    _write_sample(tmp_path / "posts.jsonl", 50)
    _run([tmp_path / "posts.jsonl"], fake_kinesis, fake_dead_letter)
    _run([tmp_path / "posts.jsonl"], fake_kinesis, fake_dead_letter)
    first = [RecordEnvelope.model_validate_json(r["Data"]) for r in fake_kinesis.records[:50]]
    second = [RecordEnvelope.model_validate_json(r["Data"]) for r in fake_kinesis.records[50:]]
    assert [(e.id, e.version) for e in first] == [(e.id, e.version) for e in second]
    assert all(e.version == int(e.post.created_at.timestamp() * 1000) for e in first)


def test_malformed_lines_are_counted_and_skipped_without_stopping_the_replay(
    tmp_path, fake_kinesis, fake_dead_letter
):
    good = [json.dumps(m.doc).encode() for m in generate(3)]
    lines = [
        good[0],
        b"{not json",
        b"\xff\xfe\x00garbage",
        b'{"hello": "world"}',
        good[1],
        b"",
        good[2],
        b"[1,2]",
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    summary = _run([path], fake_kinesis, fake_dead_letter)
    assert (summary.received, summary.put, summary.skipped) == (3, 3, 4)
