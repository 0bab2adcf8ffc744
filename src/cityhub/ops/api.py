"""Routes of operations under /api/v1/ops: systems, probes, results, availability, the
system map and the scheduler. Incidents, plans and projects are in api_work.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, page_of
from cityhub.core.scheduler import scheduler_of
from cityhub.errors import BadRequest
from cityhub.ops import availability, runner, systems
from cityhub.ops.access import require_read
from cityhub.ops.api_work import router as work_router
from cityhub.ops.checks import CheckContext
from cityhub.ops.models import MonitoredSystem, ProbeResult
from cityhub.ops.runtime import context_of
from cityhub.ops.schemas import (
    AvailabilityReport,
    OpsOverview,
    ProbeCreate,
    ProbePublic,
    ProbeResultPublic,
    ProbeUpdate,
    SystemCreate,
    SystemMonth,
    SystemPublic,
    SystemUpdate,
)
from cityhub.ops.views import build_overview
from cityhub.ops.vocab import SystemKind, SystemStatus
from cityhub.security.deps import CurrentUser, require_roles
from cityhub.security.models import Role, User

router = APIRouter(prefix="/ops", tags=["operations"])


def reader(user: CurrentUser) -> User:
    require_read(user)
    return user


def context(request: Request) -> CheckContext:
    return context_of(request.app)


Reader = Annotated[User, Depends(reader)]
Operator = Annotated[User, Depends(require_roles(Role.platform_admin, Role.operator))]
Context = Annotated[CheckContext, Depends(context)]
MonthParam = Annotated[
    str | None, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default this month")
]


def _public(db: SessionDep, system: MonitoredSystem) -> SystemPublic:
    counts = systems.open_incident_counts(db, [system.id])
    return systems.system_public(system, counts.get(system.id, 0))


@router.get("/overview", response_model=OpsOverview, summary="System map: status of every system")
def overview(db: SessionDep, settings: SettingsDep, _user: Reader) -> OpsOverview:
    return build_overview(db, settings.local_timezone)


@router.get("/systems", response_model=Page[SystemPublic], summary="Monitored systems (业务系统)")
def list_systems(
    db: SessionDep,
    _user: Reader,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    kind: SystemKind | None = None,
    status: SystemStatus | None = None,
    organization: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=64, description="Name or code contains")] = None,
) -> Page[SystemPublic]:
    after = decode_cursor(cursor)
    rows = systems.list_systems(
        db,
        limit=limit + 1,
        after=str(after[0]) if after else None,
        kind=kind,
        status=status,
        organization=organization,
        q=q,
    )
    counts = systems.open_incident_counts(db, [s.id for s in rows])
    return page_of(
        rows, limit, lambda s: systems.system_public(s, counts.get(s.id, 0)), lambda s: [s.code]
    )


@router.post("/systems", response_model=SystemPublic, status_code=201, summary="Register a system")
def create_system(data: SystemCreate, db: SessionDep, user: Operator) -> SystemPublic:
    return _public(db, systems.create_system(db, data, user.username))


@router.get("/systems/{code}", response_model=SystemPublic, summary="One system with its probes")
def get_system(code: str, db: SessionDep, _user: Reader) -> SystemPublic:
    return _public(db, systems.get_system(db, code))


@router.patch("/systems/{code}", response_model=SystemPublic, summary="Change a system")
def update_system(code: str, data: SystemUpdate, db: SessionDep, user: Operator) -> SystemPublic:
    system = systems.update_system(db, systems.get_system(db, code), data, user.username)
    return _public(db, system)


@router.get("/systems/{code}/availability", response_model=SystemMonth, summary="A system's month")
def system_availability(
    code: str, db: SessionDep, settings: SettingsDep, _user: Reader, month: MonthParam = None
) -> SystemMonth:
    system = systems.get_system(db, code)
    year, mon = availability.parse_month(month, settings.local_timezone)
    report = availability.month_report(db, year, mon, settings.local_timezone, systems=[system])
    return report.systems[0]


@router.get(
    "/availability",
    response_model=AvailabilityReport,
    summary="Availability and SLA of every system, per day and for the month",
)
def availability_report(
    db: SessionDep,
    settings: SettingsDep,
    _user: Reader,
    month: MonthParam = None,
    kind: SystemKind | None = None,
) -> AvailabilityReport:
    year, mon = availability.parse_month(month, settings.local_timezone)
    chosen = None
    if kind is not None:
        chosen = systems.list_systems(db, limit=100_000, kind=kind)
    return availability.month_report(db, year, mon, settings.local_timezone, systems=chosen)


# -- probes -----------------------------------------------------------------------------------


@router.get("/systems/{code}/probes", response_model=list[ProbePublic], summary="A system's probes")
def list_probes(code: str, db: SessionDep, _user: Reader) -> list[ProbePublic]:
    return [systems.probe_public(p) for p in systems.get_system(db, code).probes]


@router.post(
    "/systems/{code}/probes", response_model=ProbePublic, status_code=201, summary="Add a probe"
)
def add_probe(
    code: str, data: ProbeCreate, db: SessionDep, ctx: Context, user: Operator
) -> ProbePublic:
    probe = systems.add_probe(db, systems.get_system(db, code), data, ctx.settings, user.username)
    return systems.probe_public(probe)


@router.get("/probes/{probe_id}", response_model=ProbePublic, summary="One probe")
def get_probe(probe_id: int, db: SessionDep, _user: Reader) -> ProbePublic:
    return systems.probe_public(systems.get_probe(db, probe_id))


@router.patch("/probes/{probe_id}", response_model=ProbePublic, summary="Change a probe")
def update_probe(probe_id: int, data: ProbeUpdate, db: SessionDep, user: Operator) -> ProbePublic:
    probe = systems.update_probe(db, systems.get_probe(db, probe_id), data, user.username)
    return systems.probe_public(probe)


@router.delete("/probes/{probe_id}", status_code=204, summary="Remove a probe and its results")
def delete_probe(probe_id: int, db: SessionDep, user: Operator) -> Response:
    systems.delete_probe(db, systems.get_probe(db, probe_id), user.username)
    return Response(status_code=204)


@router.post(
    "/probes/{probe_id}/run",
    response_model=ProbeResultPublic,
    summary="Run a probe now (bounded by its timeout) and record the result",
)
def run_probe(probe_id: int, db: SessionDep, ctx: Context, _user: Operator) -> ProbeResultPublic:
    spec = runner.spec_of(systems.get_probe(db, probe_id))
    runner.run_now(ctx, spec, db)
    row = db.scalars(
        select(ProbeResult)
        .where(ProbeResult.probe_id == probe_id)
        .order_by(ProbeResult.id.desc())
        .limit(1)
    ).one()
    return ProbeResultPublic.model_validate(row)


@router.get(
    "/probes/{probe_id}/results",
    response_model=Page[ProbeResultPublic],
    summary="A probe's results, newest first",
)
def probe_results(
    probe_id: int,
    db: SessionDep,
    _user: Reader,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
) -> Page[ProbeResultPublic]:
    systems.get_probe(db, probe_id)
    after = decode_cursor(cursor)
    stmt = (
        select(ProbeResult)
        .where(ProbeResult.probe_id == probe_id)
        .order_by(ProbeResult.id.desc())
        .limit(limit + 1)
    )
    if after:
        try:
            stmt = stmt.where(ProbeResult.id < int(after[0]))
        except (TypeError, ValueError):
            raise BadRequest("cursor is not one this server issued") from None
    rows = db.scalars(stmt).all()
    return page_of(rows, limit, ProbeResultPublic.model_validate, lambda r: [r.id])


# -- scheduler ---------------------------------------------------------------------------------


class JobPublic(BaseModel):
    name: str
    interval: float
    timeout: float
    exclusive: bool
    running: bool
    running_seconds: float | None
    abandoned_running: bool
    runs: int
    failures: int
    timeouts: int
    skipped: int
    last_status: str
    last_error: str
    last_started: datetime | None
    last_finished: datetime | None
    last_duration_ms: float | None


class SchedulerPublic(BaseModel):
    running: bool
    owner: str
    started_at: datetime | None
    last_tick: datetime | None
    workers: int
    abandoned_threads: int
    jobs: list[JobPublic]


@router.get("/scheduler", response_model=SchedulerPublic, summary="The in-process scheduler")
def scheduler_status(request: Request, _user: Reader) -> SchedulerPublic:
    scheduler = scheduler_of(request.app)
    return SchedulerPublic(
        running=scheduler.running,
        owner=scheduler.owner,
        started_at=scheduler.started_at,
        last_tick=scheduler.last_tick,
        workers=scheduler.pool.threads,
        abandoned_threads=scheduler.pool.abandoned,
        jobs=[JobPublic(**vars(job)) for job in scheduler.status()],
    )


router.include_router(work_router)
