"""The indexer's clients: OpenSearch (`pulse_common.opensearch`) and its dead-letter queue writer."""

from __future__ import annotations

import logging
from typing import Any

from pulse_common.aws import client as aws_client
from pulse_common.contracts.dead_letter import DEAD_LETTER_RETRY, DeadLetterWriter
from pulse_common.settings import StackSettings
from pulse_indexer import metrics as m

log = logging.getLogger("pulse.indexer")


def dead_letter_writer(
    stack: StackSettings, *, retry_base_s: float = 0.2, retry_cap_s: float = 10.0, sqs: Any = None
) -> DeadLetterWriter:
    """The dead-letter queue PULSE_DLQ_NAME, counted in pulse_indexer_dead_letters_total{reason}."""
    return DeadLetterWriter(
        sqs or aws_client("sqs", stack),
        stack.dlq_name,
        retry=DEAD_LETTER_RETRY.replace(base_s=retry_base_s, cap_s=retry_cap_s),
        on_sent=lambda letter: m.DEAD_LETTERS.labels(letter.reason).inc(),
    )
