"""EnricherSettings: everything the enricher daemon and its per-shard processors read (env prefix
`PULSE_ENRICHER_`), with the shared stack names nested (`PULSE_*`, see pulse_common.settings) and
the KCL consumer's knobs from `pulse_common.kcl.KclConsumerSettings`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from pulse_common.kcl import KclConsumerSettings

WriteMode = Literal["batch", "conditional"]


class EnricherSettings(KclConsumerSettings):
    """The KCL's own knobs (worker id, intervals, JVM, ...) are those of `KclConsumerSettings`."""

    model_config = SettingsConfigDict(env_prefix="PULSE_ENRICHER_", extra="ignore")

    # --- KCL ---------------------------------------------------------------------------------
    # Names the lease table and its -CoordinatorState / -WorkerMetricStats companions.
    application_name: str = "pulse-enricher"

    # --- processing ------------------------------------------------------------------------
    retention_days: float = Field(default=30.0, gt=0)  # TTL: expires_at = enriched_at + retention
    # A delete leaves a tombstone (id, version, deleted=true) that expires after this long
    # (PULSE_ENRICHER_TOMBSTONE_TTL_HOURS). While it exists, no upsert older than the delete can
    # re-create the post; once the TTL sweeper removes it, a late older upsert would. So it must
    # outlive every way an old record can still arrive: the Kinesis retention (24 h by default, up
    # to 365 days) and `pulse-dlq redrive` of dead letters (SQS keeps them up to 14 days). The
    # default, 15 days, covers both defaults; raise it with a longer stream retention.
    tombstone_ttl_hours: float = Field(default=360.0, gt=0)
    write_mode: WriteMode = "batch"
    write_concurrency: int = Field(default=8, ge=1, le=64)  # threads for conditional writes
    retry_base_s: float = Field(default=0.05, gt=0)
    retry_cap_s: float = Field(default=5.0, gt=0)
    detect_duplicates: bool = True  # flag copy-paste texts (per-process LRU of fingerprints)
    log_level: str = "INFO"

    # --- operations ------------------------------------------------------------------------
    metrics_port: int = 9102
    metrics_host: str = "0.0.0.0"

