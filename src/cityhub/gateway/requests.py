"""Sharing requests (共享申请) and their decisions. No web imports.

- 无条件共享: granted at once and recorded.
- 有条件共享 (or clear text of masked items): pending with the provider's data officers,
  who approve or reject with a reason before a deadline of N working days; requests left
  pending past it are overdue and counted against the provider.
- 不予共享: refused with the legal basis.

Every step is an outbox event (`gateway.request.*`, `gateway.grant.*`) and an audit row.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from cityhub.catalog.vocab import ShareType
from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.gateway import apps, grants, resources
from cityhub.gateway.models import Application, AppStatus, RequestStatus, SharingRequest
from cityhub.gateway.resources import ResourceInfo
from cityhub.gateway.schemas import Approve, RequestCreate
from cityhub.gateway.workdays import Calendar
from cityhub.security import audit
from cityhub.security.models import Role, User
from cityhub.settings import Settings

MAX_PERIOD_DAYS = 3 * 366
SHARE_LABEL = {
    ShareType.unconditional: "无条件共享 (unconditional)",
    ShareType.conditional: "有条件共享 (conditional)",
    ShareType.none: "不予共享 (not shared)",
}


def _items(info: ResourceInfo, wanted: list[str] | None) -> list[str]:
    if wanted is None:
        return [i.code for i in info.items]
    if not wanted:
        raise ValidationFailed("items: give at least one item code, or omit it for all items")
    out: list[str] = []
    for code in wanted:
        item = info.item(code)
        if item is None:
            known = ", ".join(i.code for i in info.items)
            raise ValidationFailed(
                f"items: resource {info.code} has no item {code!r}; its items are {known}"
            )
        if item.code not in out:
            out.append(item.code)
    return out


def _clear_items(info: ResourceInfo, items: list[str], wanted: list[str]) -> list[str]:
    out: list[str] = []
    for code in wanted:
        item = info.item(code)
        if item is None or item.code not in items:
            raise ValidationFailed(f"clear_items: {code!r} is not among the requested items")
        if not item.masking:
            raise ValidationFailed(
                f"clear_items: item {item.title} is not masked; it is delivered in clear anyway"
            )
        if item.code not in out:
            out.append(item.code)
    return out


def _period(data: RequestCreate, today: date) -> tuple[date, date]:
    start = data.period_start or today
    if start < today:
        raise ValidationFailed(f"period_start: {start} is in the past (today is {today})")
    if data.period_end < start:
        raise ValidationFailed(f"period_end: {data.period_end} is before period_start {start}")
    if (data.period_end - start).days > MAX_PERIOD_DAYS:
        raise ValidationFailed("period_end: a request covers at most three years")
    return start, data.period_end


def _event_payload(req: SharingRequest) -> dict[str, object]:
    return {
        "request_id": req.id,
        "application_id": req.application_id,
        "resource_code": req.resource_code,
        "provider_id": req.provider_id,
        "status": req.status.value,
        "fields": req.items,
        "clear_fields": req.clear_items,
        "period_from": req.period_start.isoformat(),
        "period_to": req.period_end.isoformat(),
    }


def create(session: Session, user: User, data: RequestCreate, settings: Settings) -> SharingRequest:
    calendar = Calendar.from_settings(settings)
    app = apps.get(session, data.application_id, user)
    apps.check_manage(user, app)
    if app.status is not AppStatus.active:
        raise Conflict(f"application {app.id} is suspended")
    info = resources.load(session, data.resource_code)
    if not info.published:
        raise ValidationFailed(
            f"resource {info.code} is not published ({info.status.value}); it cannot be requested"
        )
    if info.share_type is ShareType.none:
        basis = info.share_condition or "no legal basis recorded"
        raise ValidationFailed(
            f"resource {info.code} is 不予共享 (not shared) and cannot be requested; legal "
            f"basis: {basis}",
            share_type=info.share_type.value,
            legal_basis=basis,
        )
    items = _items(info, data.items)
    clear = _clear_items(info, items, data.clear_items)
    today = calendar.today()
    start, end = _period(data, today)
    pending = session.scalar(
        select(SharingRequest.id).where(
            SharingRequest.application_id == app.id,
            SharingRequest.resource_code == info.code,
            SharingRequest.status == RequestStatus.pending,
        )
    )
    if pending is not None:
        raise Conflict(
            f"request {pending} of application {app.id} for {info.code} is still pending"
        )
    at_once = info.share_type is ShareType.unconditional and not clear
    req = SharingRequest(
        application_id=app.id,
        resource_code=info.code,
        provider_id=info.provider_id,
        requester_id=user.id,
        all_items=data.items is None,
        items=items,
        clear_items=clear,
        purpose=data.purpose,
        period_start=start,
        period_end=end,
        status=RequestStatus.granted if at_once else RequestStatus.pending,
        deadline=None
        if at_once
        else calendar.add_working_days(today, settings.approval_working_days),
    )
    if at_once:
        req.decided_at = utcnow()
        req.reason = "无条件共享: granted on request"
    session.add(req)
    session.flush()
    event = emit(session, "gateway.request.created", _event_payload(req), actor=user.username)
    req.event_id = event.id
    audit.record(
        session,
        actor=user.username,
        organization_id=user.organization_id,
        action="gateway.request.create",
        target=f"request:{req.id}",
        status=201,
        detail={"resource": info.code, "status": req.status.value, "items": items},
    )
    if at_once:
        grants.create(
            session,
            req,
            items=items,
            clear_items=[],
            period_end=end,
            calendar=calendar,
            actor=user.username,
        )
    return req


# -- reading ------------------------------------------------------------------------------

SEE_ALL = apps.SEE_ALL


def _visible(user: User) -> object:
    """Requests a user may see: their organization's, as applicant or as provider."""
    return or_(
        SharingRequest.provider_id == user.organization_id,
        Application.organization_id == user.organization_id,
    )


