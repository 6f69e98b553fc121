"""Bulk writes to OpenSearch: chunked by count and bytes, sent in parallel, only failures resent.

Semantics follow opensearch-py's `helpers.streaming_bulk`: a whole request that fails with a
connection error, 429 or 5xx is retried with capped exponential backoff (full jitter), for as long as
it takes (an unreachable cluster blocks the shard; nothing is skipped); inside a response, items with
429/5xx are resent alone; 409 (the index holds that or a newer version) is success; 404 on a delete
is success; any other per-item error (mapping conflict, ...) is returned as failed for the dead-letter
queue and never blocks the rest.

Actions in one call must have distinct ids (the consumer keeps the last action per id of a batch),
so chunks are independent and can be sent concurrently.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulse_common.retry import RetryPolicy
from pulse_indexer import metrics as m
from pulse_indexer.documents import Action, parse_time

log = logging.getLogger("pulse.indexer.bulk")

MAPPING_ERRORS = frozenset(
    {
        "mapper_parsing_exception",
        "document_parsing_exception",
        "illegal_argument_exception",
        "strict_dynamic_mapping_exception",
        "mapper_exception",
        "json_parse_exception",
        "x_content_parse_exception",
    }
)


class Aborted(RuntimeError):
    """The caller asked to stop (shutdown or lease lost) while a request was still being retried."""


@dataclass
class Failure:
    action: Action
    reason: str  # bounded: mapping_conflict | rejected
    error: str


@dataclass
class BulkOutcome:
    indexed: int = 0
    deleted: int = 0
    conflicts: int = 0
    failed: list[Failure] = field(default_factory=list)
    requests: int = 0
    retries: int = 0

    def merge(self, other: BulkOutcome) -> None:
        self.indexed += other.indexed
        self.deleted += other.deleted
        self.conflicts += other.conflicts
        self.failed.extend(other.failed)
        self.requests += other.requests
        self.retries += other.retries


def chunks(actions: Sequence[Action], max_docs: int, max_bytes: int) -> Iterator[list[Action]]:
    """Split actions into requests of at most max_docs actions and (about) max_bytes bytes."""
    chunk: list[Action] = []
    size = 0
    for action in actions:
        action_size = len(action.ndjson())
        if chunk and (len(chunk) >= max_docs or size + action_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(action)
        size += action_size
    if chunk:
        yield chunk


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def is_retryable_transport_error(exc: BaseException) -> bool:
    """Connection trouble, timeouts, 429 and 5xx: retry. Other HTTP errors: the request is wrong."""
    from opensearchpy.exceptions import ConnectionError as OSConnectionError
    from opensearchpy.exceptions import TransportError

    if isinstance(exc, OSConnectionError):  # includes ConnectionTimeout and SSL errors
        return True
    if isinstance(exc, TransportError):
        status = _status_of(exc)
        return status is None or status == 429 or status >= 500
    return isinstance(exc, OSError | TimeoutError)


def _error_text(error: Any) -> tuple[str, str]:
    if isinstance(error, dict):
        etype = str(error.get("type", "unknown"))
        reason = str(error.get("reason", ""))
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
        return etype, f"{etype}: {reason}"
    return "unknown", str(error)


class BulkWriter:
    """Writes actions to OpenSearch until every one is applied, conflicted or failed."""

    def __init__(
        self,
        client: Any,
        *,
        max_docs: int = 1000,
        max_bytes: int = 5 * 1024 * 1024,
        concurrency: int = 2,
        retry_base_s: float = 0.2,
        retry_cap_s: float = 10.0,
        timeout_s: float = 30.0,
        refresh: str | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self.concurrency = concurrency
        self.retry = RetryPolicy(
            retry_base_s, retry_cap_s, max_attempts=None, retryable=is_retryable_transport_error
        )
        self.timeout_s = timeout_s
        self.refresh = refresh
        self._sleep = sleep
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bulk")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def write(
        self, actions: Sequence[Action], *, keep_going: Callable[[], bool] | None = None
    ) -> BulkOutcome:
        """Apply actions; return counts and the per-document failures (for the dead-letter queue)."""
        try:
            return self._write(actions, keep_going)
        finally:
            m.FRESHNESS_CREATED_BATCH.flush()
            m.FRESHNESS_INGESTED_BATCH.flush()

    def _write(self, actions: Sequence[Action], keep_going: Callable[[], bool] | None) -> BulkOutcome:
        parts = list(chunks(actions, self.max_docs, self.max_bytes))
        outcome = BulkOutcome()
        if not parts:
            return outcome
        if len(parts) == 1 or self.concurrency == 1:
            for part in parts:
                outcome.merge(self._write_chunk(part, keep_going))
            return outcome
        futures = [self._pool.submit(self._write_chunk, part, keep_going) for part in parts]
        errors: list[BaseException] = []
        for future in futures:
            try:
                outcome.merge(future.result())
            except BaseException as exc:  # noqa: BLE001 - re-raised below after all finished
                errors.append(exc)
        if errors:
            raise errors[0]
        return outcome

    def _wait(self, delay: float, keep_going: Callable[[], bool] | None, stop: threading.Event) -> None:
        if self._sleep is not None:
            self._sleep(delay)
        else:
            deadline = time.monotonic() + delay
            while (remaining := deadline - time.monotonic()) > 0:
                if keep_going is not None and not keep_going():
                    break
                stop.wait(min(remaining, 0.25))
        if keep_going is not None and not keep_going():
            raise Aborted("stopped while retrying a bulk request")

    def _send(self, body: bytes) -> dict[str, Any]:
        params: dict[str, Any] = {"request_timeout": self.timeout_s}
        if self.refresh:
            params["refresh"] = self.refresh
        return self.client.bulk(body=body, params=params)

    def _write_chunk(self, chunk: list[Action], keep_going: Callable[[], bool] | None) -> BulkOutcome:
        outcome = BulkOutcome()
        delays = self.retry.delays()
        stop = threading.Event()
        pending = chunk
        while pending:
            if keep_going is not None and not keep_going():
                raise Aborted("stopped before a bulk request")
            body = b"".join(action.ndjson() for action in pending)
            started = time.perf_counter()
            try:
                response = self._send(body)
            except Exception as exc:  # noqa: BLE001 - classified just below
                if not self.retry.retryable(exc):
                    if len(pending) > 1 and _status_of(exc) == 413:
                        half = len(pending) // 2
                        outcome.merge(self._write_chunk(pending[:half], keep_going))
                        outcome.merge(self._write_chunk(pending[half:], keep_going))
                        return outcome
                    for action in pending:
                        outcome.failed.append(Failure(action, "rejected", f"{type(exc).__name__}: {exc}"))
                    return outcome
                cause = "429" if _status_of(exc) == 429 else "transport"
                m.BULK_RETRIES.labels(cause).inc()
                outcome.retries += 1
                delay = next(delays)
                log.warning(
                    "bulk request failed; retrying",
                    extra={
                        "error": f"{type(exc).__name__}: {exc}"[:500],
                        "docs": len(pending),
                        "delay_s": round(delay, 2),
                    },
                )
                self._wait(delay, keep_going, stop)
                continue
            m.BULK_SECONDS.observe(time.perf_counter() - started)
            m.BULK_DOCS.observe(len(pending))
            m.BULK_BYTES.observe(len(body))
            outcome.requests += 1
            pending = self._classify(pending, response, outcome)
            if pending:
                m.BULK_RETRIES.labels("item").inc()
                outcome.retries += 1
                self._wait(next(delays), keep_going, stop)
        return outcome

    def _classify(self, sent: list[Action], response: dict[str, Any], outcome: BulkOutcome) -> list[Action]:
        items = response.get("items") or []
        if len(items) != len(sent):
            raise RuntimeError(f"bulk response has {len(items)} items for {len(sent)} actions")
        retry: list[Action] = []
        now = datetime.now(UTC)
        for action, item in zip(sent, items, strict=True):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if 200 <= status < 300:
                if action.op == "delete":
                    outcome.deleted += 1
                else:
                    outcome.indexed += 1
                    _observe_freshness(action, now)
            elif status == 404 and action.op == "delete":
                outcome.deleted += 1
            elif status == 409:
                outcome.conflicts += 1
            elif status == 429 or status >= 500:
                retry.append(action)
            else:
                etype, text = _error_text(result.get("error"))
                reason = "mapping_conflict" if etype in MAPPING_ERRORS else "rejected"
                outcome.failed.append(Failure(action, reason, f"status {status}: {text}"))
        return retry


def _observe_freshness(action: Action, now: datetime) -> None:
    created = parse_time(action.created_at)
    if created is not None:
        m.FRESHNESS_CREATED_BATCH.observe(max(0.0, (now - created).total_seconds()))
    ingested = parse_time(action.ingested_at)
    if ingested is not None:
        m.FRESHNESS_INGESTED_BATCH.observe(max(0.0, (now - ingested).total_seconds()))


def record_outcome(outcome: BulkOutcome) -> None:
    """Count an outcome in the service metrics (failures are counted when dead-lettered)."""
    m.DOCS_INDEXED.inc(outcome.indexed)
    m.DOCS_DELETED.inc(outcome.deleted)
    m.DOCS_CONFLICTS.inc(outcome.conflicts)
