"""Producer throughput on the local stack: batched replay vs the reference design's put_record per post.

Prints
  bench: producer_replay_posts_per_s <v>     50,000 posts replayed from a v2 JSONL file through the
                                             producer's own pipeline (reader thread, bounded queue,
                                             put_records batches of up to 500)
  bench: producer_baseline_posts_per_s <v>   the same parsing and envelopes, one put_record call per post
                                             (the original reference design), on a 2,000-post slice, into
                                             a stream pre-filled to the batched run's average fill
and the ratio as a comment line. Uses its own stream (deleted afterwards). Reuses a running local
stack, else starts the AWS emulator (`pulse-stack up --no-opensearch`) and stops it at the end.

Run: .venv/bin/python bench/bench_producer.py [--posts 50000] [--baseline-posts 2000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def _write_posts(path: Path, count: int) -> None:
    from pulse_producer.sample import generate

    with open(path, "wb") as out:
        for made in generate(count, seed=2026):
            out.write(orjson.dumps(made.doc) + b"\n")


def bench_batched(stack, path: Path) -> tuple[int, float]:
    from pulse_common.aws import client
    from pulse_common.contracts.dead_letter import DeadLetterWriter
    from pulse_producer.runner import Runner
    from pulse_producer.settings import ProducerSettings
    from pulse_producer.sink import KinesisSink
    from pulse_producer.sources.replay import ReplaySource

    settings = ProducerSettings()
    sink = KinesisSink(
        client("kinesis", stack),
        stack.stream_name,
        dead_letter=DeadLetterWriter(client("sqs", stack), stack.dlq_name),
        max_records=settings.batch_max_records,
        retry_base_s=settings.retry_base_s,
        retry_cap_s=settings.retry_cap_s,
    )
    runner = Runner(
        ReplaySource([str(path)]), sink, queue_size=settings.queue_size, linger_s=settings.linger_ms / 1000
    )
    started = time.perf_counter()
    summary = runner.run()
    elapsed = time.perf_counter() - started
    if summary.put != summary.received or summary.failed:
        raise SystemExit(f"bench_producer: batched replay lost records: {summary.as_dict()}")
    return summary.put, elapsed


def _prefill(stack, count: int) -> None:
    """Bring the baseline stream to the batched run's average fill (untimed).

    moto finds a shard's next sequence number by listing all its records, so each put costs time
    proportional to what the shard already holds (real Kinesis does not). The batched run fills its
    stream from 0 to N records; measuring the baseline on a stream holding N/2 compares both at the
    same average emulator cost instead of flattering the baseline with an empty stream.
    """
    from pulse_common.aws import client

    kinesis = client("kinesis", stack)
    for start in range(0, count, 500):
        n = min(500, count - start)
        kinesis.put_records(
            StreamName=stack.stream_name,
            Records=[{"Data": b"{}", "PartitionKey": f"fill-{start + i}"} for i in range(n)],
        )


def bench_baseline(stack, path: Path, count: int) -> tuple[int, float]:
    """The reference design: parse a post, put_record it, next post."""
    from pulse_common.aws import client
    from pulse_producer.events import record_bytes
    from pulse_producer.parsers import parse_line

    kinesis = client("kinesis", stack)
    put = 0
    started = time.perf_counter()
    with open(path, "rb") as handle:
        for line in handle:
            for event in parse_line(line):
                kinesis.put_record(
                    StreamName=stack.stream_name, Data=record_bytes(event), PartitionKey=event.id
                )
                put += 1
            if put >= count:
                break
    return put, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--baseline-posts", type=int, default=2_000)
    parser.add_argument(
        "--prefill", type=int, default=None, help="records already in the baseline stream (default posts/2)"
    )
    parser.add_argument(
        "--endpoint", help="an AWS endpoint to use instead of the local stack's (not managed)"
    )
    parser.add_argument(
        "--shards", type=int, default=2, help="shards of each bench stream (the stack uses 2)"
    )
    args = parser.parse_args(argv)

    from pulse_common.logging import configure_logging
    from pulse_devstack.session import running_stack

    configure_logging("bench-producer", "WARNING")
    if args.endpoint:
        os.environ.update({"PULSE_AWS_ENDPOINT_URL": args.endpoint, **_DUMMY_CREDENTIALS})
        return _run(args)
    with running_stack(opensearch=False):  # reuses a running emulator; stops only what it started
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from pulse_common.aws import client
    from pulse_common.settings import StackSettings
    from pulse_devstack.resources import ensure_queue, ensure_stream

    suffix = uuid.uuid4().hex[:8]
    # Each measurement gets its own fresh stream of the stack's shape (2 shards): moto's put path
    # slows down as a shard fills up, so sharing one stream would penalize whichever runs second.
    batched_stack = StackSettings(
        stream_name=f"bench-producer-{suffix}", dlq_name=f"bench-producer-dlq-{suffix}"
    )
    baseline_stack = batched_stack.model_copy(update={"stream_name": f"bench-producer-base-{suffix}"})
    for stack in (batched_stack, baseline_stack):
        ensure_stream(stack, shards=args.shards)
    ensure_queue(batched_stack)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "posts.jsonl"
            print(f"# generating {args.posts} posts", file=sys.stderr, flush=True)
            _write_posts(path, args.posts)
            prefill = args.posts // 2 if args.prefill is None else args.prefill
            print(f"# pre-filling the baseline stream with {prefill} records", file=sys.stderr, flush=True)
            _prefill(baseline_stack, prefill)
            base_put, base_seconds = bench_baseline(baseline_stack, path, args.baseline_posts)
            baseline = base_put / base_seconds
            print(f"# baseline: {base_put} posts in {base_seconds:.2f}s", file=sys.stderr, flush=True)
            put, seconds = bench_batched(batched_stack, path)
            batched = put / seconds
            print(f"# batched: {put} posts in {seconds:.2f}s", file=sys.stderr, flush=True)
        print(f"bench: producer_replay_posts_per_s {batched:.1f}")
        print(f"bench: producer_baseline_posts_per_s {baseline:.1f}")
        print(f"# producer batched/baseline ratio: {batched / baseline:.1f}x")
    finally:
        try:
            kinesis = client("kinesis", batched_stack)
            for stack in (batched_stack, baseline_stack):
                kinesis.delete_stream(StreamName=stack.stream_name, EnforceConsumerDeletion=True)
            sqs = client("sqs", batched_stack)
            sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=batched_stack.dlq_name)["QueueUrl"])
        except Exception as exc:  # noqa: BLE001 - cleanup is best effort
            print(f"# cleanup failed: {exc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
