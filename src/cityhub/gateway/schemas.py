"""Pydantic shapes of applications, keys, sharing requests, grants and usage."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from cityhub.core.times import UtcDatetime
from cityhub.gateway.models import AppStatus, RequestStatus
from cityhub.standards import phone

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def _phone(value: str) -> str:
    if not value:
        return value
    if (mobile := phone.normalize(value)) is not None:
        return mobile
    if _LANDLINE.match(value.strip()):
        return value.strip()
    raise PydanticCustomError(
        "phone", "not a mainland mobile number (13812345678) or landline (0539-8888888)"
    )


def _email(value: str) -> str:
    if value and not _EMAIL.match(value):
        raise PydanticCustomError("email", "not an e-mail address")
    return value


Phone = Annotated[str, Field(max_length=32), AfterValidator(_phone)]
Email = Annotated[str, Field(max_length=128), AfterValidator(_email)]
ItemCodes = list[Annotated[str, Field(min_length=1, max_length=64)]]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- applications -------------------------------------------------------------------------


class ApplicationBase(_Input):
    description: str = Field(default="", max_length=2000)
    contact_name: str = Field(default="", max_length=64)
    contact_phone: Phone = ""
    contact_email: Email = ""


class ApplicationCreate(ApplicationBase):
    name: str = Field(min_length=1, max_length=128, examples=["智慧交通出行服务"])
    purpose: str = Field(min_length=1, max_length=2000, description="What the data is used for")


class ApplicationUpdate(_Input):
    """Details its organization's developers may change; only the fields given change."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    description: str | None = Field(default=None, max_length=2000)
    purpose: str | None = Field(default=None, min_length=1, max_length=2000)
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: Phone | None = None
    contact_email: Email | None = None


class ApplicationLimits(_Input):
    """Limits and status: set by platform admins and operators only."""

    rate_limit: int | None = Field(default=None, ge=1, le=100_000, description="Requests/s")
    burst: int | None = Field(default=None, ge=1, le=1_000_000, description="Bucket size")
    daily_calls: int | None = Field(default=None, ge=1, le=10**12)
    daily_rows: int | None = Field(default=None, ge=1, le=10**15)
    status: AppStatus | None = None


class ApplicationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    purpose: str
    contact_name: str
    contact_phone: str
    contact_email: str
    organization: str = Field(description="Organization code")
    organization_name: str
    owner: str = Field(description="Username of the registering developer")
    status: AppStatus
    rate_limit: int
    burst: int
    daily_calls: int
    daily_rows: int
    created_at: UtcDatetime
    calls_today: int = 0
    rows_today: int = 0


# -- keys ---------------------------------------------------------------------------------

KeyStatus = Literal["active", "expiring", "revoked", "expired"]


class KeyCreate(_Input):
    name: str = Field(default="", max_length=100)


class KeyPublic(BaseModel):
    id: int
    prefix: str
    name: str
    status: KeyStatus
    created_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    last_used_at: UtcDatetime | None = None
    revoked_at: UtcDatetime | None = None
    replaces_id: int | None = None


class KeyIssued(KeyPublic):
    key: str = Field(description="The secret, shown this once; only its SHA-256 is stored")
    replaced: KeyPublic | None = Field(
        default=None, description="On rotation: the old key and when it stops working"
    )


# -- sharing requests ---------------------------------------------------------------------


class RequestCreate(_Input):
    application_id: int
    resource_code: str = Field(min_length=1, max_length=64)
    items: ItemCodes | None = Field(
        default=None, description="Item codes wanted; omitted or null means every item"
    )
    clear_items: ItemCodes = Field(
        default_factory=list,
        description="Masked items wanted in clear text; always decided by the provider",
    )
    purpose: str = Field(min_length=1, max_length=2000)
    period_start: date | None = Field(default=None, description="Default: today")
    period_end: date = Field(description="Last day of access")


class Approve(_Input):
    reason: str = Field(default="", max_length=2000)
    clear_items: ItemCodes | None = Field(
        default=None,
        description="Clear-text items allowed (a subset of those asked); default: all asked",
    )
    period_end: date | None = Field(default=None, description="Shorten the grant's period")


class Reject(_Input):
    reason: str = Field(min_length=1, max_length=2000, description="Why; shown to the applicant")


class Revoke(_Input):
    reason: str = Field(min_length=1, max_length=2000)


GrantStatus = Literal["active", "scheduled", "expired", "revoked"]


class GrantPublic(BaseModel):
    id: int
    request_id: int
    application_id: int
    application: str
    resource_code: str
    provider: str
    all_items: bool
    items: list[str]
    clear_items: list[str]
    starts_at: UtcDatetime
    expires_at: UtcDatetime
    status: GrantStatus
    revoked_at: UtcDatetime | None = None
    revoke_reason: str = ""
    ledger: dict[str, Any] | None = Field(
        default=None, description="Ledger receipt of the last event about this grant"
    )


class RequestPublic(BaseModel):
    id: int
    application_id: int
    application: str
    organization: str = Field(description="The applying organization's code")
    resource_code: str
    resource_name: str
    provider: str = Field(description="The providing organization's code")
    share_type: str
    requester: str
    all_items: bool
    items: list[str]
    clear_items: list[str]
    purpose: str
    period_start: date
    period_end: date
    status: RequestStatus
    created_at: UtcDatetime
    deadline: date | None = None
    overdue: bool = False
    working_days_left: int | None = None
    decided_at: UtcDatetime | None = None
    decided_by: str | None = None
    reason: str = ""
    decided_late: bool = False
    grant: GrantPublic | None = None
    ledger: dict[str, Any] | None = Field(
        default=None, description="Ledger receipt of the last decision (or the creation)"
    )


class ProviderOverdue(BaseModel):
    provider: str
    provider_name: str
    pending: int
    overdue: int = Field(description="Pending past their deadline now")
    decided_late: int = Field(description="Decided after their deadline")


# -- usage --------------------------------------------------------------------------------


class UsageRow(BaseModel):
    day: date | None = None
    application_id: int | None = None
    application: str | None = None
    resource_code: str | None = None
    calls: int
    errors: int
    rows: int
    bytes: int
    avg_latency_ms: float


class UsageReport(BaseModel):
    group_by: list[str]
    since: date
    until: date
    items: list[UsageRow]
    totals: UsageRow


class SamplePublic(BaseModel):
    code: str
    access: Literal["provider", "granted", "preview", "none"] = Field(
        description="provider: your own data, in clear; granted: through your organization's "
        "grants; preview: 无条件共享, masked; none: request access first"
    )
    fields: list[str]
    masked: list[str]
    items: list[dict[str, Any]]
