"""Settings of operations, read from `CITYHUB_OPS_*` (every field described).

Kept beside the package rather than in cityhub.settings so it stays self-contained.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityhub.errors import ConfigError


class OpsSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CITYHUB_OPS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    dispatch_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often due probes are looked for; each due probe then runs in the "
        "scheduler's worker pool, bounded by its own timeout.",
    )
    dispatch_batch: int = Field(
        default=200, ge=1, le=10_000, description="Most probes started per dispatch round."
    )
    failure_threshold: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Consecutive failures of a probe that open an incident, unless the "
        "probe sets its own.",
    )
    autoclose_minutes: int = Field(
        default=24 * 60,
        ge=0,
        description="A resolved incident nobody reopened is closed after this many minutes; "
        "0 leaves closing to people.",
    )
    result_retention_days: int = Field(
        default=90,
        ge=1,
        description="Probe results are kept this many days; daily availability counts and "
        "outages are kept for good.",
    )
    self_monitor: bool = Field(
        default=True,
        description="Register the platform itself as a monitored system at start, with probes "
        "of its database, event bus, MQTT broker, ingester lag, scheduler and disk.",
    )
    self_monitor_seconds: int = Field(
        default=60, ge=5, le=3600, description="Interval of the platform's self-probes."
    )
    disk_min_free_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="The data directory's disk fails its probe below this share of free space "
        "(and is degraded below twice that).",
    )
    ingester_max_lag_seconds: int = Field(
        default=300,
        ge=1,
        description="The sensing ingester is lagging when active devices exist but nothing "
        "was received from any of them for this long.",
    )
    base_url: str = Field(
        default="",
        description="Base URL that probe targets starting with / are resolved against (the "
        "platform's own endpoints, e.g. the demo's); empty: http://CITYHUB_HOST:CITYHUB_PORT.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics answers only `Authorization: Bearer <token>` (the "
        "Prometheus `authorization` scrape option); empty: /metrics is open.",
    )
    metrics_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Counts read from the database for /metrics are reused this long, so "
        "frequent scrapes cost one set of queries.",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL, e.g. http://127.0.0.1:8000")
        return value.rstrip("/")


def load_ops_settings(**overrides: Any) -> OpsSettings:
    try:
        return OpsSettings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting CITYHUB_OPS_{name.upper()}: {first['msg']}") from None
