"""moto's AWS emulator served by hypercorn: HTTP/1.1 and HTTP/2 cleartext on one port.

moto_server itself (werkzeug) speaks only HTTP/1.1; the KCL's Java SDK talks HTTP/2 to
Kinesis. hypercorn serves moto's WSGI app over both (h2c by prior knowledge).

Run: python -m pulse_devstack.aws_emulator --port 4566
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import calendar
import functools
import itertools
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any


class MotoVersionError(RuntimeError):
    """The installed moto is not the one the emulator's patches were written and measured against."""


def check_moto_version() -> str:
    """The patches below replace moto internals (classes, private methods): they are written and
    measured against the moto pulse-devstack pins (devstack/pyproject.toml), and another moto could
    silently change what they do, and what the reliability checks measure. Returns that version."""
    from importlib import metadata

    from packaging.requirements import Requirement

    wanted = next(
        (Requirement(text) for text in metadata.requires("pulse-devstack") or []
         if Requirement(text).name == "moto"),
        None,
    )
    found = metadata.version("moto")
    if wanted is None or not wanted.specifier or found not in wanted.specifier:
        pin = str(wanted.specifier) if wanted is not None else "no pin"
        raise MotoVersionError(
            f"the AWS emulator's patches are written for moto{pin} (devstack/pyproject.toml) but moto "
            f"{found} is installed: run `make setup`, or re-check every patch (tests/unit/devstack, "
            "bench/emulator_patches.py) before changing the pin"
        )
    return found


MOTO_VERSION = check_moto_version()

# Kinesis and DynamoDB calls are not thread-safe in moto (put_record reads the last sequence
# number, then writes last + 1; a conditional put checks, then writes). hypercorn runs the WSGI
# app on a thread pool, so two concurrent calls could lose a record or break a condition.
# Serializing them costs little (moto is CPU-bound Python under the GIL anyway). SQS is left
# concurrent: ReceiveMessage long-polls and must not block everything else.
_SERIALIZED_TARGETS = ("Kinesis_", "DynamoDB_", "DynamoDBStreams_")


class SerializedWrites:
    """WSGI middleware: one Kinesis/DynamoDB request at a time, the rest concurrent."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(_SERIALIZED_TARGETS):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


class EmptyBodyChunk:
    """WSGI middleware: a response without a body (moto's answer to HEAD) yields one empty chunk.

    hypercorn's WSGI adapter sends the status line together with the first body chunk; with no
    chunk at all it never sends it, and the client gets a 500 instead of the real status. The
    SDKs' HeadBucket (how Terraform's provider finds an S3 bucket) needs the real 200 or 404.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self._at_least_one_chunk(self.app(environ, start_response))

    @staticmethod
    def _at_least_one_chunk(body: Iterable[bytes]) -> Iterable[bytes]:
        try:
            sent = False
            for chunk in body:
                sent = True
                yield chunk
            if not sent:
                yield b""
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()


