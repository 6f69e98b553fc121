"""EnricherSettings: everything the enricher daemon and its per-shard processors read (env prefix
`PULSE_ENRICHER_`), with the shared stack names nested (`PULSE_*`, see pulse_common.settings).

Durations that only matter for how fast the KCL reacts (lease failover, shard sync, lease
assignment) default to the KCL's own values on AWS and to short values on the local stack, where
tests start and kill daemons every few seconds. Every one can be set explicitly.
"""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse_common.settings import StackSettings

WriteMode = Literal["batch", "conditional"]
ClientVersion = Literal["CLIENT_VERSION_CONFIG_3X", "CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X"]


class EnricherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSE_ENRICHER_", extra="ignore")

    stack: StackSettings = Field(default_factory=StackSettings)

    # --- KCL ---------------------------------------------------------------------------------
    # Names the lease table and its -CoordinatorState / -WorkerMetricStats companions.
    application_name: str = "pulse-enricher"
    # Stable across restarts on one host: a restarted daemon takes back its own leases at once
    # instead of waiting for lease expiry and the KCL leader (whose lock lasts 2 minutes).
    worker_id: str = Field(default_factory=socket.gethostname)
    initial_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    metrics_level: Literal["NONE", "SUMMARY", "DETAILED"] | None = None  # None: NONE local, SUMMARY on AWS
    max_records: int = Field(default=1000, ge=1, le=10000)
    idle_time_between_reads_ms: int = Field(default=250, ge=0)
    failover_time_ms: int | None = None  # KCL default 10000; local 5000
    shard_sync_interval_ms: int | None = None  # KCL default 60000; local 1000
    lease_assignment_interval_ms: int | None = None  # KCL default 2 x failover; local 1000
    worker_metrics_reporter_freq_ms: int | None = None  # KCL default 30000; local 1000
    parent_shard_poll_interval_ms: int | None = None  # KCL default 10000; local 1000
    shutdown_grace_ms: int = Field(default=20000, ge=1000)
    # KCL 3 assigns leases from a leader holding a 2-minute DynamoDB lock: when the leader dies,
    # its leases wait ~2 min. CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X keeps KCL 2.x lease taking.
    client_version_config: ClientVersion | None = None
    java: str | None = None  # java binary; default $JAVA_HOME/bin/java, then `java` on PATH
    # The daemon is I/O and JSON glue: the C1 compiler alone (TieredStopAtLevel=1) is plenty, and
    # skips C2's compile threads. Measured with bench_enricher (10k posts): 0.93 -> 0.56 ms of CPU
    # per post (daemon + processors), throughput 778 -> 1,493 posts/s on the 2-core dev box.
    jvm_opts: str = "-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    kcl_log_level: str = "WARN"  # the daemon's own (logback) level; processors log via log_level
    properties_dir: str | None = None  # where `run` writes the generated files; default a temp dir

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
    # "module:callable" building the NLP core from a TrackingConfig; tests may point it elsewhere.
    enricher_factory: str = "pulse_enricher.nlp:Enricher"
    log_level: str = "INFO"

    # --- operations ------------------------------------------------------------------------
    metrics_port: int = 9102
    metrics_host: str = "0.0.0.0"
    metrics_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR for the children; default a temp dir

    def local_or(self, value: int | None, local: int, aws: int) -> int:
        if value is not None:
            return value
        return local if self.stack.is_local else aws

    @property
    def resolved_metrics_level(self) -> str:
        return self.metrics_level or ("NONE" if self.stack.is_local else "SUMMARY")
