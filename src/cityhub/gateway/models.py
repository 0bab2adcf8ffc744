"""Tables of the interface service: applications, their keys and limits, sharing requests,
grants, and the metering of every data call."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityhub.core.db import Base, utcnow

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class AppStatus(enum.StrEnum):
    active = "active"
    suspended = "suspended"  # keys refused until a platform admin reinstates it


class Application(Base):
    """应用: a consumer of the platform's data, registered by a developer for an organization."""

    __tablename__ = "gateway_applications"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(64), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(128), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[AppStatus] = mapped_column(
        Enum(AppStatus, native_enum=False, length=16), default=AppStatus.active
    )
    rate_limit: Mapped[int] = mapped_column(Integer)  # requests per second (bucket refill)
    burst: Mapped[int] = mapped_column(Integer)  # bucket size
    daily_calls: Mapped[int] = mapped_column(BigInteger)
    daily_rows: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ApplicationKey(Base):
    """Links an API key (security's `api_keys`, SHA-256 digest only) to its application."""

    __tablename__ = "gateway_application_keys"

    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"), primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("gateway_applications.id"), index=True)
    replaces_id: Mapped[int | None] = mapped_column(Integer, default=None)  # rotated key
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Counter(Base):
    """An application's token bucket and today's calls and rows, in one row: each call is
    one atomic conditional upsert of it (see `limits`)."""

    __tablename__ = "gateway_counters"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("gateway_applications.id", ondelete="CASCADE"), primary_key=True
    )
    tokens: Mapped[float] = mapped_column(Float)
    refilled_at: Mapped[float] = mapped_column(Float)  # epoch seconds: plain arithmetic in SQL
    day: Mapped[date] = mapped_column(Date)  # the local day `calls` and `rows` count
    calls: Mapped[int] = mapped_column(BigInteger, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)


class UsageRecord(Base):
    """One metered data call (rows API, exports, CKAN datastore_search)."""

    __tablename__ = "gateway_usage"

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)  # local day, for daily aggregates
    application_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    resource_code: Mapped[str] = mapped_column(String(64), index=True, default="")
    provider_id: Mapped[int | None] = mapped_column(Integer, index=True, default=None)
    endpoint: Mapped[str] = mapped_column(String(32))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[int] = mapped_column(Integer)


# -- sharing requests and grants ----------------------------------------------------------


class RequestStatus(enum.StrEnum):
    pending = "pending"  # 待审批: waiting for the provider's data officers
    granted = "granted"  # 无条件共享: granted at once
    approved = "approved"  # 有条件共享: approved by the provider
    rejected = "rejected"
    withdrawn = "withdrawn"  # by the applicant, before a decision


class SharingRequest(Base):
    """共享申请: an application asks for a resource (all or some items) for a purpose."""

    __tablename__ = "gateway_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("gateway_applications.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    all_items: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[list[str]] = mapped_column(JSON)  # item codes
    clear_items: Mapped[list[str]] = mapped_column(JSON)  # masked items wanted in clear
    purpose: Mapped[str] = mapped_column(Text)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[RequestStatus] = mapped_column(
        Enum(RequestStatus, native_enum=False, length=16), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deadline: Mapped[date | None] = mapped_column(Date, default=None, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_late: Mapped[bool] = mapped_column(Boolean, default=False)
    event_id: Mapped[int | None] = mapped_column(_BIGINT, default=None)  # last decision's


class Grant(Base):
    """An application's right to read items of a resource until it expires or is revoked."""

    __tablename__ = "gateway_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("gateway_requests.id"), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("gateway_applications.id"), index=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    all_items: Mapped[bool] = mapped_column(Boolean, default=False)
    items: Mapped[list[str]] = mapped_column(JSON)
    clear_items: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    expired_noted: Mapped[bool] = mapped_column(Boolean, default=False)  # event emitted
    event_id: Mapped[int | None] = mapped_column(_BIGINT, default=None)  # last event's


def json_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