class RequestStats:
    """WSGI middleware for profiling the emulator: calls and handler CPU seconds per operation,
    written as JSON to `path` every few seconds (PULSE_EMULATOR_STATS=<path>), and the billing units
    of every request (`pulse_devstack.request_units`), answered at GET /_pulse/request-units."""

    UNITS_PATH = "/_pulse/request-units"

    def __init__(self, app: Callable[..., Iterable[bytes]], path: str) -> None:
        from pulse_devstack.request_units import RequestUnits

        self.app = app
        self.path = path
        self.stats: dict[str, list[float]] = {}
        self.units = RequestUnits()
        self.lock = threading.Lock()
        self.last_dump = time.monotonic()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == self.UNITS_PATH and environ.get("REQUEST_METHOD") == "GET":
            with self.lock:
                answer = json.dumps(self.units.snapshot(), sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json")])
            return [answer]
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        op = target or f"{environ.get('REQUEST_METHOD')} {environ.get('HTTP_HOST')}"
        agent = environ.get("HTTP_USER_AGENT", "").split(" ", 1)[0].split("/", 1)[0]
        op = f"{op} {agent}"
        request = b""
        if target:
            import io

            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(request)
            environ["CONTENT_LENGTH"] = str(len(request))
        status: list[int] = [200]

        def keep_status(line: str, headers: Any, *exc_info: Any) -> Any:
            status[0] = int(line.split(" ", 1)[0])
            return start_response(line, headers, *exc_info)

        started = time.thread_time()
        body = list(self.app(environ, keep_status))
        spent = time.thread_time() - started
        with self.lock:
            if target:
                self.units.account(target, request, b"".join(body), status[0])
            entry = self.stats.setdefault(op, [0, 0.0])
            entry[0] += 1
            entry[1] += spent
            if time.monotonic() - self.last_dump > 2:
                self.last_dump = time.monotonic()
                with open(self.path, "w") as out:
                    json.dump(self.stats, out, indent=1, sort_keys=True)
        return body


def install_moto_kinesis_speedups() -> None:
    """moto's Kinesis shard lists every record to find its last sequence number, and GetRecords
    scans from the first record: O(records in the shard) per put and per read, so a long run slows
    down as the stream grows. Sequence numbers in a shard are consecutive ints (put_record assigns
    last + 1), so both become O(1) / O(limit) with the same results (tests/unit/devstack)."""
    from moto.kinesis import models as km

    original_get_records = km.Shard.get_records

    def get_max_sequence_number(self) -> int:
        return next(reversed(self.records)) if self.records else 0

    def get_min_sequence_number(self) -> int:
        return next(iter(self.records)) if self.records else 0

    def get_records(self, last_sequence_id, limit):
        if not self.records:
            return original_get_records(self, last_sequence_id, limit)
        first, last = next(iter(self.records)), next(reversed(self.records))
        if last - first + 1 != len(self.records):  # not contiguous: fall back to moto's scan
            return original_get_records(self, last_sequence_id, limit)
        after = int(last_sequence_id)
        start = max(after + 1, first)
        stop = last if not limit else min(last, start + limit - 1)
        results = [self.records[seq] for seq in range(start, stop + 1)]
        if not results:
            return [], after, 0
        behind = self.records[last].created_at - results[-1].created_at
        return results, results[-1].sequence_number, int(behind * 1000)

    km.Shard.get_max_sequence_number = get_max_sequence_number
    km.Shard.get_min_sequence_number = get_min_sequence_number
    km.Shard.get_records = get_records


def install_moto_kinesis_resharding() -> None:
    """Kinesis resharding (SplitShard, MergeShards, UpdateShardCount) as AWS does it. moto 5.x differs
    in three ways that a KCL consumer trips on:

    - moto moves the parent's records into the children; Kinesis keeps them in the closed parent
      (readable until the retention period ends), and the children get only what is written after
      the split. A consumer finishes the parent first, then reads the children: per key, in order.
    - moto routes a write to the first shard whose hash range holds the key, closed or not, so
      writes after a split land in the closed parent; Kinesis writes to open shards only (and a
      shard's EndingHashKey is inclusive).
    - moto's GetRecords never ends a closed shard; Kinesis answers, once the last record was read,
      a null NextShardIterator and the ChildShards (KCL 2.3+ requires both, else it retries the same
      call forever). `kinesis_child_shards` gives them; the GetRecords answer is written by
      `install_moto_kinesis_response_speedups`.

    A child's sequence numbers continue after its parent's, so they keep growing per key as on
    Kinesis (tests/unit/devstack)."""
    from moto.kinesis import models as km
    from moto.kinesis.exceptions import InvalidArgumentError

    original_get_records = km.KinesisBackend.get_records

    def put_record(self, partition_key, data, explicit_hash_key):  # moto's, but a child's numbering
        first = getattr(self, "_pulse_first_sequence", 1)  # continues after its parents'
        sequence_number = (self.get_max_sequence_number() if self.records else first - 1) + 1
        self.records[sequence_number] = km.Record(partition_key, data, sequence_number, explicit_hash_key)
        return str(sequence_number)

    def children(stream, parents: list[km.Shard], ranges: list[tuple[int, int]]) -> list[km.Shard]:
        last_id = max(shard._shard_id for shard in stream.shards.values())
        first_sequence = max(parent.get_max_sequence_number() for parent in parents) + 1
        made = []
        for n, (start, end) in enumerate(ranges, start=1):
            child = km.Shard(last_id + n, start, end, parent=parents[0].shard_id,
                             adjacent_parent=parents[1].shard_id if len(parents) > 1 else None)
            child._pulse_first_sequence = first_sequence
            stream.shards[child.shard_id] = child
            made.append(child)
        for parent in parents:
            parent.is_open = False
        return made

    def split_shard(self, shard_to_split: str, new_starting_hash_key: str) -> None:
        new_start = int(new_starting_hash_key)
        shard = self.get_shard(shard_to_split)
        if not shard.starting_hash < new_start <= shard.ending_hash:
            raise InvalidArgumentError(
                message=f"NewStartingHashKey {new_start} used in SplitShard() on shard {shard_to_split} in "
                f"stream {self.stream_name} is not within the shard's hash key range")
        if not shard.is_open:
            raise InvalidArgumentError(
                message=f"Shard {shard.shard_id} in stream {self.stream_name} has already been merged or "
                "split, and thus is not eligible for merging or splitting.")
        children(self, [shard], [(shard.starting_hash, new_start - 1), (new_start, shard.ending_hash)])

    def merge_shards(self, shard_to_merge: str, adjacent_shard_to_merge: str) -> None:
        first, second = self.get_shard(shard_to_merge), self.get_shard(adjacent_shard_to_merge)
        low, high = sorted((first, second), key=lambda shard: shard.starting_hash)
        if low.ending_hash + 1 != high.starting_hash or not (first.is_open and second.is_open):
            raise InvalidArgumentError(adjacent_shard_to_merge)
        children(self, [first, second], [(low.starting_hash, high.ending_hash)])

    def get_shard_for_key(self, partition_key: str, explicit_hash_key: str):
        if not isinstance(partition_key, str) or len(partition_key) > 256:
            raise InvalidArgumentError("partition_key")
        if explicit_hash_key:
            if not isinstance(explicit_hash_key, str) or int(explicit_hash_key) >= 2**128:
                raise InvalidArgumentError("explicit_hash_key")
            key = int(explicit_hash_key)
        else:
            key = int(km.md5_hash(partition_key.encode("utf-8")).hexdigest(), 16)
        for shard in self.shards.values():
            if shard.is_open and shard.starting_hash <= key <= shard.ending_hash:
                return shard
        return None

    def get_records(self, stream_arn, shard_iterator, limit):
        next_iterator, records, behind = original_get_records(self, stream_arn, shard_iterator, limit)
        stream_name, shard_id, last = km.decompose_shard_iterator(shard_iterator)
        shard = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name).get_shard(shard_id)
        read_to = int(records[-1].sequence_number) if records else int(last)
        if not shard.is_open and read_to >= shard.get_max_sequence_number():
            next_iterator = None
        return next_iterator, records, behind

    km.Shard.put_record = put_record
    km.Stream.split_shard = split_shard
    km.Stream.merge_shards = merge_shards
    km.Stream.get_shard_for_key = get_shard_for_key
    km.KinesisBackend.get_records = get_records


