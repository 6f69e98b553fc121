"""pulse-dlq: list, show and redrive the enricher's dead-lettered records.

  pulse-dlq list [--limit N] [--json]     one line per message: id, reason, shard, sequence, size
  pulse-dlq show MESSAGE_ID               the full message, with the raw record decoded when it is text
  pulse-dlq redrive [--limit N] [--reason R] [--dry-run]
                                          put the raw records back into the stream (after a fix), then
                                          delete them from the queue; truncated records are kept

Listing does not consume: messages are received with a short visibility timeout and made visible
again at once. Settings: PULSE_AWS_ENDPOINT_URL, PULSE_AWS_REGION, PULSE_DLQ_NAME, PULSE_STREAM_NAME.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from typing import Any

from pulse_common.aws import client
from pulse_common.settings import StackSettings

PEEK_VISIBILITY_S = 30


class DeadLetterStore:
    def __init__(self, stack: StackSettings, sqs: Any = None, kinesis: Any = None) -> None:
        self.stack = stack
        self.sqs = sqs or client("sqs", stack, max_attempts=5)
        self._kinesis = kinesis
        self.url = self.sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]

    @property
    def kinesis(self) -> Any:
        if self._kinesis is None:
            self._kinesis = client("kinesis", self.stack, max_attempts=5)
        return self._kinesis

    def receive(self, limit: int | None) -> list[dict[str, Any]]:
        """Up to `limit` messages (all when None), held invisible until released or deleted."""
        seen: dict[str, dict[str, Any]] = {}
        empty_polls = 0
        while (limit is None or len(seen) < limit) and empty_polls < 2:
            batch = self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10 if limit is None else max(1, min(10, limit - len(seen))),
                VisibilityTimeout=PEEK_VISIBILITY_S,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not batch:
                empty_polls += 1
                continue
            empty_polls = 0
            for message in batch:
                seen.setdefault(message["MessageId"], message)
        return list(seen.values())

    def release(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start : start + 10])
            ]
            if entries:
                self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)

    def delete(self, message: dict[str, Any]) -> None:
        self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])


def body_of(message: dict[str, Any]) -> dict[str, Any]:
    try:
        body = json.loads(message["Body"])
    except (ValueError, KeyError):
        return {"reason": "unreadable", "error": "message body is not JSON"}
    return body if isinstance(body, dict) else {"reason": "unreadable"}


def raw_of(body: dict[str, Any]) -> bytes:
    return base64.b64decode(body.get("raw_b64") or "")


def partition_key_for(raw: bytes) -> str:
    """The post id when the record still names one (ids are the partition key), else a hash."""
    try:
        value = json.loads(raw)
        if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
            return value["id"][:256]
    except ValueError:
        pass
    return "dlq-" + hashlib.sha256(raw).hexdigest()[:32]


def cmd_list(store: DeadLetterStore, args: argparse.Namespace) -> int:
    messages = store.receive(args.limit)
    try:
        for message in messages:
            body = body_of(message)
            row = {
                "id": message["MessageId"],
                "reason": body.get("reason"),
                "shard_id": body.get("shard_id"),
                "sequence_number": body.get("sequence_number"),
                "raw_bytes": body.get("raw_bytes"),
                "at": body.get("at"),
            }
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{row['id']}  {row['reason']:<18} {row['shard_id']}  seq={row['sequence_number']}  "
                      f"bytes={row['raw_bytes']}  at={row['at']}")
    finally:
        store.release(messages)
    print(f"{len(messages)} message(s)", file=sys.stderr)
    return 0


def cmd_show(store: DeadLetterStore, args: argparse.Namespace) -> int:
    messages = store.receive(None)
    try:
        for message in messages:
            if message["MessageId"] == args.id:
                body = body_of(message)
                raw = raw_of(body)
                try:
                    body["raw_text"] = raw.decode("utf-8")[:10_000]
                except UnicodeDecodeError:
                    body["raw_text"] = None
                print(json.dumps({"id": message["MessageId"], **body}, indent=2, ensure_ascii=False))
                return 0
    finally:
        store.release(messages)
    print(f"pulse-dlq: no message {args.id} in {store.stack.dlq_name}", file=sys.stderr)
    return 1


def cmd_redrive(store: DeadLetterStore, args: argparse.Namespace) -> int:
    messages = store.receive(args.limit)
    redriven = skipped = 0
    keep: list[dict[str, Any]] = []
    try:
        for message in messages:
            body = body_of(message)
            if (args.reason and body.get("reason") != args.reason) or body.get("raw_truncated") \
                    or not body.get("raw_b64"):
                if body.get("raw_truncated"):
                    print(f"skip {message['MessageId']}: raw record truncated "
                          f"({body.get('raw_bytes')} B)", file=sys.stderr)
                keep.append(message)
                skipped += 1
                continue
            raw = raw_of(body)
            if args.dry_run:
                print(f"would redrive {message['MessageId']} ({body.get('reason')}, {len(raw)} B)")
                keep.append(message)
                continue
            response = store.kinesis.put_record(
                StreamName=store.stack.stream_name, Data=raw, PartitionKey=partition_key_for(raw)
            )
            store.delete(message)
            redriven += 1
            print(f"redrove {message['MessageId']} -> {response['ShardId']} seq={response['SequenceNumber']}")
    finally:
        store.release(keep)
    print(f"redriven={redriven} skipped={skipped}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list dead-lettered records")
    p_list.add_argument("--limit", type=int, default=None)
    p_list.add_argument("--json", action="store_true", help="one JSON object a line")
    p_list.set_defaults(func=cmd_list)
    p_show = sub.add_parser("show", help="show one dead-lettered record")
    p_show.add_argument("id", help="the message id from `list`")
    p_show.set_defaults(func=cmd_show)
    p_redrive = sub.add_parser("redrive", help="put dead-lettered records back into the stream")
    p_redrive.add_argument("--limit", type=int, default=None)
    p_redrive.add_argument("--reason", default=None, help="only records dead-lettered for this reason")
    p_redrive.add_argument("--dry-run", action="store_true")
    p_redrive.set_defaults(func=cmd_redrive)
    args = parser.parse_args(argv)
    store = DeadLetterStore(StackSettings())
    return args.func(store, args)


if __name__ == "__main__":
    sys.exit(main())
