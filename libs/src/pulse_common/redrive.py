"""Reading and redriving dead letters (what `pulse-dlq` runs), routed by the service that wrote them.

Every rule a redrive needs is a contract, so this lives next to them and needs no service's code:

- an **enricher** letter is a Kinesis record: it goes back to the stream (partition key = its post
  id) when its raw bytes are whole and decode to a valid envelope (`contracts.envelope.decode`); a
  record that is still poison is kept, since the enricher would only dead-letter it again;
- an **indexer** letter is about a post (`post_id`): the item is read again from the table
  (consistent read, `contracts.items.from_item`) and written to OpenSearch as the indexer writes it
  (`contracts.search`, external version; a newer version already indexed wins). A tombstone, or no
  item at all, deletes the post's documents instead. Nothing goes back to a stream;
- a **producer** letter is an event that never reached Kinesis: it is shown, and re-sent to the
  stream only when its raw bytes are a valid envelope.

A redrive never loops: it handles the letters that were in the queue when it started (older than
its start by their SentTimestamp), holds every message it received invisible until it ends, deletes
the letters it handled, and releases the rest (kept, skipped, or written during the run). A letter it
cannot handle stays in the queue and is never written again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pulse_common.contracts import search
from pulse_common.contracts.dead_letter import DeadLetter
from pulse_common.contracts.envelope import Poison, decode, partition_key
from pulse_common.contracts.items import BadRecord, Tombstone, from_item
from pulse_common.retry import RetryPolicy
from pulse_common.settings import StackSettings

log = logging.getLogger("pulse.dlq")

# Operator calls: a few attempts, then the error is reported (the letter stays in the queue).
CALL_RETRY = RetryPolicy(base_s=0.2, cap_s=5.0, max_attempts=5)
PEEK_VISIBILITY_S = 30  # list / show: messages come back into sight at once anyway
REDRIVE_VISIBILITY_S = 900  # redrive: held while the run lasts, then deleted or released

Action = Literal["resent", "reindexed", "deleted", "kept", "skipped"]


@dataclass(frozen=True)
class Message:
    """One SQS message of the dead-letter queue: its letter, or why it is not one."""

    id: str
    receipt: str
    sent_ms: int
    letter: DeadLetter | None
    problem: str = ""


@dataclass(frozen=True)
class Outcome:
    message_id: str
    action: Action
    detail: str

    @property
    def handled(self) -> bool:
        """Handled letters leave the queue; kept and skipped ones stay."""
        return self.action in ("resent", "reindexed", "deleted")


class DeadLetterQueue:
    """The queue PULSE_DLQ_NAME, read without consuming: received messages are held, then released."""

    def __init__(self, sqs: Any, queue_name: str, *, retry: RetryPolicy = CALL_RETRY) -> None:
        self.sqs = sqs
        self.retry = retry
        self.url = retry.call(lambda: sqs.get_queue_url(QueueName=queue_name))["QueueUrl"]

    def receive(self, limit: int | None, *, visibility_s: int = PEEK_VISIBILITY_S) -> list[Message]:
        """Up to `limit` messages (all when None), each held invisible for `visibility_s`."""
        seen: dict[str, Message] = {}
        empty_polls = 0
        while (limit is None or len(seen) < limit) and empty_polls < 2:
            batch = self.retry.call(lambda: self.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10 if limit is None else max(1, min(10, limit - len(seen))),
                VisibilityTimeout=visibility_s,
                WaitTimeSeconds=0,
                AttributeNames=["SentTimestamp"],
            )).get("Messages", [])
            empty_polls = 0 if batch else empty_polls + 1
            for raw in batch:
                seen.setdefault(raw["MessageId"], _message(raw))
        return list(seen.values())

    def release(self, messages: list[Message]) -> None:
        for start in range(0, len(messages), 10):
            entries = [{"Id": str(i), "ReceiptHandle": m.receipt, "VisibilityTimeout": 0}
                       for i, m in enumerate(messages[start:start + 10])]
            self.retry.call(
                lambda e=entries: self.sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=e)
            )

    def delete(self, message: Message) -> None:
        self.retry.call(lambda: self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message.receipt))


def _message(raw: dict[str, Any]) -> Message:
    sent_ms = int((raw.get("Attributes") or {}).get("SentTimestamp") or 0)
    try:
        letter = DeadLetter.from_body(raw["Body"])
    except (ValueError, KeyError, TypeError) as exc:
        return Message(raw["MessageId"], raw["ReceiptHandle"], sent_ms, None, f"not a dead letter: {exc}")
    return Message(raw["MessageId"], raw["ReceiptHandle"], sent_ms, letter)


class Redriver:
    """Sends each letter back where its service says; clients are built lazily (an indexer letter
    needs DynamoDB and OpenSearch, the others Kinesis)."""

    def __init__(
        self,
        stack: StackSettings,
        *,
        kinesis: Any = None,
        dynamodb: Any = None,
        search_client: Any = None,
        retry: RetryPolicy = CALL_RETRY,
    ) -> None:
        self.stack = stack
        self.retry = retry
        self._kinesis, self._dynamodb, self._search = kinesis, dynamodb, search_client

    def handle(self, message: Message) -> Outcome:
        letter = message.letter
        if letter is None:
            return Outcome(message.id, "kept", message.problem)
        route: dict[str, Callable[[DeadLetter], tuple[Action, str]]] = {
            "enricher": self._to_stream,
            "producer": self._to_stream,
            "indexer": self._reindex,
        }
        try:
            action, detail = route[letter.service](letter)
        except Exception as exc:  # noqa: BLE001 - reported; the letter stays in the queue
            action, detail = "kept", f"failed: {type(exc).__name__}: {exc}"[:500]
        return Outcome(message.id, action, detail)

    # -- enricher and producer letters: back to the stream, if they are envelopes -----------------
    def _to_stream(self, letter: DeadLetter) -> tuple[Action, str]:
        if letter.truncated:
            return "kept", f"raw record truncated ({letter.raw_size} B): inspect it, it cannot be re-sent"
        envelope = decode(letter.raw)
        if isinstance(envelope, Poison):
            return "kept", f"not a valid envelope ({envelope.reason}): {envelope.error}"[:500]
        answer = self.retry.call(lambda: self.kinesis.put_record(
            StreamName=self.stack.stream_name, Data=letter.raw, PartitionKey=partition_key(envelope.id)))
        return "resent", f"{envelope.id} -> {answer['ShardId']} seq={answer['SequenceNumber']}"

    # -- indexer letters: re-read the item, write what it means to the index ---------------------
    def _reindex(self, letter: DeadLetter) -> tuple[Action, str]:
        if not letter.post_id:
            return "kept", "no post id: the stream record could not even be decoded"
        answer = self.retry.call(lambda: self.dynamodb.get_item(
            TableName=self.stack.table_name, Key={"id": {"S": letter.post_id}}, ConsistentRead=True))
        item = answer.get("Item")
        if not item:
            deleted = self._delete_documents(letter.post_id, None)
            return "deleted", f"{letter.post_id}: not in the table; {deleted} document(s) deleted"
        try:
            stored = from_item(item)
        except BadRecord as exc:
            return "kept", f"the stored item is broken ({exc.reason}): {exc}"
        if isinstance(stored, Tombstone):
            deleted = self._delete_documents(stored.id, stored.version)
            return "deleted", f"{stored.id} deleted at version {stored.version}: {deleted} doc(s) removed"
        from opensearchpy.exceptions import ConflictError

        index = search.index_of(self.stack.opensearch_index_alias, stored.created_at, stored.id)
        try:
            self.retry.call(lambda: self.search.index(
                index=index, id=stored.id, body=search.document(stored),
                params={"version": stored.version, "version_type": "external"}))
        except ConflictError:
            return "reindexed", f"{stored.id}: version {stored.version} or newer already indexed"
        return "reindexed", f"{stored.id}: version {stored.version} indexed into {index}"

    def _delete_documents(self, post_id: str, version: int | None) -> int:
        """Delete the post's documents; with a version, only those at that version or older."""
        from opensearchpy.exceptions import ConflictError, NotFoundError

        found = self.retry.call(lambda: self.search.search(
            index=self.stack.opensearch_index_alias,
            body={"query": {"ids": {"values": [post_id]}}, "version": True},
            params={"ignore_unavailable": "true", "allow_no_indices": "true"}))
        deleted = 0
        for hit in found["hits"]["hits"]:
            at = hit["_version"] if version is None else version
            try:
                self.search.delete(index=hit["_index"], id=post_id,
                                   params={"version": at, "version_type": "external_gte"})
                deleted += 1
            except (ConflictError, NotFoundError):
                pass  # a newer version was indexed meanwhile, or it is already gone
        return deleted

    # -- clients ---------------------------------------------------------------------------------
    @property
    def kinesis(self) -> Any:
        if self._kinesis is None:
            from pulse_common.aws import client

            self._kinesis = client("kinesis", self.stack)
        return self._kinesis

    @property
    def dynamodb(self) -> Any:
        if self._dynamodb is None:
            from pulse_common.aws import client

            self._dynamodb = client("dynamodb", self.stack)
        return self._dynamodb

    @property
    def search(self) -> Any:
        if self._search is None:
            from pulse_common.opensearch import opensearch_client

            self._search = opensearch_client(self.stack, timeout_s=30)
        return self._search