def kinesis_child_shards(backend, stream_arn: str | None, shard_iterator: str) -> list[dict[str, Any]]:
    """The ChildShards of the shard an iterator reads (GetRecords at the end of a closed shard)."""
    from moto.kinesis.utils import decompose_shard_iterator

    stream_name, shard_id, _last = decompose_shard_iterator(shard_iterator)
    stream = backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
    return [
        {"ShardId": shard.shard_id,
         "ParentShards": [p for p in (shard.parent, shard.adjacent_parent) if p],
         "HashKeyRange": {"StartingHashKey": str(shard.starting_hash),
                          "EndingHashKey": str(shard.ending_hash)}}
        for shard in stream.shards.values() if shard_id in (shard.parent, shard.adjacent_parent)
    ]


# Emulator only: a table tagged with this key closes its stream's open shard every <value> records
# and opens a child (AWS closes DynamoDB stream shards on its own schedule, about every 4 hours).
STREAM_SHARD_RECORDS_TAG = "pulse-emulator:stream-shard-records"


def install_moto_dynamodb_stream_shards() -> None:
    """DynamoDB Streams shards as AWS documents them, where moto 5.x differs in ways the DynamoDB
    Streams Kinesis Adapter (and any KCL consumer) trips on:

    - moto gives every stream the same shard id and the same first sequence number, so a KCL lease
      table left from an earlier table of the same name (leases are keyed by shard id) resumes a new
      stream from a stale checkpoint and silently skips its records. AWS shard ids are unique:
      `shardId-<20-digit creation time in ms>-<8 hex>`.
    - moto's streams have one shard that never closes. AWS closes a stream's shards (and opens
      children) on its own; here, a table tagged `pulse-emulator:stream-shard-records=<n>` closes
      its open shard every n records. A closed shard has an EndingSequenceNumber, its child a
      ParentShardId, and GetRecords at the end of a closed shard answers no NextShardIterator.
    - DescribeStream ignores `Limit` / `ExclusiveStartShardId` (paging, LastEvaluatedShardId) and
      `ShardFilter` (`{"Type": "CHILD_SHARDS", "ShardId": ...}`: only that shard's children), which
      the adapter uses when a shard ends.
    - GetShardIterator for a shard id the stream does not have fails with a 500 (an assertion);
      AWS answers ResourceNotFoundException.
    """
    import uuid

    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodbstreams import models as sm
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    original_init = StreamShard.__init__
    original_add = StreamShard.add
    original_set_stream = Table.set_stream_specification
    original_iterator_get = sm.ShardIterator.get

    def shard_init(self, account_id, table, parent=None):
        original_init(self, account_id, table)
        self.id = f"shardId-{int(time.time() * 1000):020d}-{uuid.uuid4().hex[:8]}"
        self.parent_id = parent.id if parent is not None else None
        self.ending_sequence_number = None
        if parent is not None:
            self.starting_sequence_number = parent.ending_sequence_number + 1

    def shard_to_json(self):
        numbers = {"StartingSequenceNumber": str(self.starting_sequence_number)}
        if self.ending_sequence_number is not None:
            numbers["EndingSequenceNumber"] = str(self.ending_sequence_number)
        found = {"ShardId": self.id, "SequenceNumberRange": numbers}
        if self.parent_id:
            found["ParentShardId"] = self.parent_id
        return found

    def stream_shards(table) -> list:
        if table.stream_shard is None:
            return []
        kept = table.__dict__.get("_pulse_stream_shards")
        if not kept or kept[-1] is not table.stream_shard:
            kept = table._pulse_stream_shards = [table.stream_shard]
        return kept

    def shard_add(self, old, new):
        original_add(self, old, new)
        table = self.table
        tags = table.tags or []
        limit = next((int(tag["Value"]) for tag in tags if tag["Key"] == STREAM_SHARD_RECORDS_TAG), 0)
        if limit and len(self.items) >= limit and table.stream_shard is self:
            shards = stream_shards(table)
            self.ending_sequence_number = self.starting_sequence_number + len(self.items) - 1
            table.stream_shard = StreamShard(self.account_id, table, parent=self)
            shards.append(table.stream_shard)

    def set_stream_specification(self, streams):
        original_set_stream(self, streams)
        self.__dict__.pop("_pulse_stream_shards", None)  # a new stream: its own shards

    def find_shard(backend, arn: str, shard_id: str):
        table = backend._get_table_from_arn(arn)
        for shard in stream_shards(table):
            if shard.id == shard_id:
                return shard
        raise JsonRESTError("ResourceNotFoundException",
                            f"Requested resource not found: Shard does not exist ({shard_id})")

    def get_shard_iterator(self, arn, shard_id, shard_iterator_type, sequence_number=None):
        shard = find_shard(self, arn, shard_id)
        iterator = sm.ShardIterator(self, shard, shard_iterator_type, sequence_number)
        self.shard_iterators[iterator.arn] = iterator
        return iterator

    def iterator_get(self, limit: int = 1000):
        result = original_iterator_get(self, limit)
        shard = self.stream_shard
        if shard.ending_sequence_number is not None:
            read_to = max([int(r["dynamodb"]["SequenceNumber"]) for r in result["Records"]],
                          default=self.sequence_number - 1)
            if read_to >= shard.ending_sequence_number:
                self.streams_backend.shard_iterators.pop(result["NextShardIterator"], None)
                result = {"Records": result["Records"]}  # the end of a closed shard
        return result

    def describe_stream(self, arn: str, limit: int | None = None, start_after: str | None = None,
                        shard_filter: dict | None = None):
        table = self._get_table_from_arn(arn)
        shards = stream_shards(table)
        if shard_filter and shard_filter.get("Type") == "CHILD_SHARDS":
            shards = [shard for shard in shards if shard.parent_id == shard_filter.get("ShardId")]
        if start_after:
            ids = [shard.id for shard in shards]
            shards = shards[ids.index(start_after) + 1:] if start_after in ids else []
        page = shards[: limit or 100]
        stream = {
            "StreamArn": arn,
            "StreamLabel": table.latest_stream_label,
            "StreamStatus": "ENABLED" if table.latest_stream_label else "DISABLED",
            "StreamViewType": table.stream_specification["StreamViewType"],
            "CreationRequestDateTime": shards[0].created_on if shards else table.created_at,
            "TableName": table.name,
            "KeySchema": table.schema,
            "Shards": [shard.to_json() for shard in page],
        }
        if len(page) < len(shards):
            stream["LastEvaluatedShardId"] = page[-1].id
        return stream

    def describe_stream_handler(self):
        stream = self.backend.describe_stream(
            self._get_param("StreamArn"), self._get_param("Limit"), self._get_param("ExclusiveStartShardId"),
            self._get_param("ShardFilter"))
        return json.dumps({"StreamDescription": stream}, default=lambda value: value.timestamp())

    StreamShard.__init__ = shard_init
    StreamShard.to_json = shard_to_json
    StreamShard.add = shard_add
    Table.set_stream_specification = set_stream_specification
    sm.ShardIterator.get = iterator_get
    sm.DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator
    sm.DynamoDBStreamsBackend.describe_stream = describe_stream
    DynamoDBStreamsHandler.describe_stream = describe_stream_handler


