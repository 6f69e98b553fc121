"""Indexer throughput on the local stack: DynamoDB stream -> OpenSearch.

Prints
  bench: indexer_docs_per_s <v>            50,000 items written to a fresh table, then one
                                           `pulse-indexer run` (the KCL daemon with the DynamoDB
                                           Streams adapter, a per-shard processor: GetRecords, bulk
                                           with external versions, checkpoints) indexes its stream;
                                           docs applied / seconds from the first applied to the last
                                           (the JVM's start and the first lease pickup, paid once by
                                           a deployment, are not counted)
  bench: indexer_cpu_ms_per_doc <v>        CPU of the indexer's whole process tree (run, JVM,
                                           processors) over that window, per document
  bench: indexer_bulk_docs_per_s <v>       the bulk path alone (the same 50,000 items -> actions ->
                                           _bulk), i.e. what the indexer can do when the stream read
                                           is not the limit
  bench: indexer_stream_read_records_per_s <v>   GetRecords alone on that stream (the emulator's cost)
  bench: indexer_baseline_docs_per_s <v>   the reference design: the same stream read, one index
                                           request per document, on a 2,000-item slice
Uses its own table / alias / lease tables (deleted afterwards); the lease table is created with its
shard's lease before the start, as a running deployment has it. Reuses a running local stack, else
starts one (`pulse-stack up`) and stops it at the end.

Run: .venv/bin/python bench/bench_indexer.py [--items 50000] [--baseline-items 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "indexer"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "indexer"))


def _fresh_names(prefix: str) -> None:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        PULSE_TABLE_NAME=name,
        PULSE_DLQ_NAME=name,
        PULSE_OPENSEARCH_INDEX_ALIAS=name,
        PULSE_INDEXER_METRICS_PORT="0",
        PULSE_INDEXER_LOG_LEVEL="WARNING",
    )


def _setup():
    from pulse_common.settings import StackSettings
    from pulse_devstack.resources import ensure_queue, ensure_table
    from pulse_indexer.migrate import apply_migrations

    stack = StackSettings()
    ensure_table(stack)
    ensure_queue(stack)
    apply_migrations(stack)
    return stack


def _teardown(stack, *more_tables: str) -> None:
    from pulse_common.aws import client
    from pulse_common.contracts import search as naming
    from pulse_common.opensearch import opensearch_client

    search = opensearch_client(stack)
    search.indices.delete(index=naming.index_pattern(stack.opensearch_index_alias), ignore=[404])
    search.indices.delete_index_template(
        name=naming.template_name(stack.opensearch_index_alias), ignore=[404]
    )
    dynamodb = client("dynamodb", stack)
    for table in (stack.table_name, *more_tables):
        try:
            dynamodb.delete_table(TableName=table)
        except Exception:  # noqa: BLE001 - best effort
            pass


def _items(n: int, seed: int):
    import indexer_data

    return indexer_data.workload(n, seed=seed, update_share=0.0, delete_share=0.0)


def _tree_cpu_s(pid: int) -> float:
    """utime + stime of a process and all its descendants (the JVM and its processors)."""
    from pulse_devstack.procs import descendants

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in [pid, *descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / ticks


def bench_stream(items: int) -> dict[str, float]:
    import indexer_data
    from indexer_helpers import IndexerRun, lease_tables, seed_leases

    from pulse_common.aws import client
    from pulse_indexer.settings import IndexerSettings

    _fresh_names("bench-idx")
    stack = _setup()
    app = IndexerSettings(stack=stack).app_name
    figures: dict[str, float] = {}
    log_dir = Path(__file__).resolve().parent / "results"
    log_dir.mkdir(exist_ok=True)
    run = None
    try:
        ops = _items(items, seed=5)
        started = time.monotonic()
        indexer_data.write_ops(client("dynamodb", stack), stack.table_name, ops)
        print(f"# wrote {items} items in {time.monotonic() - started:.1f}s", flush=True)

        # GetRecords alone: what the emulator's stream can serve
        streams = client("dynamodbstreams", stack)
        arn = client("dynamodb", stack).describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        read, t0 = 0, time.monotonic()
        while read < min(items, 10_000):
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            read += len(page["Records"])
            iterator = page["NextShardIterator"]
        figures["indexer_stream_read_records_per_s"] = read / (time.monotonic() - t0)

        seed_leases(stack, app)
        run = IndexerRun(dict(os.environ), log_dir / "bench_indexer.run.log").start()
        deadline = time.monotonic() + 1800
        first = None
        while time.monotonic() < deadline and run.running:
            done = run.applied()
            now = time.monotonic()
            if first is None and done > 0:
                first = (now, done, _tree_cpu_s(run.proc.pid))
            if done >= items:
                break
            time.sleep(0.05)
        if first is None or done < items:
            raise SystemExit(f"bench_indexer: only {done:.0f} of {items} docs applied; see {run.log_path}")
        cpu = _tree_cpu_s(run.proc.pid) - first[2]
        figures["indexer_docs_per_s"] = (done - first[1]) / (now - first[0])
        figures["indexer_cpu_ms_per_doc"] = cpu * 1000 / (done - first[1])
    finally:
        if run is not None:
            run.stop()
        _teardown(stack, *lease_tables(app))
    return figures


def bench_bulk(items: int) -> float:
    from pulse_common.opensearch import opensearch_client
    from pulse_indexer.bulk import BulkWriter
    from pulse_indexer.documents import upsert_action
    from pulse_indexer.settings import IndexerSettings

    _fresh_names("bench-bulk")
    stack = _setup()
    settings = IndexerSettings(stack=stack)
    try:
        ops = _items(items, seed=6)
        search = opensearch_client(stack, pool_size=8)
        writer = BulkWriter(
            search,
            max_docs=settings.bulk_max_docs,
            max_bytes=settings.bulk_max_bytes,
            concurrency=settings.bulk_concurrency,
        )
        t0 = time.monotonic()
        indexed = 0
        for start in range(0, len(ops), 1000):
            actions = [
                upsert_action(item, stack.opensearch_index_alias) for _op, item in ops[start : start + 1000]
            ]
            indexed += writer.write(actions).indexed
        elapsed = time.monotonic() - t0
        writer.close()
        return indexed / elapsed
    finally:
        _teardown(stack)


def bench_baseline(items: int) -> float:
    """The reference design: read the stream, one index request per document."""
    import indexer_data

    from pulse_common.aws import client
    from pulse_common.opensearch import opensearch_client
    from pulse_indexer.documents import record_to_action

    _fresh_names("bench-base")
    stack = _setup()
    try:
        indexer_data.write_ops(client("dynamodb", stack), stack.table_name, _items(items, seed=7))
        search = opensearch_client(stack)
        streams = client("dynamodbstreams", stack)
        arn = client("dynamodb", stack).describe_table(TableName=stack.table_name)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        t0 = time.monotonic()
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]
        done = 0
        while done < items:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            iterator = page["NextShardIterator"]
            for record in page["Records"]:
                action = record_to_action(record, stack.opensearch_index_alias)
                search.index(
                    index=action.index,
                    id=action.id,
                    body=action.body,
                    params={"version": action.version, "version_type": "external"},
                )
                done += 1
        return done / (time.monotonic() - t0)
    finally:
        _teardown(stack)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--baseline-items", type=int, default=2_000)
    args = parser.parse_args()
    from pulse_common.logging import configure_logging
    from pulse_devstack.session import running_stack

    configure_logging("bench-indexer", "WARNING")
    from bench_e2e import host_loop_seconds

    print(f"# host speed: a 2M-step Python loop takes {host_loop_seconds():.3f} s (lower is faster)",
          file=sys.stderr, flush=True)
    with running_stack(opensearch=True):  # reuses a running stack; stops only what it started
        figures = bench_stream(args.items)
        figures["indexer_bulk_docs_per_s"] = bench_bulk(args.items)
        figures["indexer_baseline_docs_per_s"] = bench_baseline(args.baseline_items)
        for name in (
            "indexer_docs_per_s",
            "indexer_cpu_ms_per_doc",
            "indexer_bulk_docs_per_s",
            "indexer_stream_read_records_per_s",
            "indexer_baseline_docs_per_s",
        ):
            print(f"bench: {name} {figures[name]:.{3 if 'cpu' in name else 1}f}", flush=True)
        ratio = figures["indexer_docs_per_s"] / figures["indexer_baseline_docs_per_s"]
        print(f"# indexer vs baseline: {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
