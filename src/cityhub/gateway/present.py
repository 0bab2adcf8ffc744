"""Turning requests and grants into their public shapes (shared by the API and the pages)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.directory.models import Organization
from cityhub.gateway import grants
from cityhub.gateway import requests as sharing
from cityhub.gateway.models import Application, Grant, SharingRequest
from cityhub.gateway.schemas import GrantPublic, RequestPublic
from cityhub.gateway.workdays import Calendar
from cityhub.ledger import receipt_for_event
from cityhub.security.models import User


def ledger_of(session: Session, event_id: int | None) -> dict[str, Any] | None:
    """The ledger receipt of the last event about a request or grant."""
    if event_id is None:
        return None
    return receipt_for_event(session, event_id)


class Names:
    """Small lookups cached for one answer (a list page shows the same names often)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._orgs: dict[int, Organization | None] = {}
        self._apps: dict[int, Application | None] = {}
        self._users: dict[int, str] = {}
        self._resources: dict[str, tuple[str, str]] = {}

    def org(self, org_id: int) -> Organization | None:
        if org_id not in self._orgs:
            self._orgs[org_id] = self.session.get(Organization, org_id)
        return self._orgs[org_id]

    def org_code(self, org_id: int | None) -> str:
        org = self.org(org_id) if org_id is not None else None
        return org.code if org else ""

    def app(self, app_id: int) -> Application | None:
        if app_id not in self._apps:
            self._apps[app_id] = self.session.get(Application, app_id)
        return self._apps[app_id]

    def user(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._users:
            name = self.session.scalar(select(User.username).where(User.id == user_id))
            self._users[user_id] = name or str(user_id)
        return self._users[user_id]

    def resource(self, code: str) -> tuple[str, str]:
        """(name, share type) of a resource."""
        if code not in self._resources:
            row = self.session.execute(
                select(Resource.name, Resource.share_type).where(Resource.code == code)
            ).first()
            self._resources[code] = (row[0], str(row[1])) if row else ("", "")
        return self._resources[code]


def grant_public(names: Names, grant: Grant, *, with_ledger: bool = False) -> GrantPublic:
    app = names.app(grant.application_id)
    return GrantPublic(
        id=grant.id,
        request_id=grant.request_id,
        application_id=grant.application_id,
        application=app.name if app else "",
        resource_code=grant.resource_code,
        provider=names.org_code(grant.provider_id),
        all_items=grant.all_items,
        items=list(grant.items),
        clear_items=list(grant.clear_items),
        starts_at=grant.starts_at,
        expires_at=grant.expires_at,
        status=grants.status_of(grant),
        revoked_at=grant.revoked_at,
        revoke_reason=grant.revoke_reason,
        ledger=ledger_of(names.session, grant.event_id) if with_ledger else None,
    )


def request_public(
    names: Names,
    req: SharingRequest,
    calendar: Calendar,
    today: date,
    *,
    with_ledger: bool = False,
) -> RequestPublic:
    app = names.app(req.application_id)
    grant = names.session.scalar(select(Grant).where(Grant.request_id == req.id))
    resource_name, share_type = names.resource(req.resource_code)
    return RequestPublic(
        id=req.id,
        application_id=req.application_id,
        application=app.name if app else "",
        organization=names.org_code(app.organization_id if app else None),
        resource_code=req.resource_code,
        resource_name=resource_name,
        provider=names.org_code(req.provider_id),
        share_type=share_type,
        requester=names.user(req.requester_id) or "",
        all_items=req.all_items,
        items=list(req.items),
        clear_items=list(req.clear_items),
        purpose=req.purpose,
        period_start=req.period_start,
        period_end=req.period_end,
        status=req.status,
        created_at=req.created_at,
        deadline=req.deadline,
        overdue=sharing.is_overdue(req, today),
        working_days_left=sharing.working_days_left(req, calendar, today),
        decided_at=req.decided_at,
        decided_by=names.user(req.decided_by_id),
        reason=req.reason,
        decided_late=req.decided_late,
        grant=grant_public(names, grant, with_ledger=with_ledger) if grant else None,
        ledger=ledger_of(names.session, req.event_id) if with_ledger else None,
    )