def install_moto_dynamodb_streams_speedup() -> None:
    """moto serializes GetRecords through its generic response model, ~1.5 ms per stream record;
    the records are already in DynamoDB's JSON shape, so dump them directly (3-4x faster).
    Timestamps become epoch seconds and binary attributes (B, BS: bytes in moto) base64 text, as the
    DynamoDB Streams JSON protocol sends them."""
    import base64

    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    def wire(value):
        if isinstance(value, bytes | bytearray):
            return base64.b64encode(value).decode("ascii")
        return value.timestamp()

    def get_records(self):
        limit = self._get_param("Limit") or 1000
        result = self.backend.get_records(self._get_param("ShardIterator"), limit)
        return json.dumps(result, default=wire)

    DynamoDBStreamsHandler.get_records = get_records


def install_moto_request_routing_speedup() -> None:
    """moto's dispatcher lists its own package directory (about 180 stat calls) on every request to
    route it; the list never changes while the server runs, so compute it once."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def _epoch_millis(value) -> int | float:
    """A datetime as epoch seconds truncated to milliseconds: what moto's serializer sends."""
    base = calendar.timegm(value.timetuple())
    return base + (value.microsecond // 1000) / 1000.0 if value.microsecond else base


def _base64_text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode("ascii")


def install_moto_kinesis_response_speedups() -> None:
    """PutRecords and GetRecords go through moto's generic response serializer, which walks the
    service model for every field of every record (most of the call's cost). Their shapes are
    flat: write the same JSON directly. moto keeps each record's data as the base64 text it was
    put with, which is exactly what the JSON protocol sends back (tests/unit/devstack)."""
    from moto.kinesis.responses import KinesisResponse

    def get_records(self):
        stream_arn, iterator = self._get_param("StreamARN"), self._get_param("ShardIterator")
        next_iterator, records, behind = self.kinesis_backend.get_records(
            stream_arn, iterator, self._get_param("Limit")
        )
        # The end of a closed shard: no next iterator, the children instead (Kinesis' GetRecords).
        ending = {"ChildShards": kinesis_child_shards(self.kinesis_backend, stream_arn, iterator)} \
            if next_iterator is None else {"NextShardIterator": next_iterator}
        return json.dumps({
            **ending,
            "Records": [
                {
                    "Data": _base64_text(record.data),
                    "PartitionKey": record.partition_key,
                    "SequenceNumber": str(record.sequence_number),
                    "ApproximateArrivalTimestamp": _epoch_millis(record.created_at_datetime),
                }
                for record in records
            ],
            "MillisBehindLatest": behind,
        })

    def put_records(self):
        response = self.kinesis_backend.put_records(
            self._get_param("StreamARN"), self._get_param("StreamName"), self._get_param("Records")
        )
        return json.dumps({
            "FailedRecordCount": response["FailedRecordCount"],
            "Records": [
                {"SequenceNumber": str(entry["SequenceNumber"]), "ShardId": entry["ShardId"]}
                for entry in response["Records"]
            ],
        })

    KinesisResponse.get_records = get_records
    KinesisResponse.put_records = put_records


def install_moto_dynamodb_item_speedup() -> None:
    """moto checks the 400 KB item limit on every attribute set by re-measuring the whole item
    (`LimitedSizeDict.__setitem__`), so building an item of n attributes measures it n times: about
    half of a PutItem / BatchWriteItem. `Item.__init__` builds a new item: measure it once, with
    the same rule (the last attribute set is the largest total, so the check is on the total).
    Later updates keep moto's own checked path."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models import dynamo_type as dt
    from moto.dynamodb.models.utilities import bytesize

    def item_init(self, hash_key, range_key, attrs) -> None:
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: dt.DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > 405000:
            raise ItemSizeTooLarge
        self.attrs = dt.LimitedSizeDict()
        dict.update(self.attrs, values)

    dt.Item.__init__ = item_init


# The item operations the services and the KCL call many times a second.
FAST_DYNAMODB_ACTIONS = frozenset(
    {"BatchWriteItem", "BatchGetItem", "PutItem", "UpdateItem", "GetItem", "DeleteItem", "Scan", "Query"}
)


def install_moto_dynamodb_json_speedups() -> None:
    """moto parses every DynamoDB request by walking botocore's service model over each attribute
    value of each item, and serializes every answer the same way: about a fifth of a 25-item
    BatchWriteItem and 60 % of a BatchGetItem. DynamoDB's JSON protocol is already the shape moto's
    handlers use, so for item operations load the body with `json.loads` and dump the answer with
    `json.dumps`. The model walk still runs when it could change something: a request with binary
    attributes (`"B"`, `"BS"`, base64 on the wire, bytes in moto) and an answer holding anything
    but plain JSON types (tests/unit/devstack compares both ways operation by operation)."""
    from moto.core.utils import get_service_model
    from moto.dynamodb.responses import DynamoHandler

    original_parse, original_serialized = DynamoHandler.parse_parameters, DynamoHandler.serialized

    @functools.cache
    def answer_members(action: str) -> frozenset[str]:
        """The top-level members of the action's answer; moto's serializer drops any other key."""
        return frozenset(get_service_model("dynamodb").operation_model(action).output_shape.members)

    def parse_parameters(self, request) -> None:
        body = request.get_data()
        binary = b'"B"' in body or b'"BS"' in body
        if self._get_action() in FAST_DYNAMODB_ACTIONS and body and not binary:
            self.params = json.loads(body)
        else:
            original_parse(self, request)

    def serialized(self, action_result):
        result, action = action_result.result, self._get_action()
        if action in FAST_DYNAMODB_ACTIONS and type(result) is dict:
            members = answer_members(action)
            try:
                body = json.dumps({k: v for k, v in result.items() if k in members and v is not None})
            except TypeError:  # bytes, datetimes: moto's serializer knows their wire form
                return original_serialized(self, action_result)
            return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
        return original_serialized(self, action_result)

    DynamoHandler.parse_parameters = parse_parameters
    DynamoHandler.serialized = serialized


def install_moto_action_lookup_speedup() -> None:
    """moto lists a response class's methods with `inspect.getmembers` on every request to check
    that the action exists (about 0.5 ms a request); the methods never change while it serves."""
    from moto.core import responses

    original = responses.method_names_from_class

    @functools.cache
    def method_names_from_class(clazz) -> frozenset[str]:
        return frozenset(original(clazz))

    responses.method_names_from_class = method_names_from_class


def install_moto_backend_lookup_speedup() -> None:
    """Every `backends[account]` lookup (several per request: once per item in a BatchWriteItem)
    checks `self not in BackendDict._instances`, a list of ~150 dicts compared by equality. Once an
    account's backend exists and the dict is registered, nothing is left to do."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self, account_id: str) -> None:
        if not (dict.__contains__(self, account_id) and self.__dict__.get("_pulse_registered")):
            original(self, account_id)
            self._pulse_registered = True

    BackendDict._create_account_specific_backend = create_account_specific_backend


def install_moto_response_id_speedup() -> None:
    """moto writes the request id into every response body with a regex over the whole body
    (`<RequestId>` in XML bodies), about 9 ns per character: 4 ms for a 450 KB GetRecords page of
    JSON, which has no such tag. Skip the regex when the tag is not in the body."""
    from moto.core import responses

    original = responses.BaseResponse._enrich_response

    def enrich_response(headers, body):
        if not isinstance(body, str) or "<RequestId>" in body:
            return original(headers, body)
        if "status" in headers:
            headers["status"] = str(headers["status"])
        responses.gen_amzn_requestid_long(headers)
        return headers, body

    responses.BaseResponse._enrich_response = staticmethod(enrich_response)


def install_moto_dynamodb_scan_speedup() -> None:
    """moto answers every Scan page by sorting the whole table and walking it from the first item
    to the page's start key, so reading a table page by page is quadratic: a full scan of 360,000
    posts (about 700 pages) did not finish in 8 minutes. For tables keyed by a hash key only (all of
    Pulse's), keep the sorted keys between calls (rebuilt only after a key was added or removed)
    and start each page at its start key by bisection; moto's own loop then does the rest
    (filters, limits, copies), so the pages are the ones moto returns (tests/unit/devstack)."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    original_scan, original_all_items = Table.scan, Table.all_items

    def sorted_keys(table) -> tuple[list[Any], list[Any]]:
        signature = (id(table.items), len(table.items))
        cached = table.__dict__.get("_pulse_sorted_keys")
        if cached is None or cached[0] != signature:
            keys = sorted(table.items, key=lambda key: key.cast_value)
            cached = (signature, keys, [key.cast_value for key in keys])
            table._pulse_sorted_keys = cached
        return cached[1], cached[2]

    def forgetting_keys_when_they_change(method):
        """`method` (put_item, delete_item) adds or removes at most one key: drop the kept order then."""

        def wrapped(self, *args, **kwargs):
            size_before = len(self.items)
            try:
                return method(self, *args, **kwargs)
            finally:
                if len(self.items) != size_before:
                    self.__dict__.pop("_pulse_sorted_keys", None)

        return wrapped

    def all_items(self):
        pending = self.__dict__.pop("_pulse_scan_items", None)
        return pending if pending is not None else original_all_items(self)

    def scan(self, filters, limit, exclusive_start_key, filter_expression=None, index_name=None,
             consistent_read=False, projection_expression=None, segments=(None, None)):
        start_key = (exclusive_start_key or {}).get(self.hash_key_attr)
        if index_name or self.range_key_attr or (exclusive_start_key and start_key is None):
            return original_scan(self, filters, limit, exclusive_start_key, filter_expression, index_name,
                                 consistent_read, projection_expression, segments)
        keys, values = sorted_keys(self)
        # moto skips every item up to and including the start key.
        first = bisect.bisect_right(values, DynamoType(start_key).cast_value) if start_key else 0
        items = self.items
        self._pulse_scan_items = (items[key] for key in itertools.islice(keys, first, None))
        try:
            return original_scan(self, filters, limit, None, filter_expression, index_name,
                                 consistent_read, projection_expression, segments)
        finally:
            self.__dict__.pop("_pulse_scan_items", None)

    Table.put_item = forgetting_keys_when_they_change(Table.put_item)
    Table.delete_item = forgetting_keys_when_they_change(Table.delete_item)
    Table.all_items, Table.scan = all_items, scan


def install_moto_instance_tracking_off() -> None:
    """moto appends every model object it ever creates to a class-level list (`instances_tracked`,
    for its /moto-api dashboard): every Kinesis record, every version of every DynamoDB item, every
    stream record and shard iterator, even after their stream or table is deleted. A long-running
    emulator therefore only grows (1.1 GB after four 30,000-post benches), and Python's full garbage
    collections walk all of it, so every run is slower than the one before (e2e p95 2.6 s on a fresh
    emulator, 5.9 s after three runs). Create the objects without tracking them; nothing in the
    services Pulse uses reads the lists (only the dashboard and S3's reset do)."""
    from moto.core.common_models import BaseModel

    def new_untracked(cls, *args, **kwargs):
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(new_untracked)


STREAM_ITERATOR_LIFETIME_S = 15 * 60  # DynamoDB Streams: an iterator expires 15 minutes after issue


def install_moto_dynamodb_stream_iterator_expiry(clock: Callable[[], float] = time.monotonic) -> None:
    """moto keeps every DynamoDB Streams shard iterator it issued (one per GetRecords call), and each
    holds the table's whole stream: neither ever goes, not even when the table is deleted. Expire
    them as DynamoDB Streams does, 15 minutes after issue, and drop a deleted table's at once; an
    expired or dropped iterator answers ExpiredIteratorException, as AWS does."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend, dynamodbstreams_backends

    original_get_shard_iterator = DynamoDBStreamsBackend.get_shard_iterator
    original_get_records = DynamoDBStreamsBackend.get_records
    original_delete_table = DynamoDBBackend.delete_table

    def issuing(backend: Any, call: Callable[[], Any]) -> Any:
        """Expire the iterators issued 15 minutes ago, then run `call` (which may issue one)."""
        iterators = backend.shard_iterators
        issued = backend.__dict__.setdefault("_pulse_issued", [])  # [(issued at, arn)], oldest first
        now = clock()
        expired = 0
        while expired < len(issued) and issued[expired][0] <= now - STREAM_ITERATOR_LIFETIME_S:
            iterators.pop(issued[expired][1], None)
            expired += 1
        del issued[:expired]
        size_before = len(iterators)
        result = call()
        if len(iterators) > size_before:
            issued.append((now, next(reversed(iterators))))
        return result

    def get_shard_iterator(self, *args, **kwargs):
        return issuing(self, lambda: original_get_shard_iterator(self, *args, **kwargs))

    def get_records(self, iterator_arn: str, limit: int):
        def read():
            if iterator_arn not in self.shard_iterators:
                raise JsonRESTError(
                    "ExpiredIteratorException",
                    "Iterator expired: issued over 15 minutes ago, or its table was deleted.",
                )
            return original_get_records(self, iterator_arn, limit)

        return issuing(self, read)

    def delete_table(self, name: str):
        table = original_delete_table(self, name)
        streams = dynamodbstreams_backends[self.account_id][self.region_name]
        for arn, iterator in list(streams.shard_iterators.items()):
            if iterator.stream_shard.table is table:
                del streams.shard_iterators[arn]
        return table

    DynamoDBStreamsBackend.get_shard_iterator = get_shard_iterator
    DynamoDBStreamsBackend.get_records = get_records
    DynamoDBBackend.delete_table = delete_table


def install_moto_dynamodb_update_item_one_stream_record() -> None:
    """An UpdateItem that creates its item writes one stream record on AWS (INSERT, the whole new
    item). moto first puts an item holding only the key, which streams an INSERT of the bare key,
    then streams the update's INSERT: a reader of the stream (the indexer) sees an image with no
    attributes. Create the bare item without streaming it, so only the update's record is sent."""
    from moto.dynamodb.models import DynamoDBBackend

    original_update_item = DynamoDBBackend.update_item

    def update_item(self, table_name, key, *args, **kwargs):
        table = self.get_table(table_name)
        if table.stream_shard is None or table.get_item(*self.get_keys_value(table, key)) is not None:
            return original_update_item(self, table_name, key, *args, **kwargs)

        def put_item_unstreamed(*put_args, **put_kwargs):
            shard, table.stream_shard = table.stream_shard, None
            try:
                return type(table).put_item(table, *put_args, **put_kwargs)
            finally:
                table.stream_shard = shard

        table.put_item = put_item_unstreamed
        try:
            return original_update_item(self, table_name, key, *args, **kwargs)
        finally:
            del table.put_item

    DynamoDBBackend.update_item = update_item


def install_moto_application_autoscaling_tags() -> None:
    """Application Auto Scaling's tag API (TagResource, UntagResource, ListTagsForResource), which
    moto lacks: Terraform's provider lists a scalable target's tags after creating it and retried
    moto's 500 for ever (found by make tf-local). Tags are kept per ARN, with those that
    RegisterScalableTarget sets."""
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    def tags_of(backend: ApplicationAutoscalingBackend) -> dict[str, dict[str, str]]:
        return backend.__dict__.setdefault("_pulse_tags", {})

    original_register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self) -> str:
        body = original_register(self)
        tags = self._get_param("Tags") or {}
        if tags:
            arn = json.loads(body)["ScalableTargetARN"]
            tags_of(self.applicationautoscaling_backend).setdefault(arn, {}).update(tags)
        return body

    def tag_resource(self) -> str:
        store = tags_of(self.applicationautoscaling_backend)
        store.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self) -> str:
        tags = tags_of(self.applicationautoscaling_backend).get(self._get_param("ResourceARN"), {})
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self) -> str:
        tags = tags_of(self.applicationautoscaling_backend).get(self._get_param("ResourceARN"), {})
        return json.dumps({"Tags": tags})

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource


