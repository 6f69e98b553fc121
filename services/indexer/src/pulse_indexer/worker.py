"""The indexer worker: shard discovery, lease balancing and one consumer thread per shard held.

Every `renew_interval_s` the coordinator renews the leases it holds, scans the lease table, and
takes leases (free ones first, then expired ones, then - to balance - one from the most loaded
worker when it holds more than its share). Every `shard_sync_interval_s` (and whenever a shard
ends) it lists the stream's shards (paginated) and creates a lease for each new one. A shard is
taken only when every parent shard is finished (SHARD_END) or gone, so parents are read before
children.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import Counter
from typing import Any

from pulse_common.aws import client as aws_client
from pulse_indexer import metrics as m
from pulse_indexer.bulk import BulkWriter
from pulse_indexer.clients import DeadLetterQueue, fast_stream_records, opensearch_client
from pulse_indexer.consumer import ShardConsumer
from pulse_indexer.leases import ExpiryTracker, Lease, LeaseLost, LeaseTable, lease_key
from pulse_indexer.settings import IndexerSettings

log = logging.getLogger("pulse.indexer.worker")


def list_shards(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every shard of the stream (DescribeStream, paginated by ExclusiveStartShardId)."""
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamArn": stream_arn, "Limit": 100}
    while True:
        desc = streams.describe_stream(**kwargs)["StreamDescription"]
        shards.extend(desc.get("Shards", []))
        last = desc.get("LastEvaluatedShardId")
        if not last:
            return shards
        kwargs["ExclusiveStartShardId"] = last


def eligible(lease: Lease, by_shard: dict[str, Lease]) -> bool:
    """A shard may be read once each parent is finished or no longer tracked."""
    return all(parent not in by_shard or by_shard[parent].finished for parent in lease.parent_shard_ids)


def plan_takes(
    leases: list[Lease],
    me: str,
    tracker: ExpiryTracker,
    *,
    held: set[str] | None = None,
    max_leases: int = 0,
    rng: random.Random | None = None,
) -> list[tuple[Lease, str]]:
    """Which leases to take now, and how ("free", "expired", "stolen")."""
    rng = rng or random.Random()
    held = held if held is not None else {lease.lease_key for lease in leases if lease.owner == me}
    by_shard = {lease.shard_id: lease for lease in leases}
    active = [lease for lease in leases if not lease.finished and eligible(lease, by_shard)]
    if not active:
        return []
    live_owners = Counter(
        lease.owner for lease in active if lease.owner is not None and not tracker.is_expired(lease)
    )
    workers = set(live_owners) | {me}
    target = math.ceil(len(active) / len(workers))
    if max_leases:
        target = min(target, max_leases)
    mine = sum(1 for lease in active if lease.lease_key in held)
    want = target - mine
    if want <= 0:
        return []
    # ours in the table but not being read (a consumer that crashed): as good as free
    free = [
        lease
        for lease in active
        if lease.owner is None or (lease.owner == me and lease.lease_key not in held)
    ]
    expired = [lease for lease in active if lease.owner not in (None, me) and tracker.is_expired(lease)]
    rng.shuffle(free)
    rng.shuffle(expired)
    plan: list[tuple[Lease, str]] = [(lease, "free") for lease in free[:want]]
    want -= len(plan)
    plan += [(lease, "expired") for lease in expired[:want]]
    want -= min(want, len(expired))
    if want > 0 and not free and not expired:
        # balance: steal one lease from the most loaded worker if it holds more than the target
        others = [(count, owner) for owner, count in live_owners.items() if owner != me]
        if others:
            count, victim = max(others)
            if count > target or (count > mine + 1):
                candidates = [lease for lease in active if lease.owner == victim]
                plan.append((rng.choice(candidates), "stolen"))
    return plan


