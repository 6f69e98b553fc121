"""`pulse-indexer reindex`: parallel scan of the posts table into OpenSearch.

For recovery (an index lost or restored from an old snapshot) and for mapping changes (derived
fields recomputed). Each of `segments` threads scans one segment of the table and bulk-writes its
page of items with `version_type=external_gte` by default: the same version is rewritten (so a new
mapping or derivation applies), an older one never overwrites a newer one the stream already wrote.
Items that cannot be indexed go to the dead-letter queue, as in `run`. Tombstones (the enricher's
record of a delete, `deleted` = true) are skipped and counted: they have no document.
"""

from __future__ import annotations

import logging
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pulse_common.aws import client as aws_client
from pulse_common.contracts.dead_letter import DeadLetterWriter
from pulse_common.contracts.items import BadRecord, is_tombstone
from pulse_common.opensearch import opensearch_client
from pulse_indexer.bulk import BulkOutcome, BulkWriter, record_outcome
from pulse_indexer.clients import dead_letter_writer
from pulse_indexer.documents import dead_letter, record_json, upsert_action
from pulse_indexer.settings import IndexerSettings

log = logging.getLogger("pulse.indexer.reindex")


@dataclass
class ReindexResult:
    scanned: int = 0  # every item read, tombstones included
    tombstones: int = 0  # skipped: deleted posts
    indexed: int = 0
    conflicts: int = 0
    dead_lettered: int = 0


def reindex(
    settings: IndexerSettings,
    *,
    segments: int | None = None,
    version_type: str = "external_gte",
    progress: bool = True,
    dynamodb: Any = None,
    search: Any = None,
    dlq: DeadLetterWriter | None = None,
    page_size: int = 500,
) -> ReindexResult:
    stack = settings.stack
    segments = segments or settings.reindex_segments
    dynamodb = dynamodb or aws_client("dynamodb", stack, max_pool_connections=segments + 2)
    search = search or opensearch_client(stack, timeout_s=settings.request_timeout_s, pool_size=segments * 2)
    dlq = dlq or dead_letter_writer(
        stack, retry_base_s=settings.retry_base_s, retry_cap_s=settings.retry_cap_s
    )
    writer = BulkWriter(
        search,
        max_docs=settings.bulk_max_docs,
        max_bytes=settings.bulk_max_bytes,
        concurrency=1,
        retry_base_s=settings.retry_base_s,
        retry_cap_s=settings.retry_cap_s,
        timeout_s=settings.request_timeout_s,
    )
    alias = stack.opensearch_index_alias
    source = f"reindex:{stack.table_name}"
    total = int(dynamodb.describe_table(TableName=stack.table_name)["Table"].get("ItemCount", 0)) or None
    result = ReindexResult()
    lock = threading.Lock()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="doc", desc="reindex", file=sys.stderr, dynamic_ncols=True)

    def scan_segment(segment: int) -> None:
        kwargs: dict[str, Any] = {
            "TableName": stack.table_name,
            "Segment": segment,
            "TotalSegments": segments,
            "Limit": page_size,
        }
        while True:
            page = dynamodb.scan(**kwargs)
            items = page.get("Items", [])
            actions, dead = [], []
            tombstones = 0
            for item in items:
                if is_tombstone(item):
                    tombstones += 1
                    continue
                try:
                    action = upsert_action(item, alias, version_type=version_type)
                    action.meta["record"] = item
                    actions.append(action)
                except BadRecord as exc:
                    dead.append(
                        dead_letter(reason=exc.reason, error=str(exc), source=source, raw=record_json(item),
                                    post_id=exc.post_id)
                    )
            outcome: BulkOutcome = writer.write(actions)
            record_outcome(outcome)
            for failure in outcome.failed:
                dead.append(
                    dead_letter(
                        reason=failure.reason,
                        error=failure.error,
                        source=source,
                        raw=record_json(failure.action.meta.get("record", {})),
                        post_id=failure.action.id,
                    )
                )
            if dead:
                dlq.send(dead)
            with lock:
                result.scanned += len(items)
                result.tombstones += tombstones
                result.indexed += outcome.indexed
                result.conflicts += outcome.conflicts
                result.dead_lettered += len(dead)
                if bar is not None:
                    bar.update(len(items))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    try:
        with ThreadPoolExecutor(max_workers=segments, thread_name_prefix="scan") as pool:
            for future in [pool.submit(scan_segment, s) for s in range(segments)]:
                future.result()
    finally:
        if bar is not None:
            bar.close()
        writer.close()
    log.info("reindex done", extra=result.__dict__)
    return result