# What makes moto answer as AWS does (the KCL and the reliability checks rely on them), and what only
# keeps a long-running emulator's memory flat. Always installed, in this order.
FIXES: dict[str, Callable[[], None]] = {
    "instance_tracking_off": install_moto_instance_tracking_off,
    "dynamodb_stream_shards": install_moto_dynamodb_stream_shards,  # before the expiry, which wraps it
    "dynamodb_stream_iterator_expiry": install_moto_dynamodb_stream_iterator_expiry,
    "kinesis_resharding": install_moto_kinesis_resharding,
    "dynamodb_update_item_one_stream_record": install_moto_dynamodb_update_item_one_stream_record,
    "application_autoscaling_tags": install_moto_application_autoscaling_tags,
}
# Speed-ups: the same answers as moto's own, cheaper. Each is kept only because bench figures show it
# matters (README, "The emulator's speed-ups"); PULSE_EMULATOR_WITHOUT=<name>,... leaves some out, to
# measure them again (bench/emulator_patches.py does it operation by operation).
SPEEDUPS: dict[str, Callable[[], None]] = {
    "dynamodb_json": install_moto_dynamodb_json_speedups,
    "action_lookup": install_moto_action_lookup_speedup,
    "backend_lookup": install_moto_backend_lookup_speedup,
    "kinesis_shard_index": install_moto_kinesis_speedups,
    "dynamodb_streams_json": install_moto_dynamodb_streams_speedup,
    "dynamodb_item": install_moto_dynamodb_item_speedup,
    "dynamodb_scan": install_moto_dynamodb_scan_speedup,
    "response_id": install_moto_response_id_speedup,
    "kinesis_json": install_moto_kinesis_response_speedups,
    "request_routing": install_moto_request_routing_speedup,
}


