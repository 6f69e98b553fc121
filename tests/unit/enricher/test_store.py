from __future__ import annotations

from datetime import UTC, datetime, timedelta

import enricher_posts as posts
import pytest
from botocore.exceptions import ClientError
from enricher_standin import StandInEnricher

from pulse_common.aws import client
from pulse_common.contracts.envelope import RecordEnvelope
from pulse_common.contracts.items import doc_attribute, doc_of, from_item, is_tombstone, item_too_large
from pulse_common.contracts.items import to_item as build_item
from pulse_enricher.store import STORE_RETRY, PostStore
from pulse_enricher.store_ops import Delete, Upsert, WriteResult, latest_per_id

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
    assert set(item) == {"id", "version", "created_at", "ingested_at", "enriched_at", "expires_at", "doc",
                         "author_id"}
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


@pytest.mark.parametrize("mode", ["batch", "conditional"])
def test_a_hide_keeps_the_post_stored_hidden_and_survives_a_newer_copy_until_its_undo(aws, mode):
    from pulse_common.contracts.items import from_item
    from pulse_enricher.store_ops import Hide

    store = PostStore(client("dynamodb", aws), aws.table_name, mode=mode)
    post_id = "synthetic:1000001"
    store.apply([upsert_op(1, 100)])
    result = store.apply([Hide(post_id, 5_000, "dropped")])
    assert result.hidden == [post_id]
    item = stored(aws, 1)
    assert from_item(item).hidden == ("dropped",) and item["version"]["N"] == "101"
    assert store.apply([Hide(post_id, 5_000, "dropped")]).hide_noop == [post_id]  # a replay: nothing
    assert store.apply([Hide(post_id, 4_000, "dropped", on=False)]).hide_noop == [post_id]  # older undo
    store.apply([upsert_op(1, 300, text="re-collected, more likes")])
    item = stored(aws, 1)
    assert item["version"]["N"] == "300" and from_item(item).hidden == ("dropped",)
    store.apply([Hide(post_id, 6_000, "dropped", on=False)])
    item = stored(aws, 1)
    assert from_item(item).hidden == () and item["version"]["N"] == "301"


def test_a_hide_of_a_post_not_stored_or_deleted_writes_nothing(aws):
    from pulse_enricher.store_ops import Hide

    store = PostStore(client("dynamodb", aws), aws.table_name)
    assert store.apply([Hide("synthetic:1000002", 5_000, "withheld")]).hide_noop == ["synthetic:1000002"]
    assert stored(aws, 2) is None
    store.apply([upsert_op(3, 100), Delete("synthetic:1000003", 200)])
    assert store.apply([Hide("synthetic:1000003", 5_000, "withheld")]).hide_noop == ["synthetic:1000003"]
    assert is_tombstone(stored(aws, 3))


def test_a_user_level_event_hides_every_stored_post_of_the_user_and_later_ones_until_its_undo(aws):
    from pulse_common.contracts.items import from_item
    from pulse_enricher.store_ops import UserEvent

    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([upsert_op(1, 100), upsert_op(501, 100), upsert_op(2, 100)])  # authors u1, u1, u2
    result = store.apply([UserEvent("u1", 5_000, "protected")])
    assert result.user_events == ["u1"]
    assert sorted(result.hidden) == ["synthetic:1000001", "synthetic:1000501"]
    assert [from_item(stored(aws, i)).hidden for i in (1, 501, 2)] == [("protected",), ("protected",), ()]
    assert store.apply([UserEvent("u1", 5_000, "protected")]).user_noop == ["u1"]  # a replay: nothing

    store.apply([upsert_op(1001, 200)])  # a later post of u1 arrives hidden
    assert from_item(stored(aws, 1001)).hidden == ("protected",)

    store.apply([UserEvent("u1", 6_000, "protected", on=False)])  # unprotect: every stored post is back
    assert [from_item(stored(aws, i)).hidden for i in (1, 501, 1001)] == [(), (), ()]
    store.apply([upsert_op(1501, 300)])
    assert from_item(stored(aws, 1501)).hidden == ()


def _with_geo(op: Upsert) -> Upsert:
    doc = doc_of(op.item)
    doc["geo"] = {"lat": 52.5, "lon": 13.4}
    op.item = {**op.item, "doc": doc_attribute(doc)}
    return op


def test_scrub_geo_removes_the_location_of_the_users_posts_up_to_its_id_now_and_when_they_arrive_later(aws):
    from pulse_enricher.store_ops import UserEvent

    store = PostStore(client("dynamodb", aws), aws.table_name)
    store.apply([_with_geo(upsert_op(1, 100)), _with_geo(upsert_op(1001, 100))])  # u1: 1000001, 1001001
    store.apply([UserEvent("u1", 5_000, None, up_to_id="1000500")])
    scrubbed, kept = stored(aws, 1), stored(aws, 1001)
    assert doc_of(scrubbed)["geo"] is None and scrubbed["version"]["N"] == "101"
    assert doc_of(kept)["geo"] == {"lat": 52.5, "lon": 13.4}
    store.apply([_with_geo(upsert_op(1, 300))])  # re-collected later, still up to the scrubbed id
    assert doc_of(stored(aws, 1))["geo"] is None


class CountingReads:
    """The DynamoDB client, with the keys every batch_get_item asked for."""

    def __init__(self, dynamodb) -> None:
        self.dynamodb = dynamodb
        self.keys: list[str] = []

    def batch_get_item(self, **kwargs):
        for request in kwargs["RequestItems"].values():
            self.keys.extend(key["id"]["S"] for key in request["Keys"])
        return self.dynamodb.batch_get_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self.dynamodb, name)


def test_an_authors_state_is_read_once_while_no_user_level_event_is_recorded(aws):
    from pulse_common.contracts.items import user_key

    dynamodb = CountingReads(client("dynamodb", aws))
    store = PostStore(dynamodb, aws.table_name)
    store.apply([upsert_op(1, 100), upsert_op(2, 100)])  # authors u1, u2
    first = [key for key in dynamodb.keys if key.startswith(user_key("")) and key != user_key("")]
    assert len(first) == 2
    dynamodb.keys.clear()
    store.apply([upsert_op(501, 100), upsert_op(502, 100)])  # the same authors again
    assert sorted(dynamodb.keys) == ["synthetic:1000501", "synthetic:1000502", user_key("")]


def test_a_user_level_event_another_processor_records_reaches_the_next_posts_this_one_writes(aws):
    from pulse_enricher.store_ops import UserEvent

    mine = PostStore(client("dynamodb", aws), aws.table_name)
    other = PostStore(client("dynamodb", aws), aws.table_name)
    mine.apply([upsert_op(1, 100)])  # u1 read and cached: no state yet
    assert other.apply([UserEvent("u1", 5_000, "protected")]).user_events == ["u1"]
    mine.apply([upsert_op(501, 200)])  # a later post of u1, written by the processor that cached u1
    assert from_item(stored(aws, 501)).hidden == ("protected",)
    other.apply([UserEvent("u1", 6_000, "protected", on=False)])
    mine.apply([upsert_op(1001, 300)])
    assert from_item(stored(aws, 1001)).hidden == ()
