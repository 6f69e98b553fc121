import orjson
import pytest
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError

from pulse_indexer.bulk import Aborted, BulkWriter, chunks
from pulse_indexer.documents import Action


def act(i, op="index", size=10):
    return Action(
        op=op,
        id=f"x:{i}",
        index="p-2026.11",
        version=i + 1,
        body=orjson.dumps({"id": f"x:{i}", "pad": "a" * size}) if op == "index" else None,
    )


class FakeSearch:
    """Answers _bulk with a per-call script: a function (doc id, op, attempt) -> status."""

    def __init__(self, status_for=None, errors=()):
        self.status_for = status_for or (lambda _id, _op, _n: 201)
        self.errors = list(errors)
        self.calls: list[list[str]] = []
        self.attempts: dict[str, int] = {}

    def bulk(self, body, params=None):
        if self.errors:
            raise self.errors.pop(0)
        lines = body.split(b"\n")
        ids, items, i = [], [], 0
        while i < len(lines) and lines[i]:
            header = orjson.loads(lines[i])
            op, meta = next(iter(header.items()))
            ids.append(meta["_id"])
            n = self.attempts.get(meta["_id"], 0)
            self.attempts[meta["_id"]] = n + 1
            status = self.status_for(meta["_id"], op, n)
            result = {"_id": meta["_id"], "status": status}
            if status >= 400:
                result["error"] = {
                    "type": "mapper_parsing_exception" if status == 400 else "x",
                    "reason": "failed to parse field [created_at]",
                }
            items.append({op: result})
            i += 2 if op == "index" else 1
        self.calls.append(ids)
        return {"errors": any(it[next(iter(it))]["status"] >= 300 for it in items), "items": items}


def writer(client, **kw):
    kw.setdefault("sleep", lambda _s: None)
    return BulkWriter(client, **kw)


def test_chunks_respect_both_the_count_and_the_byte_limits():
    actions = [act(i, size=100) for i in range(10)]
    assert [len(c) for c in chunks(actions, 4, 10**6)] == [4, 4, 2]
    one = len(actions[0].ndjson())
    assert [len(c) for c in chunks(actions, 100, one * 3)] == [3, 3, 3, 1]
    huge = [act(0, size=5000)]
    assert [len(c) for c in chunks(huge, 100, 1000)] == [1]  # an oversized doc still goes alone


def test_a_409_conflict_counts_as_success_and_a_404_delete_as_deleted():
    client = FakeSearch(lambda _id, op, _n: 404 if op == "delete" else (409 if _id == "x:1" else 201))
    outcome = writer(client).write([act(0), act(1), act(2, op="delete")])
    assert (outcome.indexed, outcome.conflicts, outcome.deleted, outcome.failed) == (1, 1, 1, [])


def test_only_the_items_that_got_429_or_5xx_are_resent():
    client = FakeSearch(
        lambda _id, _op, n: (
            429 if _id in ("x:1", "x:3") and n == 0 else (503 if _id == "x:3" and n == 1 else 201)
        )
    )
    outcome = writer(client).write([act(i) for i in range(5)])
    assert outcome.indexed == 5 and not outcome.failed
    assert client.calls == [["x:0", "x:1", "x:2", "x:3", "x:4"], ["x:1", "x:3"], ["x:3"]]


def test_a_mapping_conflict_fails_one_document_and_the_rest_are_indexed():
    client = FakeSearch(lambda _id, _op, _n: 400 if _id == "x:2" else 201)
    outcome = writer(client).write([act(i) for i in range(4)])
    assert outcome.indexed == 3
    assert [(f.action.id, f.reason) for f in outcome.failed] == [("x:2", "mapping_conflict")]
    assert "mapper_parsing_exception" in outcome.failed[0].error
    assert len(client.calls) == 1


def test_an_unreachable_cluster_is_retried_until_it_answers():
    errors = [
        OSConnectionError("N/A", "refused", None),
        TransportError(503, "unavailable", {}),
        TransportError(429, "too many", {}),
    ]
    client = FakeSearch(errors=errors)
    outcome = writer(client).write([act(0), act(1)])
    assert outcome.indexed == 2 and outcome.retries == 3


def test_a_request_rejected_as_a_whole_fails_its_documents_without_retry():
    client = FakeSearch(errors=[TransportError(400, "illegal_argument_exception", {})])
    outcome = writer(client).write([act(0), act(1)])
    assert [f.reason for f in outcome.failed] == ["rejected", "rejected"]


def test_a_stop_request_aborts_the_retries():
    client = FakeSearch(errors=[OSConnectionError("N/A", "refused", None)] * 100)
    with pytest.raises(Aborted):
        writer(client).write([act(0)], keep_going=lambda: len(client.errors) > 97)


def test_chunks_are_sent_in_parallel_and_all_counted():
    client = FakeSearch()
    w = writer(client, max_docs=10, concurrency=3)
    outcome = w.write([act(i) for i in range(95)])
    w.close()
    assert outcome.indexed == 95 and outcome.requests == 10
    assert sorted(i for call in client.calls for i in call) == sorted(f"x:{i}" for i in range(95))
