"""pulse-dlq: list, show and redrive the dead letters of every service (one SQS queue, PULSE_DLQ_NAME).

  pulse-dlq list [--limit N] [--json]     one line per letter: message id, service, reason, origin, size
  pulse-dlq show MESSAGE_ID               the whole letter, with its raw record as text when it is text
  pulse-dlq redrive [--service S] [--reason R] [--limit N] [--dry-run]
                                          send each letter back where its service says, after a fix:
                                          enricher letters to the stream, indexer letters re-read from
                                          the table and re-indexed, producer letters to the stream only
                                          when they are valid envelopes; the rest is kept and shown

Listing does not consume: messages are received with a short visibility timeout and made visible
again. A redrive handles only the letters already queued when it starts and deletes only those it
handled, so it never loops (pulse_common.redrive). Settings: PULSE_AWS_ENDPOINT_URL,
PULSE_AWS_REGION, PULSE_DLQ_NAME, PULSE_STREAM_NAME, PULSE_TABLE_NAME, PULSE_OPENSEARCH_URL,
PULSE_OPENSEARCH_INDEX_ALIAS (and PULSE_OPENSEARCH_AUTH ...). It runs from any Pulse image; the
credentials need sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility on the queue, and per
route kinesis:PutRecord, dynamodb:GetItem, and write access to the OpenSearch alias.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from pulse_common.aws import client
from pulse_common.contracts.dead_letter import SERVICES
from pulse_common.redrive import DeadLetterQueue, Message, Redriver, Selection, redrive
from pulse_common.settings import StackSettings


def _row(message: Message) -> dict[str, object]:
    letter = message.letter
    if letter is None:
        return {"id": message.id, "service": None, "reason": "unreadable", "error": message.problem}
    return {
        "id": message.id,
        "service": letter.service,
        "reason": letter.reason,
        "source": letter.source,
        "shard_id": letter.shard_id,
        "sequence_number": letter.sequence_number,
        "post_id": letter.post_id,
        "raw_bytes": letter.raw_size if letter.raw_size is not None else len(letter.raw),
        "raw_truncated": letter.truncated,
        "at": letter.at,
    }


def cmd_list(queue: DeadLetterQueue, args: argparse.Namespace) -> int:
    messages = queue.receive(args.limit)
    try:
        for message in messages:
            row = _row(message)
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{row['id']}  {row['service'] or '-':<8} {row['reason']:<18} "
                      f"{row.get('shard_id') or row.get('source') or ''}  seq={row.get('sequence_number')}  "
                      f"post={row.get('post_id')}  bytes={row.get('raw_bytes')}  at={row.get('at')}")
    finally:
        queue.release(messages)
    print(f"{len(messages)} message(s)", file=sys.stderr)
    return 0


def cmd_show(queue: DeadLetterQueue, args: argparse.Namespace) -> int:
    messages = queue.receive(None)
    try:
        for message in messages:
            if message.id == args.id:
                row = _row(message)
                if message.letter is not None:
                    row["error"] = message.letter.error
                    try:
                        row["raw_text"] = message.letter.raw.decode("utf-8")[:10_000]
                    except UnicodeDecodeError:
                        row["raw_text"] = None
                print(json.dumps(row, indent=2, ensure_ascii=False))
                return 0
    finally:
        queue.release(messages)
    print(f"pulse-dlq: no message {args.id} in the queue", file=sys.stderr)
    return 1


def cmd_redrive(queue: DeadLetterQueue, args: argparse.Namespace, redriver: Redriver) -> int:
    counts: Counter[str] = Counter()
    select = Selection(limit=args.limit, service=args.service, reason=args.reason, dry_run=args.dry_run)
    for outcome in redrive(queue, redriver, select):
        counts[outcome.action] += 1
        print(f"{outcome.action} {outcome.message_id}: {outcome.detail}")
    summary = " ".join(f"{action}={counts[action]}"
                       for action in ("resent", "reindexed", "deleted", "kept", "skipped"))
    print(summary, file=sys.stderr)
    return 0


def main(argv: list[str] | None = None, *, stack: StackSettings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-dlq", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="list the dead letters (without consuming them)")
    p_list.add_argument("--limit", type=int, default=None)
    p_list.add_argument("--json", action="store_true", help="one JSON object a line")
    p_show = sub.add_parser("show", help="show one dead letter")
    p_show.add_argument("id", help="the message id from `list`")
    p_redrive = sub.add_parser("redrive", help="send dead letters back where their service says")
    p_redrive.add_argument("--limit", type=int, default=None)
    p_redrive.add_argument("--service", choices=SERVICES, default=None, help="only this service's letters")
    p_redrive.add_argument("--reason", default=None, help="only letters with this reason")
    p_redrive.add_argument("--dry-run", action="store_true", help="say what would be done, change nothing")
    args = parser.parse_args(argv)
    stack = stack or StackSettings()
    queue = DeadLetterQueue(client("sqs", stack), stack.dlq_name)
    if args.command == "list":
        return cmd_list(queue, args)
    if args.command == "show":
        return cmd_show(queue, args)
    return cmd_redrive(queue, args, Redriver(stack))


if __name__ == "__main__":
    sys.exit(main())
