"""Indexer settings: env prefix PULSE_INDEXER_, shared stack names nested (env prefix PULSE_)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse_common.settings import StackSettings


class IndexerSettings(BaseSettings):
    """Every knob of `pulse-indexer`; tests shrink the intervals, production keeps the defaults."""

    model_config = SettingsConfigDict(env_prefix="PULSE_INDEXER_", extra="ignore")

    stack: StackSettings = Field(default_factory=StackSettings)

    # --- KCL (the MultiLangDaemon through the DynamoDB Streams Kinesis Adapter) ---
    # Names the lease table and its -CoordinatorState / -WorkerMetricStats companions; default
    # "<PULSE_TABLE_NAME>-indexer". A re-created posts table needs a fresh name: its stream's
    # sequence numbers start again, and old checkpoints would point past them.
    application_name: str | None = None
    # Stable across restarts on one host: a restarted worker takes back its own leases at once.
    # Two workers on one host need two ids (the dev stack's scripts set one per worker).
    worker_id: str = Field(default_factory=socket.gethostname)
    initial_position: Literal["TRIM_HORIZON", "LATEST"] = "TRIM_HORIZON"
    metrics_level: Literal["NONE", "SUMMARY", "DETAILED"] | None = None  # None: NONE local, SUMMARY on AWS
    max_records: int = Field(default=1000, ge=1, le=1000)  # DynamoDB Streams' GetRecords limit
    # The adapter waits this long after a non-empty poll and twice as long after an empty one.
    idle_time_between_reads_ms: int = Field(default=250, ge=200)  # the KCL raises less to 200
    failover_time_ms: int | None = None  # KCL default 10000; local 5000
    shard_sync_interval_ms: int | None = None  # KCL default 60000; local 1000
    lease_assignment_interval_ms: int | None = None  # KCL default 2 x failover; local 1000
    worker_metrics_reporter_freq_ms: int | None = None  # KCL default 30000; local 1000
    parent_shard_poll_interval_ms: int | None = None  # KCL default 10000; local 1000
    shutdown_grace_ms: int = Field(default=20000, ge=1000)
    # KCL 3 assigns leases from a leader holding a 2-minute DynamoDB lock: when the leader dies,
    # its leases wait ~2 min. CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X keeps KCL 2.x lease taking.
    client_version_config: (
        Literal["CLIENT_VERSION_CONFIG_3X", "CLIENT_VERSION_CONFIG_COMPATIBLE_WITH_2X"] | None
    ) = None
    java: str | None = None  # java binary; default $JAVA_HOME/bin/java, then `java` on PATH
    jvm_opts: str = "-Xms64m -Xmx384m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
    kcl_log_level: str = "WARN"  # the daemon's own (logback) level; processors log via log_level
    launcher_dir: Path | None = None  # the built launcher (`pulse-indexer build-launcher`); see launcher.py
    properties_dir: str | None = None  # where `run` writes the generated files; default a temp dir
    metrics_dir: str | None = None  # PROMETHEUS_MULTIPROC_DIR of the processors; default a temp dir

    # --- bulk indexing ---
    bulk_max_docs: int = Field(default=1000, ge=1)
    bulk_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    bulk_concurrency: int = Field(default=2, ge=1)  # parallel bulk requests per batch
    retry_base_s: float = Field(default=0.2, gt=0)
    retry_cap_s: float = Field(default=10.0, gt=0)
    request_timeout_s: float = Field(default=30.0, gt=0)

    # --- index template (applied by `pulse-indexer migrate`) ---
    index_shards: int = Field(default=1, ge=1)
    index_replicas: int = Field(default=0, ge=0)
    # How soon an indexed post is searchable; OpenSearch's default is 1s. At 500 posts/s on the
    # 2-core local stack, 500ms cut the end-to-end p95 by ~0.6 s for ~4 % less indexing throughput.
    refresh_interval: str = "500ms"
    mappings_dir: Path | None = None  # default: <repo>/mappings

    # --- reindex ---
    reindex_segments: int = Field(default=4, ge=1)

    # --- ops ---
    metrics_port: int = Field(default=9103, ge=0)  # 0 = no metrics server
    metrics_host: str = "0.0.0.0"
    log_level: str = "INFO"

    @property
    def app_name(self) -> str:
        return self.application_name or f"{self.stack.table_name}-indexer"

    def local_or(self, value: int | None, local: int, aws: int) -> int:
        if value is not None:
            return value
        return local if self.stack.is_local else aws

    @property
    def resolved_metrics_level(self) -> str:
        return self.metrics_level or ("NONE" if self.stack.is_local else "SUMMARY")
