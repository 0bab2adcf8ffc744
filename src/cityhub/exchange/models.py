"""Tables of the exchange: batches, per-resource rules and column mappings, quarantined
rows, the change log behind the change feed, pull connectors, webhook subscriptions and
their deliveries (the dead-letter list is the deliveries that gave up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityhub.core.db import Base, utcnow
from cityhub.exchange.vocab import (
    BatchStatus,
    ConnectorKind,
    FileFormat,
    Mode,
    QuarantineStatus,
    SourceKind,
    WebhookStatus,
)

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


def _enum(kind: Any) -> Enum:
    return Enum(kind, native_enum=False, length=16, validate_strings=True)


class Batch(Base):
    """交换批次: one delivery of one resource, from upload or a connector."""

    __tablename__ = "exchange_batches"
    __table_args__ = (Index("ix_exchange_batches_resource_digest", "resource_code", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    source_kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind))
    source: Mapped[str] = mapped_column(String(64), default="upload")  # names the mapping
    connector_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    parent_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    format: Mapped[FileFormat] = mapped_column(_enum(FileFormat))
    encoding: Mapped[str] = mapped_column(String(16), default="")  # declared or detected
    filename: Mapped[str] = mapped_column(String(255), default="")
    stored_path: Mapped[str] = mapped_column(String(500), default="")  # under the data dir
    deletions_path: Mapped[str] = mapped_column(String(500), default="")
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    digest: Mapped[str] = mapped_column(String(64))  # SM3 of the content, hex
    status: Mapped[BatchStatus] = mapped_column(_enum(BatchStatus), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    rows_in: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    high_water: Mapped[str | None] = mapped_column(Text, default=None)  # a connector's mark
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    duration_ms: Mapped[float | None] = mapped_column(Float, default=None)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    worker: Mapped[str] = mapped_column(String(128), default="")  # host:pid of its runner
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ResourceRules(Base):
    """Validation rules declared on a resource, per item (keys are the library's)."""

    __tablename__ = "exchange_rules"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    items: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class ColumnMapping(Base):
    """How one source's column headers map to the resource's information items."""

    __tablename__ = "exchange_mappings"
    __table_args__ = (UniqueConstraint("resource_code", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(64))
    columns: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # header → item code
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class QuarantineRow(Base):
    """A rejected row: what was delivered (mapped to item codes) and why it was refused."""

    __tablename__ = "exchange_quarantine"

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("exchange_batches.id"), index=True)
    row_number: Mapped[int] = mapped_column(BigInteger)  # 1-based data row in the source
    reasons: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)  # JSON object of the delivered values
    status: Mapped[QuarantineStatus] = mapped_column(
        _enum(QuarantineStatus), default=QuarantineStatus.open
    )
    resubmitted_batch_id: Mapped[int | None] = mapped_column(Integer, default=None)


class ResourceState(Base):
    """Per resource: the last change sequence number and the last completed batch.

    Locked (SELECT ... FOR UPDATE) by a batch while it merges, so batches of one resource
    apply one after another and change numbers follow the commit order."""

    __tablename__ = "exchange_state"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_batch_id: Mapped[int | None] = mapped_column(Integer, default=None)
    last_completed_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )


class ChangeBlock(Base):
    """Keys of a resource whose rows changed (inserted, updated or removed), in commit
    order: the change feed. One row holds the keys of consecutive changes
    `seq_first`..`seq_last` (change `seq_first + i` is `keys[i]`, a JSON array), up to
    `changes.BLOCK_KEYS` of them from one merge, so a delivery of millions of rows writes
    hundreds of rows here, not millions. The feed serves the row as it is when read, or
    a deletion when it is gone, so a consumer always converges on the current state."""

    __tablename__ = "exchange_change_blocks"
    __table_args__ = (UniqueConstraint("resource_code", "seq_last"),)

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64))
    seq_first: Mapped[int] = mapped_column(BigInteger)
    seq_last: Mapped[int] = mapped_column(BigInteger)
    batch_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    keys: Mapped[str] = mapped_column(Text)  # JSON array of the library's canonical keys
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Connector(Base):
    """A pull connector: fetch a department's data on a schedule and deliver it as a batch."""

    __tablename__ = "exchange_connectors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[ConnectorKind] = mapped_column(_enum(ConnectorKind))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mode: Mapped[Mode] = mapped_column(_enum(Mode))
    interval_seconds: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    high_water: Mapped[str | None] = mapped_column(Text, default=None)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_status: Mapped[str] = mapped_column(String(16), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_batch_id: Mapped[int | None] = mapped_column(Integer, default=None)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Subscription(Base):
    """A webhook: an application wants the changes of a resource it is granted, signed."""

    __tablename__ = "exchange_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("gateway_applications.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))  # HMAC-SHA256 key, shown once
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # last seq handed out
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One page of changes (seq range) for one subscription, with its attempts."""

    __tablename__ = "exchange_webhook_deliveries"

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_subscriptions.id"), index=True
    )
    from_seq: Mapped[int] = mapped_column(BigInteger)
    to_seq: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[WebhookStatus] = mapped_column(_enum(WebhookStatus), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
