from __future__ import annotations

from datetime import UTC, datetime, timedelta

import enricher_posts as posts
import pytest
from botocore.exceptions import ClientError
from enricher_standin import StandInEnricher

from pulse_common.aws import client
from pulse_common.contracts.envelope import RecordEnvelope
from pulse_common.contracts.items import from_item, is_tombstone, item_too_large
from pulse_common.contracts.items import to_item as build_item
from pulse_enricher.store import (
    STORE_RETRY,
    Delete,
    PostStore,
    Upsert,
    WriteResult,
    latest_per_id,
)

NOW = datetime(2025, 7, 1, tzinfo=UTC)


def upsert_op(i: int, version: int, text: str | None = None) -> Upsert:
    env = RecordEnvelope.model_validate(posts.upsert(i, version=version, text=text))
    enriched = StandInEnricher().enrich(env.post, ingested_at=env.ingested_at, enriched_at=NOW)
    item = build_item(enriched, env, enriched_at=NOW, retention=timedelta(days=2))
    return Upsert(env.id, env.version, item)


def stored(stack, i: int):
    item = client("dynamodb", stack).get_item(
        TableName=stack.table_name, Key={"id": {"S": f"synthetic:{1_000_000 + i}"}}, ConsistentRead=True
    ).get("Item")
    return item


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_new_posts_are_stored_in_the_agreed_item_format(aws, mode):
    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    result = store.apply([upsert_op(i, 100) for i in range(30)])
    assert sorted(result.written) == sorted(f"synthetic:{1_000_000 + i}" for i in range(30))
    item = stored(aws, 7)
    assert set(item) == {"id", "version", "created_at", "ingested_at", "enriched_at", "expires_at", "doc"}
    assert item["version"]["N"] == "100"
    assert item["enriched_at"]["S"] == "2025-07-01T00:00:00Z"
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=2)).timestamp())
    doc = from_item(item).doc
    assert doc["id"] == "synthetic:1000007" and doc["enrichment_version"] == "standin-1"


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_an_older_version_never_overwrites_a_newer_one(aws, mode):
    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    store.apply([upsert_op(1, 200, text="new text")])
    result = store.apply([upsert_op(1, 100, text="old text")])
    assert result.written == [] and result.stale == ["synthetic:1000001"]
    assert from_item(stored(aws, 1)).doc["text"] == "new text"
    result = store.apply([upsert_op(1, 300, text="newest text")])
    assert result.written == ["synthetic:1000001"]
    assert from_item(stored(aws, 1)).doc["text"] == "newest text"


