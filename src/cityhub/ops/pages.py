"""Console pages of operations: system map, availability, incident board and incident,
plan library and plan, project board. Each has a JSON twin under /api/v1/ops."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.times import as_utc
from cityhub.directory.models import Region
from cityhub.errors import CityHubError
from cityhub.ops import availability, incidents, plans, projects
from cityhub.ops.access import READ_ROLES
from cityhub.ops.durations import format_duration
from cityhub.ops.views import build_overview, incident_board, incident_detail
from cityhub.ops.vocab import IncidentStatus, ProjectStatus, SystemKind
from cityhub.security.deps import OptionalUser
from cityhub.security.models import User
from cityhub.settings import Settings
from cityhub.web.i18n import t
from cityhub.web.pages import _lang, login_redirect, render

router = APIRouter(include_in_schema=False)
BOARD_PROJECTS = (
    ProjectStatus.requirement,
    ProjectStatus.approved,
    ProjectStatus.implementing,
    ProjectStatus.accepted,
)


def _percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def _local(settings: Settings) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(settings.local_timezone)

    def when(value: datetime | None) -> str:
        moment = as_utc(value)
        return "—" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    return when


def _page(
    request: Request,
    db: SessionDep,
    settings: Settings,
    user: User | None,
    template: str,
    section: str,
    **context: Any,
) -> HTMLResponse:
    return render(
        request,
        settings,
        template,
        user=user,
        city=db.get(Region, settings.city_code),
        section=section,
        percent=_percent,
        duration=format_duration,
        when=_local(settings),
        **context,
    )


def _refused(
    request: Request, db: SessionDep, settings: Settings, user: User | None
) -> Response | None:
    """To the login form for anonymous callers, the error page for roles without access,
    else None."""
    if user is None:
        return login_redirect(request)
    if user.roles & READ_ROLES:
        return None
    lang, _ = _lang(request, settings)
    return render(
        request,
        settings,
        "error.html",
        user=user,
        city=db.get(Region, settings.city_code),
        status=403,
        message=t("ops.forbidden", lang),
    )


def _failed(
    request: Request, db: SessionDep, settings: Settings, user: User | None, exc: CityHubError
) -> HTMLResponse:
    return render(
        request,
        settings,
        "error.html",
        user=user,
        city=db.get(Region, settings.city_code),
        status=exc.status,
        message=exc.detail,
    )


@router.get("/ops", response_class=HTMLResponse)
def system_map(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    overview = build_overview(db, settings.local_timezone)
    return _page(
        request,
        db,
        settings,
        user,
        "ops_map.html",
        "map",
        overview=overview,
        kinds=list(SystemKind),
    )


@router.get("/ops/availability", response_class=HTMLResponse)
def availability_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    month: str = "",
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    try:
        year, mon = availability.parse_month(month[:7] or None, settings.local_timezone)
    except CityHubError as exc:
        return _failed(request, db, settings, user, exc)
    report = availability.month_report(db, year, mon, settings.local_timezone)
    return _page(
        request, db, settings, user, "ops_availability.html", "availability", report=report
    )


@router.get("/ops/incidents", response_class=HTMLResponse)
def incidents_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    board = incident_board(db)
    return _page(
        request,
        db,
        settings,
        user,
        "ops_incidents.html",
        "incidents",
        board=board,
        columns=list(IncidentStatus),
    )


@router.get("/ops/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(
    incident_id: int, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    try:
        detail = incident_detail(db, incidents.get_incident(db, incident_id))
    except CityHubError as exc:
        return _failed(request, db, settings, user, exc)
    return _page(request, db, settings, user, "ops_incident.html", "incidents", incident=detail)


@router.get("/ops/plans", response_class=HTMLResponse)
def plans_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    rows = plans.list_plans(db, limit=1000)
    stats = plans.drill_stats(db, [p.id for p in rows])
    library = [plans.plan_public(p, stats.get(p.id, (0, None))) for p in rows]
    return _page(request, db, settings, user, "ops_plans.html", "plans", plans=library)


@router.get("/ops/plans/{code}", response_class=HTMLResponse)
def plan_page(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    try:
        plan = plans.get_plan(db, code)
    except CityHubError as exc:
        return _failed(request, db, settings, user, exc)
    public = plans.plan_public(plan, plans.drill_stats(db, [plan.id]).get(plan.id, (0, None)))
    drills = plans.list_drills(db, plan)
    return _page(request, db, settings, user, "ops_plan.html", "plans", plan=public, drills=drills)


@router.get("/ops/projects", response_class=HTMLResponse)
def projects_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if refused := _refused(request, db, settings, user):
        return refused
    rows = [projects.project_public(db, p) for p in projects.list_projects(db, limit=1000)]
    columns = {s.value: [p for p in rows if p.status == s] for s in BOARD_PROJECTS}
    ended = [p for p in rows if p.status not in BOARD_PROJECTS]
    return _page(
        request,
        db,
        settings,
        user,
        "ops_projects.html",
        "projects",
        columns=columns,
        ended=ended,
    )