def get(session: Session, request_id: int, user: User | None = None) -> SharingRequest:
    req = session.get(SharingRequest, request_id)
    if req is None:
        raise NotFound(f"no sharing request with id {request_id}")
    if user is not None and not user.roles & SEE_ALL:
        app = session.get(Application, req.application_id)
        own = user.organization_id in (req.provider_id, app.organization_id if app else None)
        if not own:
            raise NotFound(f"no sharing request with id {request_id}")
    return req


def list_for(
    session: Session,
    user: User,
    *,
    limit: int,
    today: date,
    after_id: int | None = None,
    status: RequestStatus | None = None,
    overdue: bool | None = None,
    role: str | None = None,
    resource_code: str | None = None,
    application_id: int | None = None,
) -> list[SharingRequest]:
    """Newest last; `role` = "provider" (my inbox) or "applicant" (my requests)."""
    stmt = (
        select(SharingRequest)
        .join(Application, Application.id == SharingRequest.application_id)
        .order_by(SharingRequest.id)
        .limit(limit)
    )
    if not user.roles & SEE_ALL:
        stmt = stmt.where(_visible(user))  # type: ignore[arg-type]
    if role == "provider":
        stmt = stmt.where(SharingRequest.provider_id == user.organization_id)
    elif role == "applicant":
        stmt = stmt.where(Application.organization_id == user.organization_id)
    if status is not None:
        stmt = stmt.where(SharingRequest.status == status)
    if overdue is True:
        stmt = stmt.where(
            SharingRequest.status == RequestStatus.pending, SharingRequest.deadline < today
        )
    elif overdue is False:
        stmt = stmt.where(
            or_(SharingRequest.status != RequestStatus.pending, SharingRequest.deadline >= today)
        )
    if resource_code:
        stmt = stmt.where(SharingRequest.resource_code == resource_code)
    if application_id is not None:
        stmt = stmt.where(SharingRequest.application_id == application_id)
    if after_id is not None:
        stmt = stmt.where(SharingRequest.id > after_id)
    return list(session.scalars(stmt))


def is_overdue(req: SharingRequest, today: date) -> bool:
    return req.status is RequestStatus.pending and req.deadline is not None and today > req.deadline