def test_the_same_version_again_is_counted_as_already_stored(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([upsert_op(1, 100)])
    result = store.apply([upsert_op(1, 100)])
    assert result.already_stored == ["synthetic:1000001"] and result.written == []


def test_a_delete_leaves_a_tombstone_but_an_older_delete_changes_nothing(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name, clock=lambda: NOW,
                      tombstone_ttl=timedelta(hours=48))
    store.apply([upsert_op(1, 100), upsert_op(2, 100)])
    result = store.apply([Delete("synthetic:1000001", 150), Delete("synthetic:1000002", 50)])
    assert result.deleted == ["synthetic:1000001"] and result.delete_noop == ["synthetic:1000002"]
    assert stored(aws, 1) == {
        "id": {"S": "synthetic:1000001"},
        "version": {"N": "150"},
        "deleted": {"BOOL": True},
        "expires_at": {"N": str(int((NOW + timedelta(hours=48)).timestamp()))},
    }
    assert is_tombstone(stored(aws, 1))
    assert not is_tombstone(stored(aws, 2)) and stored(aws, 2)["version"]["N"] == "100"


def test_a_delete_of_an_id_never_stored_still_writes_its_tombstone(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name)
    assert store.apply([Delete("synthetic:1000009", 7)]).delete_noop == ["synthetic:1000009"]
    assert is_tombstone(stored(aws, 9)) and stored(aws, 9)["version"]["N"] == "7"


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_an_upsert_older_than_a_delete_is_refused_by_the_tombstone(aws, mode):
    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    store.apply([upsert_op(1, 100)])
    store.apply([Delete("synthetic:1000001", 200)])
    store.apply([Delete("synthetic:1000002", 200)])  # deleted before any upsert arrived
    result = store.apply([upsert_op(1, 150), upsert_op(2, 150)])
    assert result.written == [] and sorted(result.stale) == ["synthetic:1000001", "synthetic:1000002"]
    assert is_tombstone(stored(aws, 1)) and is_tombstone(stored(aws, 2))


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_an_upsert_of_the_same_version_as_the_delete_loses_to_it(aws, mode):
    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    store.apply([Delete("synthetic:1000001", 200)])
    result = store.apply([upsert_op(1, 200)])
    assert result.stale == ["synthetic:1000001"] and result.already_stored == []
    assert is_tombstone(stored(aws, 1))


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_a_newer_upsert_recreates_a_deleted_post(aws, mode):
    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    store.apply([upsert_op(1, 100)])
    store.apply([Delete("synthetic:1000001", 200)])
    result = store.apply([upsert_op(1, 300, text="back again")])
    assert result.written == ["synthetic:1000001"]
    item = stored(aws, 1)
    assert not is_tombstone(item) and "deleted" not in item and item["version"]["N"] == "300"
    assert from_item(item).doc["text"] == "back again"


def test_a_delete_at_the_same_version_as_the_post_wins_the_tie(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([upsert_op(1, 100)])
    assert store.apply([Delete("synthetic:1000001", 100)]).deleted == ["synthetic:1000001"]
    assert is_tombstone(stored(aws, 1))


def test_the_same_delete_again_rewrites_nothing_and_a_newer_one_moves_the_tombstone_up(aws):
    clock = iter([NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)])
    store = PostStore(client("dynamodb", aws), aws.table_name, clock=lambda: next(clock))
    store.apply([upsert_op(1, 100)])
    assert store.apply([Delete("synthetic:1000001", 200)]).deleted == ["synthetic:1000001"]
    first = stored(aws, 1)
    # a redelivery: the tombstone keeps its expiry (a replay changes nothing)
    assert store.apply([Delete("synthetic:1000001", 200)]).delete_noop == ["synthetic:1000001"]
    assert stored(aws, 1) == first
    # a newer delete of the already deleted post: no live post replaced, the version moves up
    assert store.apply([Delete("synthetic:1000001", 250)]).delete_noop == ["synthetic:1000001"]
    assert stored(aws, 1)["version"]["N"] == "250" and is_tombstone(stored(aws, 1))


def test_a_delete_older_than_a_recreated_post_leaves_it_alone(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([Delete("synthetic:1000001", 200)])
    store.apply([upsert_op(1, 300)])
    assert store.apply([Delete("synthetic:1000001", 250)]).delete_noop == ["synthetic:1000001"]
    assert not is_tombstone(stored(aws, 1)) and stored(aws, 1)["version"]["N"] == "300"


def test_stored_versions_include_tombstones(aws):
    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([upsert_op(1, 100), Delete("synthetic:1000002", 200)])
    assert store.stored_versions(["synthetic:1000001", "synthetic:1000002", "synthetic:1000003"]) == {
        "synthetic:1000001": 100, "synthetic:1000002": 200}


def test_within_one_batch_only_the_latest_version_of_an_id_counts_and_a_delete_wins_a_tie():
    a, b, c = Upsert("x:1", 1, {}), Upsert("x:1", 3, {}), Upsert("x:1", 2, {})
    assert latest_per_id([a, b, c]) == [b]
    d = Delete("x:1", 3)
    assert latest_per_id([a, b, d]) == [d]
    assert latest_per_id([Delete("x:2", 1), Upsert("x:2", 2, {})]) == [Upsert("x:2", 2, {})]


def test_an_item_over_dynamodbs_size_limit_is_detected():
    item = {"id": {"S": "x:1"}, "doc": {"S": "é" * 210_000}}
    assert item_too_large(item)
    assert not item_too_large({"id": {"S": "x:1"}, "doc": {"S": "a" * 1000}})


class FlakyDynamoDB:
    """Wraps a real client: the first calls fail or leave items unprocessed."""

    def __init__(self, real, *, throttles: int = 0, unprocessed_rounds: int = 0,
                 reject_id: str | None = None):
        self.real = real
        self.throttles = throttles
        self.unprocessed_rounds = unprocessed_rounds
        self.reject_id = reject_id
        self.batch_calls = 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def _maybe_throttle(self, op: str) -> None:
        if self.throttles > 0:
            self.throttles -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, op)

    def batch_write_item(self, RequestItems):  # noqa: N803
        self.batch_calls += 1
        self._maybe_throttle("BatchWriteItem")
        (table, entries), = RequestItems.items()
        if self.reject_id and any(e["PutRequest"]["Item"]["id"]["S"] == self.reject_id for e in entries):
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "Item size too big"}},
                              "BatchWriteItem")
        if self.unprocessed_rounds > 0 and len(entries) > 1:
            self.unprocessed_rounds -= 1
            keep, later = entries[: len(entries) // 2], entries[len(entries) // 2 :]
            self.real.batch_write_item(RequestItems={table: keep})
            return {"UnprocessedItems": {table: later}}
        return self.real.batch_write_item(RequestItems=RequestItems)

    def put_item(self, **kwargs):
        if self.reject_id and kwargs["Item"]["id"]["S"] == self.reject_id:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "Item size too big"}},
                              "PutItem")
        return self.real.put_item(**kwargs)


def test_unprocessed_items_and_throttling_are_retried_until_every_post_is_stored(aws):
    sleeps: list[float] = []
    flaky = FlakyDynamoDB(client("dynamodb", aws), throttles=3, unprocessed_rounds=4)
    retry = STORE_RETRY.replace(base_s=0.01, cap_s=0.05)
    store = PostStore(flaky, aws.table_name, sleep=sleeps.append, retry=retry)
    result = store.apply([upsert_op(i, 10) for i in range(60)])
    assert len(result.written) == 60
    assert all(stored(aws, i) is not None for i in range(60))
    assert len(sleeps) >= 7 and max(sleeps) <= 0.05  # capped backoff with jitter


def test_one_item_dynamodb_rejects_is_isolated_and_the_rest_are_stored(aws):
    flaky = FlakyDynamoDB(client("dynamodb", aws), reject_id="synthetic:1000003")
    store = PostStore(flaky, aws.table_name, sleep=lambda _s: None)
    result = store.apply([upsert_op(i, 10) for i in range(10)])
    assert list(result.rejected) == ["synthetic:1000003"]
    assert len(result.written) == 9 and stored(aws, 3) is None and stored(aws, 4) is not None


def test_a_missing_table_is_waited_for_not_skipped(aws):
    calls = {"n": 0}
    real = client("dynamodb", aws)

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    store = PostStore(real, "no-such-table", sleep=lambda _s: None, should_stop=stop_after_three)
    with pytest.raises(ClientError):
        store.apply([upsert_op(1, 10)])
    assert calls["n"] == 4  # retried three times before being told to stop


def test_an_empty_batch_writes_nothing(aws):
    assert PostStore(client("dynamodb", aws), aws.table_name).apply([]) == WriteResult()