def install_patches(without: Iterable[str] = ()) -> list[str]:
    """Install every fix and the speed-ups not named in `without`; returns the speed-ups installed."""
    left_out = set(without)
    unknown = left_out - SPEEDUPS.keys()
    if unknown:
        raise ValueError(f"no such emulator speed-up: {sorted(unknown)} (known: {sorted(SPEEDUPS)})")
    for install in FIXES.values():
        install()
    installed = []
    for name, install in SPEEDUPS.items():
        if name not in left_out:
            install()
            installed.append(name)
    return installed


def build_app():
    from moto.server import DomainDispatcherApplication, create_backend_app

    without = [n for n in os.environ.get("PULSE_EMULATOR_WITHOUT", "").split(",") if n.strip()]
    install_patches(name.strip() for name in without)
    app = EmptyBodyChunk(SerializedWrites(DomainDispatcherApplication(create_backend_app)))
    stats_path = os.environ.get("PULSE_EMULATOR_STATS")
    return RequestStats(app, stats_path) if stats_path else app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve moto over HTTP/1.1 and h2c with hypercorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args(argv)

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{args.host}:{args.port}"]
    config.accesslog = None
    config.errorlog = "-"
    config.keep_alive_timeout = 75
    # The KCL and the producer send many requests per connection; raise hypercorn's stream limits.
    config.h2_max_concurrent_streams = 200
    # hypercorn closes a connection after 1,000 requests by default; the KCL's HTTP/2 connection
    # passes that every couple of minutes and its in-flight GetRecords then fail and back off
    # (seconds of added latency). Real AWS endpoints keep connections open: so does the emulator.
    config.keep_alive_max_requests = 2**62
    config.wsgi_max_body_size = 64 * 1024 * 1024

    shutdown = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, shutdown.set)
        await serve(build_app(), config, shutdown_trigger=shutdown.wait, mode="wsgi")

    try:  # uvloop's C event loop: ~10 % less emulator CPU than asyncio's own under the pipeline's load
        import uvloop
    except ImportError:
        asyncio.run(run())
    else:
        uvloop.run(run())


if __name__ == "__main__":
    main()
