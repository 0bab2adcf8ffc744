"""Pydantic shapes of users, API keys, logins and audit events."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from cityhub.core.times import UtcDatetime
from cityhub.security import service
from cityhub.security.models import ApiKey, AuditEvent, Role, User


def _policy(password: str) -> str:
    if (problem := service.password_problem(password)) is not None:
        raise PydanticCustomError("password_policy", problem)  # no "Value error," prefix
    return password


_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,63}")


def _username(value: str) -> str:
    if not _USERNAME.fullmatch(value):
        raise PydanticCustomError(
            "username",
            "a username has 2-64 characters (letters, digits, '.', '_', '-', '@') "
            "and starts with a letter or digit",
        )
    return value


Username = Annotated[
    str,
    AfterValidator(_username),
    Field(description="Login name: 2-64 letters, digits, . _ - or @", examples=["zhang.wei"]),
]
NewPassword = Annotated[
    str,
    Field(max_length=256, description="At least 10 characters, with letters and digits"),
    AfterValidator(_policy),
]
Outcome = Literal["success", "denied", "failed", "error"]


# -- login --------------------------------------------------------------------


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


# -- users --------------------------------------------------------------------


class UserCreate(BaseModel):
    username: Username
    organization: str = Field(min_length=1, max_length=32, description="Organization code")
    roles: list[Role] = Field(min_length=1, description="At least one role")
    password: NewPassword | None = Field(
        default=None, description="Empty for an API-only account that cannot log in"
    )
    display_name: str = Field(default="", max_length=128)


class UserUpdate(BaseModel):
    """Only the fields given are changed; a user may change their own password and name."""

    display_name: str | None = Field(default=None, max_length=128)
    roles: list[Role] | None = Field(default=None, min_length=1)
    is_active: bool | None = None
    password: NewPassword | None = None
    current_password: str | None = Field(
        default=None, max_length=256, description="Needed to change your own password"
    )


class UserPublic(BaseModel):
    username: str
    display_name: str
    organization: str = Field(description="Organization code")
    roles: list[Role]
    is_active: bool
    created_at: UtcDatetime
    last_login_at: UtcDatetime | None

    @classmethod
    def of(cls, user: User) -> UserPublic:
        return cls(
            username=user.username,
            display_name=user.display_name,
            organization=user.organization.code,
            roles=sorted(user.roles),
            is_active=user.is_active,
            created_at=user.created_at,
            last_login_at=user.last_login_at,
        )


# -- API keys -----------------------------------------------------------------


class ApiKeyCreate(BaseModel):
    name: str = Field(default="", max_length=128, description="A label to recognise the key by")
    expires_at: AwareDatetime | None = Field(
        default=None, description="When the key stops working (with a time zone); never if empty"
    )


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The public part of the key: chk_<prefix>_…")
    user: str
    status: service.KeyStatus
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    last_used_at: UtcDatetime | None
    revoked_at: UtcDatetime | None

    @classmethod
    def of(cls, key: ApiKey, username: str) -> ApiKeyPublic:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            user=username,
            status=service.key_status(key),
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The key itself, shown this once only: store it now")

    @classmethod
    def with_secret(cls, key: ApiKey, username: str, raw: str) -> ApiKeyCreated:
        return cls(**ApiKeyPublic.of(key, username).model_dump(), key=raw)


# -- audit --------------------------------------------------------------------


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcDatetime
    actor: str
    organization_id: int | None
    action: str
    target: str
    ip: str
    request_id: str
    outcome: str
    status: int | None
    detail: dict[str, Any]

    @field_validator("detail", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = json.loads(value) if value else {}
            except json.JSONDecodeError:
                return {"text": value}
            return parsed if isinstance(parsed, dict) else {"value": parsed}
        return value

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventPublic:
        return cls.model_validate(event)