@dataclass(frozen=True)
class Selection:
    """Which letters a redrive handles: at most `limit`, of one service and reason when given;
    `dry_run` says what would be done and changes nothing."""

    limit: int | None = None
    service: str | None = None
    reason: str | None = None
    dry_run: bool = False


def redrive(
    queue: DeadLetterQueue, redriver: Redriver, select: Selection = Selection(), *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Iterator[Outcome]:
    """Handle the letters that were in the queue when the run started (see the module docstring)."""
    limit, service, reason, dry_run = select.limit, select.service, select.reason, select.dry_run
    started_ms = int(now().timestamp() * 1000)
    messages = queue.receive(limit, visibility_s=REDRIVE_VISIBILITY_S)
    release: list[Message] = []
    try:
        for message in messages:
            letter = message.letter
            if message.sent_ms > started_ms:
                release.append(message)  # written during this run: the next run's business
                continue
            selected = letter is None or (
                (not service or letter.service == service) and (not reason or letter.reason == reason)
            )
            if not selected and letter is not None:
                release.append(message)
                yield Outcome(message.id, "skipped", f"{letter.service}/{letter.reason} not selected")
                continue
            if dry_run:
                release.append(message)
                yield Outcome(message.id, "skipped", f"dry run: {_describe(message)}")
                continue
            outcome = redriver.handle(message)
            if outcome.handled:
                queue.delete(message)
            else:
                release.append(message)
            yield outcome
    finally:
        queue.release(release)


def _describe(message: Message) -> str:
    letter = message.letter
    if letter is None:
        return message.problem
    return f"{letter.service}/{letter.reason} {letter.post_id or ''} ({len(letter.raw)} B)".replace("  ", " ")

