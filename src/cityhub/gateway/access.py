"""Who is calling the data endpoints, and what of a resource they may read.

A caller presents an API key (`Authorization: Bearer <key>`; CKAN clients send it bare
or as `X-CKAN-API-Key`) or a web session. A key linked to an application makes the call
the application's: its limits apply and its grants decide what it reads. Without an
application only the provider's own data officers and department admins read rows (in
clear: it is their data).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.errors import Forbidden, Unauthorized
from cityhub.gateway import grants, limits
from cityhub.gateway.hotsql import Hot, as_datetime
from cityhub.gateway.models import AppStatus
from cityhub.gateway.resources import ItemInfo, ResourceInfo
from cityhub.gateway.workdays import Calendar
from cityhub.security import service as security
from cityhub.security.models import Role, User

PROVIDER_STAFF = frozenset({Role.data_officer, Role.dept_admin})


@dataclass(frozen=True)
class AppRef:
    id: int
    name: str
    organization_id: int
    limits: limits.Limits


@dataclass(frozen=True)
class Caller:
    """A plain snapshot of the caller (ORM objects do not outlive their session)."""

    user_id: int
    username: str
    organization_id: int
    roles: frozenset[Role]
    credential: str  # "api_key:<prefix>" or "session"
    application: AppRef | None = None


def bearer(header: str, *, bare_allowed: bool) -> str | None:
    """The key in an Authorization header; CKAN clients may send it without `Bearer`."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if bare_allowed and not value:
        return scheme
    raise Unauthorized("malformed Authorization header; use `Authorization: Bearer <api key>`")


KEY_ROW = Hot(
    "SELECT k.id, k.key_hash, k.expires_at, k.revoked_at, k.last_used_at, "
    "u.id, u.username, u.organization_id, u.is_active, "
    "a.id, a.name, a.organization_id, a.status, a.rate_limit, a.burst, a.daily_calls, "
    "a.daily_rows "
    "FROM api_keys k JOIN users u ON u.id = k.user_id "
    "LEFT JOIN gateway_application_keys ak ON ak.api_key_id = k.id "
    "LEFT JOIN gateway_applications a ON a.id = ak.application_id "
    "WHERE k.prefix = :prefix"
)
ROLES = Hot("SELECT role FROM user_roles WHERE user_id = :user")
STAMP = Hot("UPDATE api_keys SET last_used_at = :now WHERE id = :key")
ACTIVE_GRANTS = Hot(
    "SELECT id, items, clear_items FROM gateway_grants "
    "WHERE application_id = :app AND resource_code = :code AND revoked_at IS NULL "
    "AND starts_at <= :now AND expires_at > :now"
)


def from_key(conn: Connection, raw: str) -> Caller:
    """The caller behind an API key, in one query (the hot path of every data call).

    The same checks and messages as `security.service.user_and_key_for_api_key`; the key's
    last use is stamped at most once a minute.
    """
    parts = raw.removeprefix(security.API_KEY_PREFIX).split("_", 1)
    if not raw.startswith(security.API_KEY_PREFIX) or len(parts) != 2 or not all(parts):
        raise Unauthorized("the API key is malformed (expected chk_<prefix>_<secret>)")
    row = KEY_ROW.first(conn, {"prefix": parts[0]})
    if row is None or not secrets.compare_digest(row[1], security.sha256_hex(raw)):
        raise Unauthorized("unknown API key")
    (key_id, _, expires, revoked, last_used, user_id, username, org_id, active) = row[:9]
    now = utcnow()
    if revoked is not None:
        raise Unauthorized("the API key was revoked")
    expires_at = as_datetime(expires)
    if expires_at is not None and expires_at <= now:
        raise Unauthorized("the API key has expired")
    if not active:
        raise Unauthorized("the API key's user is disabled")
    last = as_datetime(last_used)
    if last is None or now - last > timedelta(minutes=1):
        with conn.engine.begin() as stamp:  # coarse, so hot keys do not write on every call
            STAMP.rows(stamp, {"now": now, "key": key_id})
    app_id, name, app_org, status, rate, burst, calls, rows = row[9:]
    ref = None
    if app_id is not None:
        if AppStatus(status) is not AppStatus.active:
            raise Forbidden(f"application {app_id} ({name}) is suspended")
        ref = AppRef(app_id, name, app_org, limits.Limits(app_id, rate, burst, calls, rows))
        roles: frozenset[Role] = frozenset()  # an application acts by its grants alone
    else:
        roles = frozenset(Role(r) for (r,) in ROLES.rows(conn, {"user": user_id}))
    return Caller(user_id, username, org_id, roles, f"api_key:{parts[0]}", ref)


def from_session(session: Session, token: str) -> Caller | None:
    user = security.user_for_session(session, token)
    return _caller(user, "session", None) if user is not None else None


def _caller(user: User, credential: str, app: AppRef | None) -> Caller:
    return Caller(
        user.id, user.username, user.organization_id, frozenset(user.roles), credential, app
    )


def admit(engine: Engine, caller: Caller, calendar: Calendar) -> limits.Allowance | None:
    """Count the call against its application's rate limit and daily quota (if any)."""
    if caller.application is None:
        return None
    return limits.admit(engine, caller.application.limits, calendar)


@dataclass(frozen=True)
class View:
    """What the caller may read of one resource: items (resource order) and clear ones."""

    resource: ResourceInfo
    items: tuple[ItemInfo, ...]
    clear: frozenset[str]
    grant_ids: tuple[int, ...] = ()

    def allows(self, code: str) -> bool:
        return any(i.code == code for i in self.items)

    def masked(self, item: ItemInfo) -> bool:
        return bool(item.masking) and item.code not in self.clear


def view(session: Session | Connection, caller: Caller, info: ResourceInfo) -> View:
    """The caller's view of `info`, or Forbidden saying why they have none."""
    conn = session.connection() if isinstance(session, Session) else session
    if caller.application is not None:
        params = {"app": caller.application.id, "code": info.code, "now": utcnow()}
        active = ACTIVE_GRANTS.rows(conn, params)
        if not active:
            raise Forbidden(grants.why_no_access(conn, caller.application.id, info.code))
        access = grants.access_of(active)
        items = tuple(i for i in info.items if i.code in access.items)
        return View(info, items, access.clear_items, access.grant_ids)
    if caller.organization_id == info.provider_id and caller.roles & PROVIDER_STAFF:
        return View(info, info.items, frozenset(i.code for i in info.items))
    raise Forbidden(
        f"reading rows of {info.code} needs an application key with a grant on it "
        "(or being a data officer of its provider)"
    )
