import random

import boto3
import pytest
from moto import mock_aws

from pulse_indexer.leases import SHARD_END, ExpiryTracker, Lease, LeaseLost, LeaseTable
from pulse_indexer.worker import plan_takes


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def lease(shard, owner=None, counter=0, parents=(), checkpoint="TRIM_HORIZON"):
    return Lease(
        lease_key=f"s/{shard}",
        stream_arn="arn",
        shard_id=shard,
        parent_shard_ids=list(parents),
        owner=owner,
        lease_counter=counter,
        checkpoint=checkpoint,
    )


def plan(leases, me, tracker, **kw):
    return [(ls.shard_id, how) for ls, how in plan_takes(leases, me, tracker, rng=random.Random(1), **kw)]


def test_a_lone_worker_takes_every_free_lease():
    tracker = ExpiryTracker(10, Clock())
    leases = [lease("a"), lease("b"), lease("c")]
    tracker.observe(leases)
    assert sorted(plan(leases, "w1", tracker)) == [("a", "free"), ("b", "free"), ("c", "free")]


def test_two_workers_split_the_shards_evenly():
    tracker = ExpiryTracker(10, Clock())
    leases = [lease("a", "w1"), lease("b", "w1"), lease("c", "w1"), lease("d", "w1")]
    tracker.observe(leases)
    # w2 is new: target is 2 each; nothing is free or expired, so it steals one at a time
    assert len(plan(leases, "w2", tracker)) == 1
    assert plan(leases, "w2", tracker)[0][1] == "stolen"
    balanced = [lease("a", "w1"), lease("b", "w1"), lease("c", "w2"), lease("d", "w2")]
    tracker.observe(balanced)
    assert plan(balanced, "w2", tracker, held={"s/c", "s/d"}) == []
    assert plan(balanced, "w1", tracker, held={"s/a", "s/b"}) == []


def test_a_lease_whose_counter_stops_moving_expires_and_is_taken_over():
    clock = Clock()
    tracker = ExpiryTracker(10, clock)
    leases = [lease("a", "dead", counter=7)]
    tracker.observe(leases)
    assert plan(leases, "w2", tracker) == []
    clock.now += 9.9
    tracker.observe(leases)
    assert plan(leases, "w2", tracker) == []
    clock.now += 0.2
    tracker.observe(leases)
    assert plan(leases, "w2", tracker) == [("a", "expired")]


def test_a_renewed_lease_never_expires():
    clock = Clock()
    tracker = ExpiryTracker(10, clock)
    for counter in range(5):
        tracker.observe([lease("a", "w1", counter=counter)])
        clock.now += 6
    assert not tracker.is_expired(lease("a", "w1", counter=4))


def test_a_child_shard_waits_until_its_parent_is_finished():
    tracker = ExpiryTracker(10, Clock())
    leases = [lease("parent"), lease("child", parents=["parent"])]
    tracker.observe(leases)
    assert plan(leases, "w1", tracker) == [("parent", "free")]
    leases = [lease("parent", checkpoint=SHARD_END), lease("child", parents=["parent"])]
    assert plan(leases, "w1", tracker) == [("child", "free")]
    # a parent no longer tracked (trimmed) does not block its child
    assert plan([lease("child", parents=["gone"])], "w1", tracker) == [("child", "free")]


def test_a_lease_of_ours_that_no_consumer_reads_is_taken_back():
    tracker = ExpiryTracker(10, Clock())
    leases = [lease("a", "w1", counter=3)]
    tracker.observe(leases)
    assert plan(leases, "w1", tracker, held=set()) == [("a", "free")]


def test_max_leases_per_worker_caps_what_one_worker_takes():
    tracker = ExpiryTracker(10, Clock())
    leases = [lease(s) for s in "abcd"]
    tracker.observe(leases)
    assert len(plan(leases, "w1", tracker, max_leases=2)) == 2


@pytest.fixture
def ddb(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_only_one_of_two_workers_wins_a_free_lease(ddb):
    one, two = LeaseTable(ddb, "leases", "w1"), LeaseTable(ddb, "leases", "w2")
    one.ensure_table()
    two.ensure_table()  # idempotent
    assert one.create_if_absent(lease("a"))
    assert not two.create_if_absent(lease("a"))
    seen = one.list()[0]
    assert one.take(seen) is not None
    assert two.take(seen) is None  # same observation, stale now
    assert one.list()[0].owner == "w1"


def test_a_worker_that_lost_its_lease_cannot_renew_or_checkpoint(ddb):
    one, two = LeaseTable(ddb, "leases", "w1"), LeaseTable(ddb, "leases", "w2")
    one.ensure_table()
    one.create_if_absent(lease("a"))
    taken = one.take(one.list()[0])
    assert one.renew(taken.lease_key) == taken.lease_counter + 1
    one.checkpoint(taken.lease_key, "123")
    stolen = two.take(two.get(taken.lease_key))
    assert stolen.owner == "w2" and stolen.checkpoint == "123" and stolen.owner_switches == 2
    with pytest.raises(LeaseLost):
        one.renew(taken.lease_key)
    with pytest.raises(LeaseLost):
        one.checkpoint(taken.lease_key, "999")
    assert two.get(taken.lease_key).checkpoint == "123"


def test_a_released_lease_is_free_for_anyone(ddb):
    one, two = LeaseTable(ddb, "leases", "w1"), LeaseTable(ddb, "leases", "w2")
    one.ensure_table()
    one.create_if_absent(lease("a"))
    key = one.take(one.list()[0]).lease_key
    assert not two.release(key)  # not the owner
    assert one.release(key)
    free = two.get(key)
    assert free.owner is None
    assert two.take(free).owner == "w2"
