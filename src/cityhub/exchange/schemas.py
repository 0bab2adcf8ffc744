"""Pydantic shapes of the exchange API: batches, quarantine, rules, mappings, connectors,
subscriptions and webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from cityhub.core.times import UtcDatetime
from cityhub.exchange.vocab import (
    BatchStatus,
    ConnectorKind,
    FileFormat,
    Mode,
    SourceKind,
    WebhookStatus,
)


class BatchBase(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_code: str
    provider_id: int
    source_kind: SourceKind
    source: str
    connector_id: int | None
    parent_id: int | None
    mode: Mode
    format: FileFormat
    encoding: str
    filename: str
    bytes: int
    digest: str = Field(description="SM3 of the delivered content, hex")
    status: BatchStatus
    error: str
    rows_in: int
    accepted: int
    rejected: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    created_by: str
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None
    duration_ms: float | None


class BatchPublic(BatchBase):
    """A batch; `duplicate_of` is set when this answer is for a repeated delivery."""

    quality_score: float | None = None
    duplicate_of: int | None = None


class BatchDetail(BatchPublic):
    quality: dict[str, Any] = Field(default_factory=dict)


class QuarantinePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    row_number: int
    reasons: list[str]
    data: dict[str, Any]
    status: str
    resubmitted_batch_id: int | None


class RulesIn(BaseModel):
    """Per item code, its declared rule (see `cityhub.exchange.rules`)."""

    model_config = ConfigDict(extra="forbid")

    items: dict[str, dict[str, Any]] = Field(default_factory=dict)
    key: list[str] | None = Field(
        default=None, description="Key items of a resource that is not a base library"
    )


class RulesPublic(BaseModel):
    resource_code: str
    key: list[str]
    declared: dict[str, dict[str, Any]]
    effective: dict[str, dict[str, Any]]


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = Field(description="Source header → item code")


class MappingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    resource_code: str
    source: str
    columns: dict[str, str]
    updated_at: UtcDatetime
    updated_by: str


class ConnectorCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    resource_code: str = Field(max_length=64)
    kind: ConnectorKind
    config: dict[str, Any] = Field(
        description="http: url, items_path, paging (none|page|offset|cursor), page_param, "
        "size_param, page_size, cursor_path, cursor_param, since_param, since_field, "
        "headers; sql: url, table, columns, incremental_column, batch_rows"
    )
    mode: Mode = Mode.incremental
    interval_seconds: int = Field(default=3600, ge=10, le=31 * 86400)
    enabled: bool = True


class ConnectorUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: dict[str, Any] | None = None
    mode: Mode | None = None
    interval_seconds: int | None = Field(default=None, ge=10, le=31 * 86400)
    enabled: bool | None = None


class ConnectorPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    resource_code: str
    kind: ConnectorKind
    config: dict[str, Any]
    mode: Mode
    interval_seconds: int
    enabled: bool
    high_water: str | None
    next_run_at: UtcDatetime
    last_run_at: UtcDatetime | None
    last_status: str
    last_error: str
    last_batch_id: int | None
    failures: int


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    application_id: int
    resource_code: str = Field(max_length=64)
    url: HttpUrl
    from_start: bool = Field(
        default=False, description="Also deliver the changes recorded before subscribing"
    )


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    application_id: int
    resource_code: str
    url: str
    active: bool
    cursor: int
    created_at: UtcDatetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="HMAC-SHA256 key of the signatures; shown only now")


class WebhookDeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    subscription_id: int
    from_seq: int
    to_seq: int
    status: WebhookStatus
    attempts: int
    next_attempt_at: UtcDatetime
    last_error: str
    last_status_code: int | None
    created_at: UtcDatetime
    delivered_at: UtcDatetime | None


class ChangePublic(BaseModel):
    seq: int
    op: str
    key: str
    key_ref: str
    batch_id: int | None
    at: datetime
    row: dict[str, Any] | None


class ChangePage(BaseModel):
    items: list[ChangePublic]
    next: str | None = Field(description="Cursor for the next call (`since`); keep it")
    last_seq: int = Field(description="The newest change number of the resource now")
