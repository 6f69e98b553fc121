"""Producer settings: env prefix `PULSE_PRODUCER_`, the shared stack settings nested (env prefix `PULSE_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse_common.settings import SecretToken, StackSettings


class ProducerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSE_PRODUCER_", extra="ignore", hide_input_in_errors=True)

    stack: StackSettings = Field(default_factory=StackSettings)

    # --- service ---
    metrics_port: int = Field(default=9101, ge=0, le=65535)  # 0 = no metrics server
    metrics_host: str = "0.0.0.0"
    log_level: str = "INFO"
    queue_size: int = Field(default=10_000, ge=1)  # bounded queue between the reader and the sink

    # --- Kinesis sink ---
    batch_max_records: int = Field(default=500, ge=1, le=500)
    batch_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=5 * 1024 * 1024)
    linger_ms: int = Field(default=100, ge=0)
    retry_base_s: float = Field(default=0.02, gt=0)
    # Kinesis shard limits are per second: waiting longer than ~1 s between resends buys nothing.
    retry_cap_s: float = Field(default=1.0, gt=0)
    # Entries failing with a code other than throttling/InternalFailure: attempts before dead-lettering.
    max_entry_attempts: int = Field(default=10, ge=1)

    # --- sources ---
    rate: float = Field(default=0.0, ge=0)  # posts/s for replay and synthetic; 0 = as fast as possible
    loop: bool = False  # replay: start over at the end
    count: int | None = Field(default=None, ge=0)  # synthetic: stop after this many posts
    seed: int = 12
    x_bearer_token: SecretToken = None  # stripped and checked: a pasted newline must not reach a header
    x_api_base_url: str = "https://api.x.com"
    x_stall_timeout_s: float = Field(default=20.0, gt=0)  # X: reconnect after 20 s without data
    x_exclude_retweets: bool | None = None  # None: as the tracking config says
    x_sync_rules: bool = True
    x_search_checkpoint_file: str = ".local/data/producer/x-search.checkpoint"
    jetstream_url: str = "wss://jetstream2.us-east.bsky.network/subscribe"
    jetstream_cursor_file: str = ".local/data/producer/jetstream.cursor"
    jetstream_rewind_s: float = Field(default=5.0, ge=0)  # resume this far before the saved cursor
    jetstream_stall_timeout_s: float = Field(default=30.0, gt=0)
    jetstream_forward_unknown_deletes: bool = False
