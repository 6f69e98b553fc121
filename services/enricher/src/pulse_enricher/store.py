"""The posts table: versioned upserts and deletes that never let an older version win.

The item format and the version rules are the contract's (`pulse_common.contracts.items`): a post
item, or for a deleted post a tombstone `{id, version: <delete version>, deleted: true, expires_at}`
that keeps the delete's version, so an upsert older than the delete that arrives after it (out of
order, a replay, a redrive) meets the tombstone and is refused instead of resurrecting the post. The
TTL sweeper removes tombstones once no older record can still arrive
(EnricherSettings.tombstone_ttl_hours).

Two write modes for upserts:
- `batch` (default): one strongly consistent `batch_get_item` reads the stored versions of the
  batch's ids (tombstones included), then `batch_write_item` (25 a request) puts only the newer
  posts. A post id is the partition key, so all versions of an id are in one shard and one
  processor writes them in order; the read-then-write gap matters only to a zombie processor that
  lost its lease mid-batch.
- `conditional`: one conditional `PutItem` per post (`NEWER_VERSION`)
  from a thread pool: strict even against zombies, ~5x the calls.
Either way an upsert newer than a tombstone replaces it (the post is re-created); one at or below
the tombstone's version is `stale`.

Why the batch mode still reads: DynamoDB's only batched write that carries a condition per item is
PartiQL `BatchExecuteStatement` (an INSERT per post, then for the DuplicateItem ones an
`UPDATE ... REMOVE deleted WHERE version < ?` that leaves compliance attributes in place). The
local emulator cannot run it as DynamoDB does (moto's PartiQL fails a parameterized INSERT and SET
with REMOVE, overwrites an existing item instead of answering DuplicateItem, drops or rejects a
`version < ?` condition, never fails a WHERE, and copies the whole table per statement), so it could
not be tested here; and a failed conditional write still bills write units, so every upsert of an
id already stored would cost a second write unit. `TransactWriteItems` is all-or-nothing and bills
two write units per item. The read-free alternative, one conditional `UpdateItem` per post, costs a
request per post. The README ("What it costs") has the figures.

Deletes are always a conditional `PutItem` of the tombstone (`DELETE_WINS`), written even when no
item existed. An older delete never touches a newer post; a delete wins a tie with an upsert; the same
delete again (a redelivery) writes nothing. Outcomes: `deleted` when the put replaced a live post
(ReturnValues=ALL_OLD shows it), `delete_noop` otherwise (no item, an older tombstone refreshed
with the newer delete version, or a newer or equal version already stored).

Compliance (`Hide`): after the batch's upserts and deletes, each hide / unhide is one conditional
`UpdateItem` (`pulse_common.contracts.items.hide_update`): a live post only, newer than the last
event of its reason, the item's version bumped by one. Every upsert first reads the stored item's
compliance attributes (`batch_get_item`, in both modes) and keeps them on the newer copy.

A user-level event is recorded on the user's state item, then counted on the user-states
generation item (`USER_STATES_GENERATION_KEY`). The store caches the state items it read (an
author with none included) and reads the generation in the same strongly consistent request as the
batch's post versions, before any state item it lacks: while the count has not moved, no event
was recorded since the cached states were read, so they are what a read would return; when it
moves, the whole cache is dropped. Authors seen before cost no read units.

Failures: `UnprocessedItems`, throttling, 5xx, connection errors and a missing table are retried
with capped exponential backoff and full jitter, without limit: the caller must not checkpoint
past an unwritten post. A ValidationException names bad data, not a bad store: it is raised as
`ItemRejected` so the caller can isolate the item.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from pulse_common.contracts.items import (
    AUTHOR_ATTR,
    AUTHOR_INDEX,
    CONDITION_NAMES,
    DELETE_WINS,
    HIDE_ATTRS,
    NEWER_VERSION,
    SCRUB_GEO_ATTR,
    TOMBSTONE_ATTR,
    USER_STATES_GENERATION_KEY,
    BadRecord,
    compliance_attributes,
    doc_attribute,
    doc_of,
    hide_update,
    is_tombstone,
    item_size,
    scrub_geo_limit,
    tombstone_item,
    user_hides_for,
    user_key,
    user_state_update,
    user_states_generation_bump,
)
from pulse_common.retry import THROTTLING_CODES, RetryPolicy, aws_error_code, is_retryable_aws_error
from pulse_enricher import metrics
from pulse_enricher.store_ops import Delete, Hide, Op, Upsert, UserEvent, WriteResult, latest_per_id

log = logging.getLogger("pulse.enricher.store")

MAX_BATCH_WRITE = 25
MAX_BATCH_GET = 100
MAX_BATCH_WRITE_BYTES = 15 * 1024 * 1024  # the request limit is 16 MiB
NON_RETRYABLE_CODES = frozenset({"ValidationException", "SerializationException"})
DEFAULT_TOMBSTONE_TTL = timedelta(days=15)
MAX_CACHED_USERS = 100_000
# The requests whose parameters PostStore builds in the wire's shape (`pulse_common.aws.client`'s
# `as_built`): serialized as they are.
STORE_REQUESTS = ("BatchWriteItem", "BatchGetItem", "PutItem")


class ItemRejected(Exception):
    """DynamoDB refused the data itself (ValidationException): retrying cannot help."""


def is_retryable_store_error(exc: BaseException) -> bool:
    """Retry what an outage or a missing table raises; never bad data, a failed condition or a bug."""
    code = aws_error_code(exc)
    if code in NON_RETRYABLE_CODES or code == "ConditionalCheckFailedException":
        return False
    return isinstance(exc, ClientError | HTTPClientError | BotoConnectionError | OSError) or (
        is_retryable_aws_error(exc)
    )


# Writes are retried until they succeed: the caller must not checkpoint past an unwritten post.
STORE_RETRY = RetryPolicy(base_s=0.05, cap_s=5.0, max_attempts=None, retryable=is_retryable_store_error)


class PostStore:
    def __init__(
        self,
        dynamodb: Any,
        table: str,
        *,
        mode: str = "batch",
        concurrency: int = 8,
        retry: RetryPolicy = STORE_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        should_stop: Callable[[], bool] = lambda: False,
        tombstone_ttl: timedelta = DEFAULT_TOMBSTONE_TTL,
        clock: Callable[[], datetime] = lambda: now_utc(),
    ) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.mode = mode
        self.concurrency = concurrency
        self.retry = retry
        self.sleep = sleep
        self.should_stop = should_stop
        self.tombstone_ttl = tombstone_ttl
        self.clock = clock
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # user state key -> its compliance attributes ({} when the author has no state item), valid
        # while the user-states generation is `_users_generation`
        self._users: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._users_generation: int | None = None

    # -- public -------------------------------------------------------------------------------
    def apply(self, ops: Iterable[Op]) -> WriteResult:
        """Make every op durable (or provably superseded). Blocks and retries until it is."""
        ops = list(ops)
        hides = [op for op in ops if isinstance(op, Hide)]
        user_events = [op for op in ops if isinstance(op, UserEvent)]
        ops = latest_per_id(ops)
        result = WriteResult()
        if not ops and not hides and not user_events:
            return result
        upserts = [op for op in ops if isinstance(op, Upsert)]
        deletes = [op for op in ops if isinstance(op, Delete)]
        authors = {op.id: op.item.get(AUTHOR_ATTR, {}).get("S") for op in upserts}
        users = sorted({user_key(a) for a in authors.values() if a})
        # one read: the versions, and the generation that says whether the cached user states hold
        stored = self._stored([op.id for op in upserts] + ([USER_STATES_GENERATION_KEY] if users else []))
        user_states = self._user_states(users, stored.pop(USER_STATES_GENERATION_KEY, (0, True, {}))[0])
        for op in upserts:  # a newer copy keeps what compliance events set on the post and its user
            kept = stored.get(op.id, (0, False, {}))[2]
            user = user_states.get(user_key(authors[op.id] or ""))
            if user:
                kept = user_hides_for(kept, user)
                _scrub_item_geo(op, scrub_geo_limit(user))
            if kept:
                op.item = {**op.item, **kept}
        if self.mode == "conditional":
            self._conditional_puts(upserts, result)
        else:
            newer: list[Upsert] = []
            for op in upserts:
                have, tombstone, _kept = stored.get(op.id, (None, False, {}))
                if have is None or have < op.version:
                    newer.append(op)  # over a tombstone too: the post is re-created
                elif have == op.version and not tombstone:
                    result.already_stored.append(op.id)
                else:
                    result.stale.append(op.id)  # a newer version, or a delete of this version or newer
            self._batch_put(newer, result)
        self._conditional_deletes(deletes, result)
        for op in hides:  # in order: a hide and its undo in one batch end as the later one says
            self._hide(op, result)
        for event in user_events:
            self._user_event(event, result)
        return result

    def _user_states(self, keys: list[str], generation: int) -> dict[str, dict[str, Any]]:
        """The compliance attributes of each user state key ({} for none), from the cache where the
        generation read before has not moved, else strongly read (and cached)."""
        if generation != self._users_generation:
            self._users.clear()
            self._users_generation = generation
        missing = [key for key in keys if key not in self._users]
        if missing:
            found = self._stored(missing)
            for key in missing:
                self._users[key] = found[key][2] if key in found else {}
        states = {}
        for key in keys:
            self._users.move_to_end(key)
            states[key] = self._users[key]
        while len(self._users) > MAX_CACHED_USERS:
            self._users.popitem(last=False)
        return states

    def _user_event(self, event: UserEvent, result: WriteResult) -> None:
        """Record the event on the user's state item (for later posts), count it on the generation
        item (every store's cached user states are then re-read), then apply it to every stored post
        of the user (found through the author index)."""
        try:
            self._call("update_item", lambda: self.dynamodb.update_item(
                TableName=self.table,
                **user_state_update(event.id, event.version, event.reason, event.on, event.up_to_id)))
        except ClientError as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise
            result.user_noop.append(event.id)
            # a replay after a crash between the two writes: count it again (a spare re-read at worst)
            self._bump_user_states_generation()
            return
        self._bump_user_states_generation()
        result.user_events.append(event.id)
        for post_id in self._posts_of(event.id):
            if event.reason is None:
                self._scrub_geo(post_id, int(event.up_to_id or 0))
            else:
                self._hide(Hide(post_id, event.version, event.reason, event.on), result)

    def _bump_user_states_generation(self) -> None:
        self._call("update_item", lambda: self.dynamodb.update_item(
            TableName=self.table, **user_states_generation_bump()))

    def _posts_of(self, author_id: str) -> list[str]:
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table, "IndexName": AUTHOR_INDEX,
            "KeyConditionExpression": "#a = :a",
            "ExpressionAttributeNames": {"#a": AUTHOR_ATTR},
            "ExpressionAttributeValues": {":a": {"S": author_id}},
        }
        while True:
            try:
                page = self._call("query", lambda r=dict(request): self.dynamodb.query(**r))
            except ItemRejected as exc:  # a table created without the author index
                log.error("author index missing: the user event reaches later posts only",
                          extra={"user_id": author_id, "index": AUTHOR_INDEX, "error": str(exc)[:300]})
                return ids
            ids.extend(item["id"]["S"] for item in page.get("Items", []))
            if not page.get("LastEvaluatedKey"):
                return ids
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _scrub_geo(self, post_id: str, up_to: int) -> None:
        """Remove the location of a stored post whose native id is at most `up_to` (read, then a
        write conditional on the version read; the version grows by one for the search index)."""
        item = self._call("get_item", lambda: self.dynamodb.get_item(
            TableName=self.table, Key={"id": {"S": post_id}}, ConsistentRead=True)).get("Item")
        if not item or is_tombstone(item) or "doc" not in item:
            return
        op = Upsert(post_id, int(item["version"]["N"]) + 1, item)
        if not _scrub_item_geo(op, up_to):
            return
        op.item = {**op.item, "version": {"N": str(op.version)}}
        try:
            self._call("put_item", lambda: self.dynamodb.put_item(
                TableName=self.table, Item=op.item, ConditionExpression="#v = :old",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":old": item["version"]}))
        except ClientError as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise  # a newer copy landed meanwhile: it was written with the user's scrub applied

    def _hide(self, op: Hide, result: WriteResult) -> None:
        try:
            self._call("update_item", lambda: self.dynamodb.update_item(
                TableName=self.table, **hide_update(op.id, op.version, op.reason, op.on)))
            result.hidden.append(op.id)
        except ItemRejected as exc:
            result.rejected[op.id] = str(exc)[:500]
        except ClientError as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise
            result.hide_noop.append(op.id)

    def stored_versions(self, ids: list[str]) -> dict[str, int]:
        """The stored version of each id that has an item, tombstones included (strongly consistent)."""
        return {post_id: version for post_id, (version, _tombstone, _kept) in self._stored(ids).items()}

    def _stored(self, ids: list[str]) -> dict[str, tuple[int, bool, dict[str, Any]]]:
        """id -> (stored version, whether the item is a tombstone, its compliance attributes), for
        each id that has an item."""
        found: dict[str, tuple[int, bool, dict[str, Any]]] = {}
        kept = (*HIDE_ATTRS, SCRUB_GEO_ATTR)
        names = {"#v": "version", "#d": TOMBSTONE_ATTR, **{f"#h{i}": a for i, a in enumerate(kept)}}
        projection = ", ".join(["id", "#v", "#d", *(f"#h{i}" for i in range(len(kept)))])
        for start in range(0, len(ids), MAX_BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"id": {"S": i}} for i in ids[start : start + MAX_BATCH_GET]],
                    "ProjectionExpression": projection,
                    "ExpressionAttributeNames": names,
                    "ConsistentRead": True,
                }
            }
            delays = self.retry.delays()
            while request:
                response = self._call("batch_get_item", lambda r=request: self.dynamodb.batch_get_item(
                    RequestItems=r))
                for item in response.get("Responses", {}).get(self.table, []):
                    found[item["id"]["S"]] = (
                        int(item["version"]["N"]), is_tombstone(item), compliance_attributes(item))
                request = response.get("UnprocessedKeys") or {}
                if request:
                    metrics.WRITE_RETRIES.labels("unprocessed").inc()
                    self.sleep(next(delays))
        return found

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # -- writes -------------------------------------------------------------------------------
    def _batch_put(self, upserts: list[Upsert], result: WriteResult) -> None:
        for chunk in _chunks(upserts):
            pending = [{"PutRequest": {"Item": op.item}} for op in chunk]
            delays = self.retry.delays()
            while pending:
                request = {self.table: pending}
                try:
                    response = self._call(
                        "batch_write_item", lambda r=request: self.dynamodb.batch_write_item(RequestItems=r)
                    )
                except ItemRejected:
                    # DynamoDB refused the whole request for one bad item: write them one by one
                    # (conditionally) so the good ones land and the bad one is named.
                    left = {entry["PutRequest"]["Item"]["id"]["S"] for entry in pending}
                    self._conditional_puts([op for op in chunk if op.id in left], result)
                    pending = []
                    continue
                pending = response.get("UnprocessedItems", {}).get(self.table, [])
                if pending:
                    metrics.WRITE_RETRIES.labels("unprocessed").inc(len(pending))
                    self.sleep(next(delays))
                else:
                    result.written.extend(op.id for op in chunk)

    def _conditional_puts(self, upserts: list[Upsert], result: WriteResult) -> None:
        def put(op: Upsert) -> tuple[str, bool | str]:
            try:
                self._call(
                    "put_item",
                    lambda: self.dynamodb.put_item(
                        TableName=self.table,
                        Item=op.item,
                        ConditionExpression=NEWER_VERSION,
                        ExpressionAttributeNames={"#v": CONDITION_NAMES["#v"]},
                        ExpressionAttributeValues={":v": {"N": str(op.version)}},
                    ),
                )
                return op.id, True
            except ItemRejected as exc:
                return op.id, str(exc)[:500]
            except ClientError as exc:
                if aws_error_code(exc) == "ConditionalCheckFailedException":
                    return op.id, False
                raise

        for post_id, outcome in self._map(put, upserts):
            if outcome is True:
                result.written.append(post_id)
            elif outcome is False:
                result.stale.append(post_id)
            else:
                result.rejected[post_id] = outcome

    def _conditional_deletes(self, deletes: list[Delete], result: WriteResult) -> None:
        """Each delete as a conditional put of its tombstone (see the module docstring)."""
        if not deletes:
            return
        now = self.clock()

        def delete(op: Delete) -> tuple[str, bool]:
            tombstone = tombstone_item(op.id, op.version, now=now, ttl=self.tombstone_ttl)
            try:
                response = self._call(
                    "put_item",
                    lambda: self.dynamodb.put_item(
                        TableName=self.table,
                        Item=tombstone,
                        ConditionExpression=DELETE_WINS,
                        ExpressionAttributeNames=CONDITION_NAMES,
                        ExpressionAttributeValues={":v": {"N": str(op.version)}},
                        ReturnValues="ALL_OLD",
                    ),
                )
                old = response.get("Attributes")
                return op.id, bool(old) and not is_tombstone(old)  # a live post was replaced
            except ClientError as exc:
                if aws_error_code(exc) == "ConditionalCheckFailedException":
                    return op.id, False
                raise

        for post_id, deleted in self._map(delete, deletes):
            (result.deleted if deleted else result.delete_noop).append(post_id)

    def _map(self, fn, items):
        if len(items) <= 1 or self.concurrency <= 1:
            return [fn(i) for i in items]
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="ddb-write")
        return list(self._pool.map(fn, items))

    # -- retries ------------------------------------------------------------------------------
    def _call(self, operation: str, fn: Callable[[], Any]) -> Any:
        """Call fn until it succeeds; raise only what retrying cannot fix."""

        def timed() -> Any:
            started = time.perf_counter()
            response = fn()
            metrics.WRITE_SECONDS.labels(operation).observe(time.perf_counter() - started)
            return response

        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            code = aws_error_code(exc)
            metrics.WRITE_RETRIES.labels("throttled" if code in THROTTLING_CODES else "error").inc()
            log.log(
                logging.WARNING if attempt < 5 else logging.ERROR,
                "dynamodb call failed; retrying",
                extra={"operation": operation, "error": code, "attempt": attempt, "delay_s": round(delay, 3)},
            )

        try:
            return self.retry.call(timed, sleep=self.sleep, on_retry=on_retry, should_stop=self.should_stop)
        except Exception as exc:
            code = aws_error_code(exc)
            if code in NON_RETRYABLE_CODES:
                raise ItemRejected(f"{code}: {exc}") from exc
            raise


def _scrub_item_geo(op: Upsert, up_to: int | None) -> bool:
    """Drop the location from an upsert's doc when its native id is at most `up_to`; True if it had one."""
    if up_to is None:
        return False
    try:
        doc = doc_of(op.item)
        native = int(str(doc.get("native_id", "")).rsplit("/", 1)[-1])
    except (BadRecord, ValueError, TypeError):
        return False
    if native > up_to or not doc.get("geo"):
        return False
    doc["geo"] = None
    op.item = {**op.item, "doc": doc_attribute(doc)}
    return True


def _chunks(upserts: list[Upsert]) -> Iterable[list[Upsert]]:
    chunk: list[Upsert] = []
    size = 0
    for op in upserts:
        op_size = item_size(op.item)
        if chunk and (len(chunk) == MAX_BATCH_WRITE or size + op_size > MAX_BATCH_WRITE_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(op)
        size += op_size
    if chunk:
        yield chunk


def now_utc() -> datetime:
    return datetime.now(UTC)
