"""Portal pages of sharing: my requests (/requests), the data officers' approval inbox
(/inbox, overdue first and highlighted), usage charts (/usage) and a resource's sample
rows (/sample/{code}). JSON twins: /api/v1/requests, /api/v1/usage,
/api/v1/resources/{code}/sample."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.errors import CityHubError, ValidationFailed
from cityhub.gateway import apps, present, sample, usage
from cityhub.gateway import requests as sharing
from cityhub.gateway.models import RequestStatus
from cityhub.gateway.pages import Text, _first, attempt, page, refused
from cityhub.gateway.schemas import Approve, RequestCreate
from cityhub.gateway.workdays import Calendar
from cityhub.security.models import Role, User
from cityhub.settings import Settings
from cityhub.web.deps import PageUser
from cityhub.web.pages import csrf_valid

router = APIRouter(include_in_schema=False)


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]


def _requests_page(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    *,
    error: str = "",
    flash: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    calendar = Calendar.from_settings(settings)
    today = calendar.today()
    rows = sharing.list_for(db, user, limit=200, today=today, role="applicant")
    names = present.Names(db)
    return page(
        request,
        db,
        settings,
        user,
        "gateway/requests.html",
        status=status,
        requests=[present.request_public(names, r, calendar, today) for r in reversed(rows)],
        my_apps=apps.list_for(db, user, limit=200, mine=True),
        can_request=Role.developer in user.roles,
        error=error,
        flash=flash,
        form=form or {"resource": request.query_params.get("resource", "")[:64]},
        default_end=(today + timedelta(days=365)).isoformat(),
        tab="requests",
    )


@router.get("/requests", response_class=HTMLResponse)
def requests_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    return _requests_page(request, db, settings, user)


@router.post("/requests", response_class=HTMLResponse)
def make_request(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    application_id: Annotated[str, Form(max_length=20)] = "",
    resource: Annotated[str, Form(max_length=64)] = "",
    items: Text = "",
    clear_items: Text = "",
    purpose: Text = "",
    period_end: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Text = "",
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return refused(request, db, settings, user)
    form = {
        "application_id": application_id,
        "resource": resource.strip(),
        "items": items,
        "clear_items": clear_items,
        "purpose": purpose,
        "period_end": period_end,
    }
    try:
        data = RequestCreate.model_validate(
            {
                "application_id": application_id or "0",
                "resource_code": resource.strip(),
                "items": _split(items) or None,
                "clear_items": _split(clear_items),
                "purpose": purpose,
                "period_end": period_end or None,
            }
        )
        with attempt(db):
            made = sharing.create(db, user, data, settings)
    except CityHubError as exc:
        return _requests_page(
            request, db, settings, user, error=exc.detail, status=exc.status, form=form
        )
    except ValueError as exc:
        return _requests_page(request, db, settings, user, error=_first(exc), status=422, form=form)
    return _requests_page(
        request, db, settings, user, flash=f"#{made.id} {made.status.value}", status=201
    )


@router.post("/requests/{req_id}/withdraw", response_class=HTMLResponse)
def withdraw(
    req_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    csrf_token: Text = "",
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return refused(request, db, settings, user)
    try:
        with attempt(db):
            sharing.withdraw(db, user, sharing.get(db, req_id, user))
    except CityHubError as exc:
        return _requests_page(request, db, settings, user, error=exc.detail, status=exc.status)
    return RedirectResponse("/requests", status_code=303)


# -- the approval inbox -------------------------------------------------------------------


def _inbox_page(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    *,
    error: str = "",
    flash: str = "",
    status: int = 200,
) -> HTMLResponse:
    calendar = Calendar.from_settings(settings)
    today = calendar.today()
    names = present.Names(db)
    pending = sharing.list_for(
        db, user, limit=500, today=today, role="provider", status=RequestStatus.pending
    )
    shown = [present.request_public(names, r, calendar, today) for r in pending]
    shown.sort(key=lambda r: (not r.overdue, r.deadline or today, r.id))  # overdue first
    decided = [
        present.request_public(names, r, calendar, today)
        for r in sharing.list_for(db, user, limit=500, today=today, role="provider")
        if r.status is not RequestStatus.pending
    ][-20:]
    return page(
        request,
        db,
        settings,
        user,
        "gateway/inbox.html",
        status=status,
        pending=shown,
        decided=list(reversed(decided)),
        overdue=sum(1 for r in shown if r.overdue),
        can_decide=Role.data_officer in user.roles,
        error=error,
        flash=flash,
        tab="inbox",
    )


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, db: SessionDep, settings: SettingsDep, user: PageUser) -> Response:
    return _inbox_page(request, db, settings, user)


@router.post("/inbox/{req_id}/{decision}", response_class=HTMLResponse)
def decide(
    req_id: int,
    decision: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    reason: Text = "",
    csrf_token: Text = "",
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return refused(request, db, settings, user)
    try:
        with attempt(db):
            req = sharing.get(db, req_id)
            if decision == "approve":
                sharing.approve(db, user, req, Approve(reason=reason.strip()), settings)
            elif decision == "reject":
                if not reason.strip():
                    raise ValidationFailed("reason: a rejection needs a reason")
                sharing.reject(db, user, req, reason.strip(), settings)
            else:
                raise ValidationFailed(f"unknown decision {decision!r}")
    except CityHubError as exc:
        return _inbox_page(request, db, settings, user, error=exc.detail, status=exc.status)
    return _inbox_page(request, db, settings, user, flash=f"#{req_id} {decision}")


# -- usage charts -------------------------------------------------------------------------


@router.get("/usage", response_class=HTMLResponse)
def usage_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    days: int = 30,
) -> Response:
    today = Calendar.from_settings(settings).today()
    since = today - timedelta(days=max(1, min(days, usage.MAX_DAYS)) - 1)
    try:
        by_day = usage.report(db, user, today=today, since=since, group_by=["day"])
        by_app = usage.report(db, user, today=today, since=since, group_by=["application"])
        by_resource = usage.report(db, user, today=today, since=since, group_by=["resource"])
    except CityHubError as exc:
        return page(
            request, db, settings, user, "error.html", status=exc.status, message=exc.detail
        )
    series = _daily_series(since, today, {r.day: r for r in by_day.items if r.day})
    return page(
        request,
        db,
        settings,
        user,
        "gateway/usage.html",
        by_day=by_day,
        by_app=by_app,
        by_resource=by_resource,
        chart=json.dumps(series, ensure_ascii=False),
        peak=max([d["calls"] for d in series] or [0]),
        series=series,
        days=days,
        tab="usage",
    )


def _daily_series(since: date, until: date, rows: dict[date, Any]) -> list[dict[str, Any]]:
    out = []
    day = since
    while day <= until:
        row = rows.get(day)
        out.append(
            {
                "day": day.isoformat(),
                "calls": getattr(row, "calls", 0),
                "errors": getattr(row, "errors", 0),
                "rows": getattr(row, "rows", 0),
            }
        )
        day += timedelta(days=1)
    return out


# -- sample rows (the catalog page's panel, without JavaScript) ----------------------------


@router.get("/sample/{code}", response_class=HTMLResponse)
def sample_page(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    try:
        found = sample.metered(request.app, db, user, code, "sample_page")
    except CityHubError as exc:
        return page(
            request, db, settings, user, "error.html", status=exc.status, message=exc.detail
        )
    return page(request, db, settings, user, "gateway/sample.html", sample=found, tab="")
