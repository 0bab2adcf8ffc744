"""Routes of the operator's work under /api/v1/ops: incidents, emergency plans and drills,
construction projects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cityhub.core.deps import SessionDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, page_of
from cityhub.errors import BadRequest, Forbidden
from cityhub.ops import incidents, plans, projects, systems
from cityhub.ops.access import is_ops, require_read
from cityhub.ops.models import Plan
from cityhub.ops.schemas_work import (
    DrillCreate,
    DrillPublic,
    IncidentAction,
    IncidentAssign,
    IncidentClose,
    IncidentComment,
    IncidentCreate,
    IncidentDetail,
    IncidentPlanSet,
    IncidentPublic,
    IncidentResolve,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    ProjectAction,
    ProjectCreate,
    ProjectPublic,
    StepState,
)
from cityhub.ops.views import incident_board, incident_detail, incident_publics
from cityhub.ops.vocab import OPEN_STATUSES, EventKind, IncidentStatus, PlanLevel, ProjectStatus
from cityhub.security.deps import CurrentUser, require_roles
from cityhub.security.models import Role, User

router = APIRouter()


def reader(user: CurrentUser) -> User:
    require_read(user)
    return user


Reader = Annotated[User, Depends(reader)]
Operator = Annotated[User, Depends(require_roles(Role.platform_admin, Role.operator))]


def _detail(db: SessionDep, incident_id: int) -> IncidentDetail:
    return incident_detail(db, incidents.get_incident(db, incident_id))


# -- incidents ---------------------------------------------------------------------------------


@router.get("/incidents", response_model=Page[IncidentPublic], summary="Incidents, newest first")
def list_incidents(
    db: SessionDep,
    _user: Reader,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    status: Annotated[list[IncidentStatus] | None, Query()] = None,
    open: Annotated[bool, Query(description="Only opened, acknowledged or in progress")] = False,
    system: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[IncidentPublic]:
    after = decode_cursor(cursor)
    try:
        before_id = int(after[0]) if after else None
    except (TypeError, ValueError):
        raise BadRequest("cursor is not one this server issued") from None
    wanted = list(status or [])
    if open:
        wanted = [s for s in OPEN_STATUSES if not wanted or s in wanted]
    rows = incidents.list_incidents(
        db,
        limit=limit + 1,
        before_id=before_id,
        statuses=wanted,
        system=systems.get_system(db, system) if system else None,
    )
    publics = incident_publics(db, rows)
    return page_of(publics, limit, lambda p: p, lambda p: [p.id])


@router.get(
    "/incidents/board",
    response_model=dict[str, list[IncidentPublic]],
    summary="Incident board: incidents by status (JSON twin of /ops/incidents)",
)
def board(db: SessionDep, _user: Reader) -> dict[str, list[IncidentPublic]]:
    return incident_board(db)


@router.post("/incidents", response_model=IncidentDetail, status_code=201, summary="Open by hand")
def open_incident(data: IncidentCreate, db: SessionDep, user: CurrentUser) -> IncidentDetail:
    system = systems.get_system(db, data.system)
    own = Role.dept_admin in user.roles and user.organization_id == system.organization_id
    if not (is_ops(user) or own):
        raise Forbidden(
            "incidents are opened by operators, platform admins, or the department admin "
            "of the system's organization"
        )
    plan = plans.get_plan(db, data.plan) if data.plan else None
    incident = incidents.open_incident(
        db,
        system,
        title=data.title,
        description=data.description,
        event_kind=data.event_kind,
        actor=user.username,
        assignee=data.assignee,
        plan=plan,
    )
    return incident_detail(db, incident)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail, summary="One incident")
def get_incident(incident_id: int, db: SessionDep, _user: Reader) -> IncidentDetail:
    return _detail(db, incident_id)


def _move(
    db: SessionDep, incident_id: int, action: str, user: User, data: IncidentAction
) -> IncidentDetail:
    incident = incidents.get_incident(db, incident_id)
    cause = getattr(data, "cause", None)
    fix = getattr(data, "fix", None)
    incidents.transition(
        db, incident, action, user.username, note=data.note, cause=cause or None, fix=fix or None
    )
    return incident_detail(db, incident)


@router.post("/incidents/{incident_id}/acknowledge", response_model=IncidentDetail)
def acknowledge(
    incident_id: int, db: SessionDep, user: Operator, data: IncidentAction | None = None
) -> IncidentDetail:
    return _move(db, incident_id, "acknowledge", user, data or IncidentAction())


@router.post("/incidents/{incident_id}/start", response_model=IncidentDetail)
def start(
    incident_id: int, db: SessionDep, user: Operator, data: IncidentAction | None = None
) -> IncidentDetail:
    return _move(db, incident_id, "start", user, data or IncidentAction())


@router.post("/incidents/{incident_id}/resolve", response_model=IncidentDetail)
def resolve(
    incident_id: int, data: IncidentResolve, db: SessionDep, user: Operator
) -> IncidentDetail:
    return _move(db, incident_id, "resolve", user, data)


@router.post("/incidents/{incident_id}/close", response_model=IncidentDetail)
def close(
    incident_id: int, db: SessionDep, user: Operator, data: IncidentClose | None = None
) -> IncidentDetail:
    return _move(db, incident_id, "close", user, data or IncidentClose())


@router.post("/incidents/{incident_id}/reopen", response_model=IncidentDetail)
def reopen(
    incident_id: int, db: SessionDep, user: Operator, data: IncidentAction | None = None
) -> IncidentDetail:
    return _move(db, incident_id, "reopen", user, data or IncidentAction())


@router.post("/incidents/{incident_id}/assign", response_model=IncidentDetail)
def assign(
    incident_id: int, data: IncidentAssign, db: SessionDep, user: Operator
) -> IncidentDetail:
    incident = incidents.get_incident(db, incident_id)
    incidents.assign(db, incident, data.assignee, user.username, data.note)
    return incident_detail(db, incident)


@router.post("/incidents/{incident_id}/comments", response_model=IncidentDetail)
def add_comment(
    incident_id: int, data: IncidentComment, db: SessionDep, user: Operator
) -> IncidentDetail:
    incident = incidents.get_incident(db, incident_id)
    incidents.comment(db, incident, data.note, user.username)
    return incident_detail(db, incident)


@router.put("/incidents/{incident_id}/plan", response_model=IncidentDetail)
def set_plan(
    incident_id: int, data: IncidentPlanSet, db: SessionDep, user: Operator
) -> IncidentDetail:
    incident = incidents.get_incident(db, incident_id)
    incidents.set_plan(db, incident, data.plan, user.username)
    return incident_detail(db, incident)


@router.post(
    "/incidents/{incident_id}/steps/{key}",
    response_model=StepState,
    summary="Record a plan step as done (its dependencies first)",
)
def complete_step(
    incident_id: int,
    key: str,
    db: SessionDep,
    user: Operator,
    data: IncidentAction | None = None,
) -> StepState:
    incident = incidents.get_incident(db, incident_id)
    note = data.note if data else ""
    return incidents.complete_step(db, incident, key, user.username, note)


# -- plans ---------------------------------------------------------------------------------------


@router.get("/plans", response_model=Page[PlanPublic], summary="Emergency plans (应急预案)")
def list_plans(
    db: SessionDep,
    _user: Reader,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    level: PlanLevel | None = None,
    event_kind: EventKind | None = None,
    system: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[PlanPublic]:
    after = decode_cursor(cursor)
    rows = plans.list_plans(
        db,
        limit=limit + 1,
        after=str(after[0]) if after else None,
        level=level,
        event_kind=event_kind,
        system=system,
    )
    stats = plans.drill_stats(db, [p.id for p in rows])
    return page_of(
        rows,
        limit,
        lambda p: plans.plan_public(p, stats.get(p.id, (0, None))),
        lambda p: [p.code],
    )


@router.post("/plans", response_model=PlanPublic, status_code=201, summary="Add a plan")
def create_plan(data: PlanCreate, db: SessionDep, user: Operator) -> PlanPublic:
    return plans.plan_public(plans.create_plan(db, data, user.username))


def _plan_public(db: SessionDep, plan: Plan) -> PlanPublic:
    return plans.plan_public(plan, plans.drill_stats(db, [plan.id]).get(plan.id, (0, None)))


@router.get("/plans/{code}", response_model=PlanPublic, summary="One plan, steps in order")
def get_plan(code: str, db: SessionDep, _user: Reader) -> PlanPublic:
    return _plan_public(db, plans.get_plan(db, code))


@router.patch("/plans/{code}", response_model=PlanPublic, summary="Change a plan")
def update_plan(code: str, data: PlanUpdate, db: SessionDep, user: Operator) -> PlanPublic:
    plan = plans.update_plan(db, plans.get_plan(db, code), data, user.username)
    return _plan_public(db, plan)


@router.get("/plans/{code}/drills", response_model=list[DrillPublic], summary="A plan's drills")
def list_drills(code: str, db: SessionDep, _user: Reader) -> list[DrillPublic]:
    return [DrillPublic.model_validate(d) for d in plans.list_drills(db, plans.get_plan(db, code))]


@router.post(
    "/plans/{code}/drills", response_model=DrillPublic, status_code=201, summary="Record a drill"
)
def record_drill(code: str, data: DrillCreate, db: SessionDep, user: Operator) -> DrillPublic:
    drill = plans.record_drill(db, plans.get_plan(db, code), data, user.username)
    return DrillPublic.model_validate(drill)


# -- construction projects ----------------------------------------------------------------------


@router.get("/projects", response_model=Page[ProjectPublic], summary="Construction projects")
def list_projects(
    db: SessionDep,
    _user: Reader,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    status: ProjectStatus | None = None,
) -> Page[ProjectPublic]:
    after = decode_cursor(cursor)
    rows = projects.list_projects(
        db, limit=limit + 1, after=str(after[0]) if after else None, status=status
    )
    return page_of(rows, limit, lambda p: projects.project_public(db, p), lambda p: [p.code])


@router.post(
    "/projects",
    response_model=ProjectPublic,
    status_code=201,
    summary="A department's requirement (dept admin or platform admin)",
)
def create_project(data: ProjectCreate, db: SessionDep, user: CurrentUser) -> ProjectPublic:
    return projects.project_public(db, projects.create_project(db, data, user))


@router.get("/projects/{code}", response_model=ProjectPublic, summary="One project")
def get_project(code: str, db: SessionDep, _user: Reader) -> ProjectPublic:
    return projects.project_public(db, projects.get_project(db, code))


@router.post(
    "/projects/{code}/{action}",
    response_model=ProjectPublic,
    summary="approve | reject (platform admin), start (operator), accept | cancel "
    "(the department admin)",
)
def act_on_project(
    code: str,
    action: str,
    db: SessionDep,
    user: CurrentUser,
    data: ProjectAction | None = None,
) -> ProjectPublic:
    project = projects.get_project(db, code)
    projects.act(db, project, action, user, data.note if data else "")
    return projects.project_public(db, project)