def overdue_by_provider(session: Session, today: date) -> list[tuple[str, str, int, int, int]]:
    """(provider code, name, pending, overdue now, decided late) for every provider with
    requests: what the evaluation of departments counts against them."""
    pending = SharingRequest.status == RequestStatus.pending
    stmt = (
        select(
            Organization.code,
            Organization.name_zh,
            func.sum(case((pending, 1), else_=0)),
            func.sum(case((and_(pending, SharingRequest.deadline < today), 1), else_=0)),
            func.sum(case((SharingRequest.decided_late.is_(True), 1), else_=0)),
        )
        .join(Organization, Organization.id == SharingRequest.provider_id)
        .group_by(Organization.code, Organization.name_zh)
        .order_by(Organization.code)
    )
    return [
        (c, n, int(p or 0), int(o or 0), int(late or 0))
        for c, n, p, o, late in session.execute(stmt)
    ]


# -- decisions ----------------------------------------------------------------------------


def check_decider(session: Session, user: User, req: SharingRequest) -> None:
    if Role.data_officer not in user.roles:
        raise Forbidden("deciding sharing requests needs the data_officer role")
    if user.organization_id != req.provider_id:
        provider = session.get(Organization, req.provider_id)
        who = f"{provider.name_zh} ({provider.code})" if provider else str(req.provider_id)
        raise Forbidden(
            f"request {req.id} asks for a resource of {who}; only its data officers decide it"
        )


def _pending_or_conflict(req: SharingRequest) -> None:
    if req.status is not RequestStatus.pending:
        raise Conflict(f"request {req.id} is already {req.status.value}")


def _decide(
    session: Session,
    user: User,
    req: SharingRequest,
    status: RequestStatus,
    reason: str,
    today: date,
) -> None:
    req.status = status
    req.decided_at = utcnow()
    req.decided_by_id = user.id
    req.reason = reason
    req.decided_late = req.deadline is not None and today > req.deadline
    session.flush()
    topic = (
        "gateway.request.approved"
        if status is RequestStatus.approved
        else "gateway.request.rejected"
    )
    payload = _event_payload(req) | {"decided_late": req.decided_late, "reason": reason}
    event = emit(session, topic, payload, actor=user.username)
    req.event_id = event.id
    audit.record(
        session,
        actor=user.username,
        organization_id=user.organization_id,
        action=f"gateway.request.{'approve' if status is RequestStatus.approved else 'reject'}",
        target=f"request:{req.id}",
        status=200,
        detail={"reason": reason, "decided_late": req.decided_late, "resource": req.resource_code},
    )


def approve(
    session: Session, user: User, req: SharingRequest, data: Approve, settings: Settings
) -> SharingRequest:
    calendar = Calendar.from_settings(settings)
    check_decider(session, user, req)
    _pending_or_conflict(req)
    clear = req.clear_items if data.clear_items is None else data.clear_items
    if extra := [c for c in clear if c not in req.clear_items]:
        raise ValidationFailed(
            f"clear_items: {', '.join(extra)} were not asked in clear text by the applicant"
        )
    end = data.period_end or req.period_end
    if end > req.period_end or end < req.period_start:
        raise ValidationFailed(
            f"period_end: must lie between {req.period_start} and {req.period_end}"
        )
    today = calendar.today()
    _decide(session, user, req, RequestStatus.approved, data.reason, today)
    grants.create(
        session,
        req,
        items=list(req.items),
        clear_items=[c for c in req.clear_items if c in clear],
        period_end=end,
        calendar=calendar,
        actor=user.username,
    )
    return req


def reject(
    session: Session, user: User, req: SharingRequest, reason: str, settings: Settings
) -> SharingRequest:
    check_decider(session, user, req)
    _pending_or_conflict(req)
    _decide(
        session, user, req, RequestStatus.rejected, reason, Calendar.from_settings(settings).today()
    )
    return req


def withdraw(session: Session, user: User, req: SharingRequest) -> SharingRequest:
    app = apps.get(session, req.application_id)
    apps.check_manage(user, app)
    _pending_or_conflict(req)
    req.status = RequestStatus.withdrawn
    req.decided_at = utcnow()
    session.flush()
    emit(session, "gateway.request.withdrawn", _event_payload(req), actor=user.username)
    return req


def working_days_left(req: SharingRequest, calendar: Calendar, today: date) -> int | None:
    if req.status is not RequestStatus.pending or req.deadline is None:
        return None
    if today > req.deadline:
        return -calendar.working_days_between(req.deadline, today)
    return calendar.working_days_between(today, req.deadline)


_ = timedelta
