"""Routes of the interface service (mounted under /api/v1): applications and their keys,
sharing requests and decisions, grants, usage. Thin: the logic is in the services."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from cityhub.errors import BadRequest
from cityhub.gateway import apps, grants, present, sample, usage
from cityhub.gateway import requests as sharing
from cityhub.gateway.models import Grant, RequestStatus
from cityhub.gateway.rows_api import router as rows_router
from cityhub.gateway.runtime import lifespan
from cityhub.gateway.schemas import (
    ApplicationCreate,
    ApplicationLimits,
    ApplicationPublic,
    ApplicationUpdate,
    Approve,
    GrantPublic,
    KeyCreate,
    KeyIssued,
    KeyPublic,
    ProviderOverdue,
    Reject,
    RequestCreate,
    RequestPublic,
    Revoke,
    SamplePublic,
    UsageReport,
)
from cityhub.gateway.workdays import Calendar
from cityhub.security import audit
from cityhub.security.deps import CurrentUser

router = APIRouter(lifespan=lifespan)
applications = APIRouter(prefix="/applications", tags=["applications"])
sharing_requests = APIRouter(prefix="/requests", tags=["sharing requests"])
grant_routes = APIRouter(prefix="/grants", tags=["sharing requests"])
usage_routes = APIRouter(prefix="/usage", tags=["usage"])


def _int_cursor(cursor: str | None) -> int | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], int):
        raise BadRequest("cursor is not one this server issued")
    return after[0]


# -- applications -------------------------------------------------------------------------


@applications.get("", response_model=Page[ApplicationPublic], summary="Applications (应用)")
def list_applications(
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    mine: Annotated[bool, Query(description="Only my organization's")] = False,
) -> Page[ApplicationPublic]:
    rows = apps.list_for(db, user, limit=limit + 1, after_id=_int_cursor(cursor), mine=mine)
    today = Calendar.from_settings(settings).today()
    items = [apps.public(db, a, today) for a in rows[:limit]]
    return Page(items=items, next=encode_cursor([items[-1].id]) if len(rows) > limit else None)


@applications.post("", response_model=ApplicationPublic, status_code=201, summary="Register")
def create_application(
    data: ApplicationCreate, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ApplicationPublic:
    app = apps.create(db, user, data, settings)
    return apps.public(db, app, Calendar.from_settings(settings).today())


@applications.get("/{app_id}", response_model=ApplicationPublic, summary="One application")
def get_application(
    app_id: int, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ApplicationPublic:
    return apps.public(db, apps.get(db, app_id, user), Calendar.from_settings(settings).today())


@applications.patch("/{app_id}", response_model=ApplicationPublic, summary="Change details")
def update_application(
    app_id: int, data: ApplicationUpdate, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ApplicationPublic:
    app = apps.update(db, user, apps.get(db, app_id, user), data)
    return apps.public(db, app, Calendar.from_settings(settings).today())


@applications.put(
    "/{app_id}/limits",
    response_model=ApplicationPublic,
    summary="Rate limit, daily quota, status (platform admin, operator)",
)
def set_limits(
    app_id: int, data: ApplicationLimits, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ApplicationPublic:
    app = apps.set_limits(db, user, apps.get(db, app_id, user), data)
    return apps.public(db, app, Calendar.from_settings(settings).today())


@applications.get("/{app_id}/keys", response_model=list[KeyPublic], summary="Keys")
def list_keys(app_id: int, db: SessionDep, user: CurrentUser) -> list[KeyPublic]:
    return apps.list_keys(db, user, apps.get(db, app_id, user))


@applications.post(
    "/{app_id}/keys", response_model=KeyIssued, status_code=201, summary="Issue a key (shown once)"
)
def issue_key(
    app_id: int, db: SessionDep, user: CurrentUser, data: KeyCreate | None = None
) -> KeyIssued:
    return apps.issue_key(db, user, apps.get(db, app_id, user), data.name if data else "")


@applications.post(
    "/{app_id}/keys/{key_id}/rotate",
    response_model=KeyIssued,
    status_code=201,
    summary="Rotate: a new key; the old one works for the grace period",
)
def rotate_key(
    app_id: int, key_id: int, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> KeyIssued:
    return apps.rotate_key(db, user, apps.get(db, app_id, user), key_id, settings)


@applications.delete("/{app_id}/keys/{key_id}", response_model=KeyPublic, summary="Revoke a key")
def revoke_key(app_id: int, key_id: int, db: SessionDep, user: CurrentUser) -> KeyPublic:
    return apps.revoke_key(db, user, apps.get(db, app_id, user), key_id)


# -- sharing requests ---------------------------------------------------------------------


def _one(db: SessionDep, settings: SettingsDep, req_id: int, user: CurrentUser) -> RequestPublic:
    calendar = Calendar.from_settings(settings)
    req = sharing.get(db, req_id, user)
    names = present.Names(db)
    return present.request_public(names, req, calendar, calendar.today(), with_ledger=True)


@sharing_requests.get("", response_model=Page[RequestPublic], summary="Sharing requests (共享申请)")
def list_requests(
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    status: RequestStatus | None = None,
    overdue: Annotated[bool | None, Query(description="Pending past their deadline")] = None,
    role: Annotated[
        str | None,
        Query(pattern="^(provider|applicant)$", description="provider: my inbox; applicant: mine"),
    ] = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    application: int | None = None,
) -> Page[RequestPublic]:
    calendar = Calendar.from_settings(settings)
    today = calendar.today()
    rows = sharing.list_for(
        db,
        user,
        limit=limit + 1,
        today=today,
        after_id=_int_cursor(cursor),
        status=status,
        overdue=overdue,
        role=role,
        resource_code=resource,
        application_id=application,
    )
    names = present.Names(db)
    items = [present.request_public(names, r, calendar, today) for r in rows[:limit]]
    return Page(items=items, next=encode_cursor([items[-1].id]) if len(rows) > limit else None)


@sharing_requests.post(
    "",
    response_model=RequestPublic,
    status_code=201,
    summary="Request a resource: 无条件共享 granted at once, 有条件共享 to the provider",
)
def create_request(
    data: RequestCreate, request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> RequestPublic:
    req = sharing.create(db, user, data, settings)
    audit.annotate(request, request_id=req.id, status=req.status.value)
    return _one(db, settings, req.id, user)


@sharing_requests.get(
    "/overdue-by-provider",
    response_model=list[ProviderOverdue],
    summary="Pending, overdue and late-decided requests per provider",
)
def overdue_by_provider(
    db: SessionDep, settings: SettingsDep, _user: CurrentUser
) -> list[ProviderOverdue]:
    today = Calendar.from_settings(settings).today()
    return [
        ProviderOverdue(provider=c, provider_name=n, pending=p, overdue=o, decided_late=late)
        for c, n, p, o, late in sharing.overdue_by_provider(db, today)
    ]


@sharing_requests.get("/{req_id}", response_model=RequestPublic, summary="One request")
def get_request(
    req_id: int, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> RequestPublic:
    return _one(db, settings, req_id, user)


@sharing_requests.post(
    "/{req_id}/approve", response_model=RequestPublic, summary="Approve (provider's data officer)"
)
def approve_request(
    req_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    data: Approve | None = None,
) -> RequestPublic:
    # Not filtered by visibility: another department's officer gets 403 naming the provider.
    req = sharing.approve(db, user, sharing.get(db, req_id), data or Approve(), settings)
    audit.annotate(request, request_id=req.id, decision="approved")
    return _one(db, settings, req.id, user)


@sharing_requests.post(
    "/{req_id}/reject", response_model=RequestPublic, summary="Reject with a reason"
)
def reject_request(
    req_id: int,
    data: Reject,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
) -> RequestPublic:
    req = sharing.reject(db, user, sharing.get(db, req_id), data.reason, settings)
    audit.annotate(request, request_id=req.id, decision="rejected")
    return _one(db, settings, req.id, user)


@sharing_requests.post(
    "/{req_id}/withdraw", response_model=RequestPublic, summary="Withdraw (the applicant)"
)
def withdraw_request(
    req_id: int, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> RequestPublic:
    req = sharing.withdraw(db, user, sharing.get(db, req_id, user))
    return _one(db, settings, req.id, user)


# -- grants -------------------------------------------------------------------------------


@grant_routes.get("", response_model=Page[GrantPublic], summary="Grants (授权)")
def list_grants(
    db: SessionDep,
    user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    application: int | None = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    active: Annotated[bool | None, Query(description="Only grants in force now")] = None,
) -> Page[GrantPublic]:
    rows = grants.list_for(
        db,
        user,
        limit=limit + 1,
        after_id=_int_cursor(cursor),
        application_id=application,
        resource_code=resource,
        active=active,
    )
    names = present.Names(db)
    items = [present.grant_public(names, g) for g in rows[:limit]]
    return Page(items=items, next=encode_cursor([items[-1].id]) if len(rows) > limit else None)


@grant_routes.get("/{grant_id}", response_model=GrantPublic, summary="One grant")
def get_grant(grant_id: int, db: SessionDep, user: CurrentUser) -> GrantPublic:
    grant = grants.get(db, grant_id)
    sharing.get(db, grant.request_id, user)  # visible like its request
    return present.grant_public(present.Names(db), grant, with_ledger=True)


@grant_routes.post("/{grant_id}/revoke", response_model=GrantPublic, summary="Revoke a grant")
def revoke_grant(
    grant_id: int, data: Revoke, request: Request, db: SessionDep, user: CurrentUser
) -> GrantPublic:
    grant: Grant = grants.revoke(db, user, grants.get(db, grant_id), data.reason)
    audit.annotate(request, grant_id=grant.id, decision="revoked")
    return present.grant_public(present.Names(db), grant, with_ledger=True)


# -- sample rows (the catalog page's twin) -------------------------------------------------


@router.get(
    "/resources/{code}/sample",
    response_model=SamplePublic,
    tags=["rows"],
    summary="A few rows as you may see them (provider, granted, preview or none)",
)
def resource_sample(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> SamplePublic:
    found = sample.metered(request.app, db, user, code, "sample")
    return SamplePublic(**found.__dict__)


# -- usage --------------------------------------------------------------------------------


@usage_routes.get("", response_model=UsageReport, summary="Metered calls, aggregated")
def usage_report(
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    since: date | None = None,
    until: date | None = None,
    group_by: Annotated[
        str | None, Query(description="Comma-separated: day, application, resource")
    ] = None,
    application: int | None = None,
    resource: Annotated[str | None, Query(max_length=64)] = None,
) -> UsageReport:
    return usage.report(
        db,
        user,
        today=Calendar.from_settings(settings).today(),
        since=since,
        until=until,
        group_by=usage.parse_groups(group_by),
        application_id=application,
        resource_code=resource,
    )


router.include_router(applications)
router.include_router(sharing_requests)
router.include_router(grant_routes)
router.include_router(usage_routes)
router.include_router(rows_router)