class Worker:
    def __init__(
        self,
        settings: IndexerSettings,
        *,
        dynamodb: Any = None,
        streams: Any = None,
        search: Any = None,
        dlq: DeadLetterQueue | None = None,
    ) -> None:
        self.settings = settings
        stack = settings.stack
        self.me = settings.worker_id
        self.dynamodb = dynamodb or aws_client("dynamodb", stack)
        self.streams = streams or fast_stream_records(
            aws_client("dynamodbstreams", stack, max_pool_connections=10, parameter_validation=False)
        )
        self.search = search or opensearch_client(
            stack, timeout_s=settings.request_timeout_s, pool_size=settings.bulk_concurrency * 4
        )
        self.dlq = dlq or DeadLetterQueue(
            stack, retry_base_s=settings.retry_base_s, retry_cap_s=settings.retry_cap_s
        )
        self.leases = LeaseTable(self.dynamodb, settings.lease_table_name, self.me)
        self.tracker = ExpiryTracker(settings.lease_duration_s)
        self.writer = BulkWriter(
            self.search,
            max_docs=settings.bulk_max_docs,
            max_bytes=settings.bulk_max_bytes,
            concurrency=settings.bulk_concurrency,
            retry_base_s=settings.retry_base_s,
            retry_cap_s=settings.retry_cap_s,
            timeout_s=settings.request_timeout_s,
        )
        self.consumers: dict[str, ShardConsumer] = {}
        self.last_renewed: dict[str, float] = {}
        self.stop_event = threading.Event()
        self.stream_arn: str | None = None
        self._next_sync = 0.0

    # --- lifecycle ---
    def stop(self) -> None:
        self.stop_event.set()

    def setup(self) -> None:
        self.leases.ensure_table()
        table = self.dynamodb.describe_table(TableName=self.settings.stack.table_name)["Table"]
        self.stream_arn = table.get("LatestStreamArn")
        if not self.stream_arn:
            raise RuntimeError(f"table {self.settings.stack.table_name} has no stream enabled")
        log.info(
            "indexer worker starting",
            extra={"worker": self.me, "stream": self.stream_arn, "lease_table": self.leases.table},
        )

    def run(self) -> None:
        self.setup()
        try:
            while not self.stop_event.is_set():
                started = time.monotonic()
                try:
                    self.tick()
                except Exception:
                    log.exception("coordinator tick failed")
                elapsed = time.monotonic() - started
                self.stop_event.wait(max(0.05, self.settings.renew_interval_s - elapsed))
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        for consumer in self.consumers.values():
            consumer.stop()
        for key, consumer in list(self.consumers.items()):
            consumer.join(timeout=self.settings.request_timeout_s + 5)
            if not consumer.shard_ended:
                try:
                    self.leases.release(key)
                except Exception:  # noqa: BLE001 - it expires anyway
                    log.warning("could not release lease", extra={"lease": key})
        self.consumers.clear()
        m.LEASES_HELD.set(0)
        self.writer.close()
        log.info("indexer worker stopped", extra={"worker": self.me})

    # --- one coordinator round ---
    def tick(self) -> None:
        now = time.monotonic()
        self._reap()
        if now >= self._next_sync:
            self.sync_shards()
            self._next_sync = now + self.settings.shard_sync_interval_s
        self._renew()
        leases = self.leases.list(self.stream_arn)
        self.tracker.observe(leases)
        for lease, how in plan_takes(
            leases,
            self.me,
            self.tracker,
            held=set(self.consumers),
            max_leases=self.settings.max_leases_per_worker,
        ):
            taken = self.leases.take(lease)
            if taken is None:
                continue
            m.LEASES_TAKEN.labels(how).inc()
            log.info("lease taken", extra={"shard": lease.shard_id, "how": how, "from": lease.owner})
            self._start(taken)
        m.LEASES_HELD.set(len(self.consumers))
        m.SHARD_LAG_MAX.set(max((c.lag_s for c in self.consumers.values()), default=0.0))

    def sync_shards(self) -> int:
        """Create a lease for every shard not yet tracked; drop finished leases of vanished shards."""
        assert self.stream_arn is not None
        shards = list_shards(self.streams, self.stream_arn)
        known = {lease.shard_id: lease for lease in self.leases.list(self.stream_arn)}
        first_time = not known
        created = 0
        present = set()
        for shard in shards:
            shard_id = shard["ShardId"]
            present.add(shard_id)
            if shard_id in known:
                continue
            parent = shard.get("ParentShardId")
            start = self.settings.initial_position if first_time and not parent else "TRIM_HORIZON"
            lease = Lease(
                lease_key=lease_key(self.stream_arn, shard_id),
                stream_arn=self.stream_arn,
                shard_id=shard_id,
                parent_shard_ids=[parent] if parent else [],
                checkpoint=start,
            )
            if self.leases.create_if_absent(lease):
                created += 1
                log.info("new shard", extra={"shard": shard_id, "parent": parent})
        children_of = {p for lease in known.values() for p in lease.parent_shard_ids}
        for shard_id, lease in known.items():
            if lease.finished and shard_id not in present and shard_id not in children_of:
                self.leases.delete(lease.lease_key)
        return created

    def _start(self, lease: Lease) -> None:
        stack = self.settings.stack
        consumer = ShardConsumer(
            lease,
            streams=self.streams,
            leases=self.leases,
            writer=self.writer,
            dlq=self.dlq,
            alias=stack.opensearch_index_alias,
            source=f"dynamodb-stream:{stack.table_name}",
            get_records_limit=self.settings.get_records_limit,
            idle_poll_min_s=self.settings.idle_poll_min_s,
            idle_poll_max_s=self.settings.idle_poll_max_s,
        )
        self.consumers[lease.lease_key] = consumer
        self.last_renewed[lease.lease_key] = time.monotonic()
        consumer.start()

    def _drop(self, key: str, *, release: bool) -> None:
        consumer = self.consumers.pop(key, None)
        self.last_renewed.pop(key, None)
        if consumer is not None:
            consumer.stop()
        if release:
            try:
                self.leases.release(key)
            except Exception:  # noqa: BLE001 - it expires anyway
                log.warning("could not release lease", extra={"lease": key})

    def _reap(self) -> None:
        for key, consumer in list(self.consumers.items()):
            if consumer.is_alive():
                continue
            if consumer.shard_ended:
                self._drop(key, release=True)
                self._next_sync = 0.0  # look for the children now
            elif consumer.lost:
                self._drop(key, release=False)
            else:
                # crashed: give the lease back; this or another worker restarts from the checkpoint
                log.warning(
                    "restarting shard after a failure", extra={"lease": key, "error": str(consumer.error)}
                )
                self._drop(key, release=True)

    def _renew(self) -> None:
        now = time.monotonic()
        for key in list(self.consumers):
            try:
                self.leases.renew(key)
                self.last_renewed[key] = now
            except LeaseLost:
                m.LEASES_LOST.inc()
                log.warning("lease lost to another worker", extra={"lease": key})
                self._drop(key, release=False)
            except Exception as exc:  # noqa: BLE001 - transient: keep going until the lease would expire
                if now - self.last_renewed.get(key, now) >= self.settings.lease_duration_s:
                    m.LEASES_LOST.inc()
                    log.warning("could not renew lease in time; letting it go", extra={"lease": key})
                    self._drop(key, release=False)
                else:
                    log.warning(
                        "lease renewal failed; will retry", extra={"lease": key, "error": str(exc)[:300]}
                    )

    # --- readiness ---
    def readiness(self) -> tuple[bool, str]:
        problems = []
        try:
            if not self.search.ping():
                problems.append("opensearch: ping failed")
        except Exception as exc:  # noqa: BLE001 - reported
            problems.append(f"opensearch: {type(exc).__name__}")
        try:
            self.dynamodb.describe_table(TableName=self.leases.table)
        except Exception as exc:  # noqa: BLE001 - reported
            problems.append(f"dynamodb: {type(exc).__name__}")
        if problems:
            return False, "; ".join(problems)
        return True, f"ok: {len(self.consumers)} shard(s) held by {self.me}"
