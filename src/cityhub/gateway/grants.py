"""Grants: which items of which resource an application may read, until when.

A grant is created by an unconditional request at once or by an approval; it ends when it
expires or is revoked. Each change is an outbox event (notarized by the ledger) and an
audit row, in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.errors import Conflict, Forbidden, NotFound
from cityhub.gateway.models import Application, Grant, SharingRequest, json_list
from cityhub.gateway.workdays import Calendar
from cityhub.security import audit
from cityhub.security.models import Role, User

SEE_ALL = frozenset({Role.platform_admin, Role.operator, Role.auditor})


def local_start(day: date, calendar: Calendar) -> datetime:
    """Local midnight starting `day`, in UTC (SQLite keeps datetimes naive: store UTC)."""
    return datetime.combine(day, time.min, tzinfo=calendar.zone).astimezone(UTC)


def status_of(grant: Grant, now: datetime | None = None) -> str:
    moment = now or utcnow()
    if grant.revoked_at is not None:
        return "revoked"
    if as_utc(grant.expires_at) <= moment:
        return "expired"
    if as_utc(grant.starts_at) > moment:
        return "scheduled"
    return "active"


def create(
    session: Session,
    req: SharingRequest,
    *,
    items: list[str],
    clear_items: list[str],
    period_end: date,
    calendar: Calendar,
    actor: str,
) -> Grant:
    """The grant of a granted or approved request; access runs to the end of `period_end`."""
    now = utcnow()
    starts = max(now, local_start(req.period_start, calendar))
    grant = Grant(
        request_id=req.id,
        application_id=req.application_id,
        resource_code=req.resource_code,
        provider_id=req.provider_id,
        all_items=req.all_items,
        items=items,
        clear_items=clear_items,
        starts_at=starts,
        expires_at=local_start(period_end + timedelta(days=1), calendar),
    )
    session.add(grant)
    session.flush()
    event = emit(
        session,
        "gateway.grant.created",
        {
            "grant_id": grant.id,
            "request_id": req.id,
            "application_id": req.application_id,
            "resource_code": req.resource_code,
            "provider_id": req.provider_id,
            "fields": items,
            "clear_fields": clear_items,
            "expires_at": grant.expires_at.isoformat(),
        },
        actor=actor,
    )
    grant.event_id = event.id
    audit.record(
        session,
        actor=actor,
        action="gateway.grant.create",
        target=f"grant:{grant.id}",
        status=201,
        detail={"request_id": req.id, "resource": req.resource_code, "items": items},
    )
    return grant


def get(session: Session, grant_id: int) -> Grant:
    grant = session.get(Grant, grant_id)
    if grant is None:
        raise NotFound(f"no grant with id {grant_id}")
    return grant


def list_for(
    session: Session,
    user: User,
    *,
    limit: int,
    after_id: int | None = None,
    application_id: int | None = None,
    resource_code: str | None = None,
    active: bool | None = None,
) -> list[Grant]:
    """Grants a user may see: their organization's, as applicant or as provider."""
    stmt = (
        select(Grant)
        .join(Application, Application.id == Grant.application_id)
        .order_by(Grant.id)
        .limit(limit)
    )
    if not user.roles & SEE_ALL:
        stmt = stmt.where(
            or_(
                Grant.provider_id == user.organization_id,
                Application.organization_id == user.organization_id,
            )
        )
    if application_id is not None:
        stmt = stmt.where(Grant.application_id == application_id)
    if resource_code:
        stmt = stmt.where(Grant.resource_code == resource_code)
    if active is not None:
        now = utcnow()
        live = and_(Grant.revoked_at.is_(None), Grant.starts_at <= now, Grant.expires_at > now)
        stmt = stmt.where(live if active else ~live)
    if after_id is not None:
        stmt = stmt.where(Grant.id > after_id)
    return list(session.scalars(stmt))


