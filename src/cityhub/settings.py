"""Settings read from `CITYHUB_*` environment variables and an optional `.env` file."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cityhub.errors import ConfigError

DEFAULT_SECRET = "cityhub-demo-secret-change-me"


class Settings(BaseSettings):
    """Every knob of a cityhub process. `cityhub settings` prints them all."""

    model_config = SettingsConfigDict(
        env_prefix="CITYHUB_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for the embedded database, uploads and exports.",
    )
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the platform database; empty means a SQLite file "
        "`cityhub.db` in the data directory. PostgreSQL: postgresql+psycopg://host/db.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the web server listens on.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET),
        description="Secret for signing session cookies and CSRF tokens. The default is "
        "refused outside demo mode.",
    )
    demo_mode: bool = Field(
        default=False, description="Demo mode: allows the default secret and demo credentials."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Lowest level of log records written (JSON, to stderr)."
    )
    city_code: str = Field(
        default="371300",
        pattern=r"^\d{6}$",
        description="GB/T 2260 code of the city this platform serves (default Linyi 371300).",
    )
    regions_dir: Path | None = Field(
        default=None,
        description="Directory of GeoJSON boundary files (one per region, named by code) for "
        "another city; empty uses the bundled Linyi boundaries.",
    )
    session_hours: int = Field(
        default=12, ge=1, le=720, description="Lifetime of a web login session, in hours."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins per account or address before throttling."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long logins stay throttled after too many failures."
    )
    default_language: Literal["zh-CN", "en"] = Field(
        default="zh-CN", description="Language of pages and messages when the user chose none."
    )

    # -- gateway: sharing approvals, application keys, limits, metering --------------
    approval_working_days: int = Field(
        default=10,
        ge=1,
        le=120,
        description="Working days (Mon-Fri, minus CITYHUB_HOLIDAYS) a provider has to decide "
        "a conditional sharing request before it is overdue.",
    )
    holidays: Annotated[list[date], NoDecode] = Field(
        default_factory=list,
        description="Public holidays not counted as working days, comma-separated ISO dates "
        "(2026-10-01,2026-10-02).",
    )
    makeup_workdays: Annotated[list[date], NoDecode] = Field(
        default_factory=list,
        description="Weekend days that are working days (调休), comma-separated ISO dates.",
    )
    local_timezone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone of the city: where days start for working days and "
        "daily quotas.",
    )
    key_rotation_grace_hours: int = Field(
        default=24,
        ge=0,
        le=720,
        description="Hours an application's old API key keeps working after a rotation.",
    )
    app_rate_limit: int = Field(
        default=20, ge=1, description="Default requests per second of a new application."
    )
    app_daily_calls: int = Field(
        default=100_000, ge=1, description="Default daily call quota of a new application."
    )
    app_daily_rows: int = Field(
        default=10_000_000, ge=1, description="Default daily quota of rows returned."
    )
    audit_flush_seconds: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="How often the audit rows of read calls (GET) are written in a batch; 0 "
        "writes each at once. Changes are always audited at once.",
    )
    meter_flush_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="How often metered API calls are written in a batch; 0 writes each call "
        "at once. Pending records are written on a clean shutdown.",
    )

    @field_validator("ops_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("use an http:// or https:// URL, e.g. http://127.0.0.1:8000")
        return value.rstrip("/")

    @field_validator("local_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value

    @field_validator("holidays", "makeup_workdays", mode="before")
    @classmethod
    def _date_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    # -- sensing: MQTT and HTTP telemetry, time series, alarms -------------------------
    mqtt_url: str = Field(
        default="",
        description="MQTT broker of the sensing layer, e.g. mqtt://127.0.0.1:1883 (mqtts:// for "
        "TLS, mqtt://user:password@host:port with credentials); empty runs no MQTT ingester.",
    )
    mqtt_client_id: str = Field(
        default="cityhub-ingester",
        min_length=1,
        max_length=64,
        description="MQTT client id of this process's ingester: its persistent session keeps "
        "messages while it is away, so every ingester process needs its own id.",
    )
    sensing_max_past_hours: int = Field(
        default=72,
        ge=1,
        le=24 * 366,
        description="Telemetry older than this many hours is refused as stale (replays).",
    )
    sensing_max_future_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="Telemetry timestamped more than this many seconds ahead is refused.",
    )
    sensing_max_batch_points: int = Field(
        default=100_000,
        ge=1,
        description="Most readings accepted in one HTTP request or MQTT message.",
    )
    sensing_maintenance_seconds: float = Field(
        default=15.0,
        ge=0,
        description="Interval of the sensing upkeep in the server (rollups, online status, "
        "no-data alarms, webhook retries, retention); 0 leaves it to `cityhub sensing ingest`.",
    )
    sensing_simulate: bool = Field(
        default=True,
        description="In demo mode, run the demo city's simulated devices while serving.",
    )
    sensing_webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Attempts to deliver an alarm webhook (exponential backoff) before giving up.",
    )

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_scheme(cls, value: str) -> str:
        if value and not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("use an mqtt:// or mqtts:// URL, e.g. mqtt://127.0.0.1:1883")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:// and postgresql+psycopg:// URLs are supported")
        return value

    # -- exchange: deliveries, pipeline, change delivery, event bus ---------------------
    bus_url: str = Field(
        default="",
        description="Event bus between processes: nats://host:4222 (NATS JetStream; "
        "nats://user:password@host:port with credentials); empty keeps the in-process bus.",
    )
    exchange_chunk_rows: int = Field(
        default=200_000,
        ge=100,
        le=5_000_000,
        description="Rows the delivery pipeline reads, validates and merges at a time: it "
        "bounds the memory a batch needs, whatever the size of the file.",
    )
    exchange_max_upload_mb: int = Field(
        default=20_480,
        ge=1,
        description="Largest delivery file accepted, in MiB (streamed to disk, never held "
        "in memory).",
    )
    exchange_sync_mb: int = Field(
        default=32,
        ge=0,
        description="Deliveries up to this size (MiB) are processed before the upload is "
        "answered (201); larger ones are answered at once (202) and processed in the "
        "background.",
    )
    exchange_connector_timeout: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Seconds a pull connector waits for its source before the run fails "
        "(and is retried later with backoff).",
    )
    exchange_webhook_max_attempts: int = Field(
        default=8,
        ge=1,
        le=50,
        description="Attempts to deliver a page of changes to a webhook (exponential "
        "backoff) before it goes to the dead-letter list.",
    )
    exchange_webhook_backoff_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="First retry delay of a failed webhook; doubled at each attempt (at "
        "most one hour).",
    )
    exchange_worker_seconds: float = Field(
        default=2.0,
        gt=0,
        le=3600,
        description="How often the exchange's background work runs in the server: pending "
        "batches, due connectors, webhook deliveries.",
    )

    @field_validator("bus_url")
    @classmethod
    def _nats_scheme(cls, value: str) -> str:
        if value and not value.startswith(("nats://", "tls://")):
            raise ValueError("use a nats:// (or tls://) URL, e.g. nats://127.0.0.1:4222")
        return value

    # -- ledger: Merkle log, signed tree heads, witnesses, tamper audit --------------------
    scheduler_enabled: bool = Field(
        default=True,
        description="Run periodic jobs (probes, upkeep of every package) inside the server "
        "process. Turn off on API-only workers when another process runs them.",
    )
    scheduler_workers: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Worker threads running jobs; a run that outlives its timeout is "
        "abandoned and its worker replaced, so hung runs never use up the pool.",
    )
    scheduler_tick_seconds: float = Field(
        default=0.25,
        gt=0,
        le=10,
        description="How often the scheduler looks for due jobs and runs past their timeout.",
    )
    scheduler_max_abandoned: int = Field(
        default=64,
        ge=1,
        description="Most abandoned (timed-out, still blocked) threads tolerated; beyond it no "
        "replacement worker is started and the pool shrinks until they return.",
    )
    ops_dispatch_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often due probes are looked for; each due probe then runs in the "
        "scheduler's worker pool, bounded by its own timeout.",
    )
    ops_dispatch_batch: int = Field(
        default=200, ge=1, le=10_000, description="Most probes started per dispatch round."
    )
    ops_failure_threshold: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Consecutive failures of a probe that open an incident, unless the "
        "probe sets its own.",
    )
    ops_autoclose_minutes: int = Field(
        default=24 * 60,
        ge=0,
        description="A resolved incident nobody reopened is closed after this many minutes; "
        "0 leaves closing to people.",
    )
    ops_result_retention_days: int = Field(
        default=90,
        ge=1,
        description="Probe results are kept this many days; daily availability counts and "
        "outages are kept for good.",
    )
    ops_self_monitor: bool = Field(
        default=True,
        description="Register the platform itself as a monitored system at start, with probes "
        "of its database, event bus, MQTT broker, ingester lag, scheduler and disk.",
    )
    ops_self_monitor_seconds: int = Field(
        default=60, ge=5, le=3600, description="Interval of the platform's self-probes."
    )
    ops_disk_min_free_percent: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="The data directory's disk fails its probe below this share of free space "
        "(and is degraded below twice that).",
    )
    ops_ingester_max_lag_seconds: int = Field(
        default=300,
        ge=1,
        description="The sensing ingester is lagging when active devices exist but nothing "
        "was received from any of them for this long.",
    )
    ops_base_url: str = Field(
        default="",
        description="Base URL that probe targets starting with / are resolved against (the "
        "platform's own endpoints, e.g. the demo's); empty: http://CITYHUB_HOST:CITYHUB_PORT.",
    )
    ops_metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, /metrics answers only `Authorization: Bearer <token>` (the "
        "Prometheus `authorization` scrape option); empty: /metrics is open.",
    )
    ops_metrics_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="Counts read from the database for /metrics are reused this long, so "
        "frequent scrapes cost one set of queries.",
    )

    ledger_hash: Literal["sm3", "sha256"] = Field(
        default="sm3",
        description="Hash of the platform ledger when it is first created: SM3 (GM/T 0004) "
        "or SHA-256. A ledger keeps the hash it was created with.",
    )
    ledger_signing_key: SecretStr | None = Field(
        default=None,
        description="The platform's Ed25519 head-signing key (PEM, or base64 of the 32-byte "
        "seed). Empty: ledger/signing-key.pem in the data directory, created on first use. "
        "Set it when several processes or hosts sign heads.",
    )
    ledger_signature_algorithm: Literal["ed25519"] = Field(
        default="ed25519",
        description="Signature of tree heads. Only Ed25519: no package on PyPI signs SM2 "
        "(GM/T 0003) soundly yet (docs/ledger.md says why).",
    )
    ledger_background: bool = Field(
        default=True,
        description="Run the ledger's jobs on the server's scheduler: sequencing, signed "
        "heads on schedule, the tamper audit. Off: only `cityhub ledger ...` and the API.",
    )
    ledger_sweep_seconds: float = Field(
        default=5.0,
        gt=0,
        description="Seconds between sweeps of the event outbox for events not yet "
        "sequenced (events also wake the sequencer as soon as they commit).",
    )
    ledger_head_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between signed tree heads while the log grows.",
    )
    ledger_head_max_age_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A head is re-signed at least this often even when nothing was added, "
        "so witnesses see the log is alive.",
    )
    ledger_audit_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds between scheduled tamper audits; 0 turns them off. A failed "
        "audit raises the `ledger.audit.failed` alarm event.",
    )
    ledger_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="Most events sequenced per transaction."
    )
    ledger_gap_grace_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long the sequencer re-checks a missing outbox id (a transaction "
        "still open on PostgreSQL, or one rolled back) before it stops waiting for it.",
    )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
            return url
        return f"sqlite:///{(self.data_dir / 'cityhub.db').resolve()}"

    def check_secrets(self) -> None:
        """Refuse the published default secret outside demo mode."""
        if not self.demo_mode and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ConfigError(
                "CITYHUB_SECRET_KEY is the published default; set your own secret "
                "(or run `cityhub demo`)"
            )


def load_settings(**overrides: Any) -> Settings:
    """Read settings, turning a bad value into one clear ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid setting CITYHUB_{name.upper()}: {first['msg']}") from None


def describe(settings: Settings) -> list[tuple[str, str, str]]:
    """(env name, shown value, description) for every setting; secrets hidden."""
    rows = []
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = (
            "********" if isinstance(value, SecretStr) else str(value if value is not None else "")
        )
        if name == "database_url" and not value:
            shown = f"(default) {settings.effective_database_url}"
        rows.append((f"CITYHUB_{name.upper()}", shown, field.description or ""))
    return rows