def revoke(session: Session, user: User, grant: Grant, reason: str) -> Grant:
    """Ended by the provider's data officers, or by a platform admin."""
    is_admin = Role.platform_admin in user.roles
    is_provider = Role.data_officer in user.roles and user.organization_id == grant.provider_id
    if not (is_admin or is_provider):
        raise Forbidden(
            f"grant {grant.id} can be revoked only by the data officers of its provider or a "
            "platform admin"
        )
    state = status_of(grant)
    if state in ("revoked", "expired"):
        raise Conflict(f"grant {grant.id} is already {state}")
    grant.revoked_at = utcnow()
    grant.revoked_by_id = user.id
    grant.revoke_reason = reason
    event = emit(
        session,
        "gateway.grant.revoked",
        {
            "grant_id": grant.id,
            "application_id": grant.application_id,
            "resource_code": grant.resource_code,
            "reason": reason,
            "revoked_at": grant.revoked_at.isoformat(),
        },
        actor=user.username,
    )
    grant.event_id = event.id
    audit.record(
        session,
        actor=user.username,
        organization_id=user.organization_id,
        action="gateway.grant.revoke",
        target=f"grant:{grant.id}",
        status=200,
        detail={"reason": reason, "resource": grant.resource_code},
    )
    session.flush()
    return grant


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Note every grant whose time ran out: one `gateway.grant.expired` event each.

    Access already ends at `expires_at` whether or not this ran; this records it.
    """
    moment = now or utcnow()
    due = session.scalars(
        select(Grant)
        .where(
            Grant.expires_at <= moment,
            Grant.revoked_at.is_(None),
            Grant.expired_noted.is_(False),
        )
        .order_by(Grant.id)
        .with_for_update(skip_locked=True)
    ).all()
    for grant in due:
        grant.expired_noted = True
        event = emit(
            session,
            "gateway.grant.expired",
            {
                "grant_id": grant.id,
                "application_id": grant.application_id,
                "resource_code": grant.resource_code,
                "expired_at": as_utc(grant.expires_at).isoformat(),
            },
            actor="system",
        )
        grant.event_id = event.id
        audit.record(
            session,
            actor="system",
            action="gateway.grant.expire",
            target=f"grant:{grant.id}",
            detail={"resource": grant.resource_code, "application_id": grant.application_id},
        )
    session.flush()
    return len(due)


@dataclass(frozen=True)
class Access:
    """What an application may read of one resource now: the union of its active grants."""

    items: frozenset[str]
    clear_items: frozenset[str]
    grant_ids: tuple[int, ...]


def access_of(rows: Iterable[Any]) -> Access:
    """The union of grants given as (id, items, clear_items) rows."""
    items: set[str] = set()
    clear: set[str] = set()
    ids = []
    for grant_id, granted, clear_text in rows:
        # A plain cursor hands JSON columns back as text (SQLite) or lists (PostgreSQL).
        items.update(json_list(json.loads(granted) if isinstance(granted, str) else granted))
        clear.update(
            json_list(json.loads(clear_text) if isinstance(clear_text, str) else clear_text)
        )
        ids.append(grant_id)
    return Access(frozenset(items), frozenset(clear), tuple(ids))


def why_no_access(session: Session | Connection, application_id: int, resource_code: str) -> str:
    """Explain a refusal by the latest grant, if any."""
    last = session.execute(
        select(Grant.id, Grant.revoked_at, Grant.revoke_reason, Grant.starts_at, Grant.expires_at)
        .where(Grant.application_id == application_id, Grant.resource_code == resource_code)
        .order_by(Grant.id.desc())
        .limit(1)
    ).first()
    hint = "request access with POST /api/v1/requests"
    if last is None:
        return f"application {application_id} has no grant on resource {resource_code}; {hint}"
    grant_id, revoked_at, reason, starts_at, expires_at = last
    if revoked_at is not None:
        return f"grant {grant_id} on resource {resource_code} was revoked ({reason}); {hint}"
    if as_utc(expires_at) <= utcnow():
        return (
            f"grant {grant_id} on resource {resource_code} expired at "
            f"{as_utc(expires_at).isoformat()}; {hint}"
        )
    return f"grant {grant_id} on resource {resource_code} starts at {as_utc(starts_at).isoformat()}"
