"""Construction projects (建设项目, guideline 4.2.2 and 5.3.2.1): a department states a
requirement, the big data bureau approves it, the operating company builds it, the
department accepts it; on acceptance the system joins the monitored systems and its data
resources join the catalog as drafts (when the catalog is installed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.ops import integrations
from cityhub.ops.access import is_ops
from cityhub.ops.models import MonitoredSystem, Project, ProjectEvent
from cityhub.ops.schemas import SystemCreate
from cityhub.ops.schemas_work import ProjectCreate, ProjectPublic, ProjectStep, ProjectSystem
from cityhub.ops.systems import create_system, org_by_code
from cityhub.ops.vocab import Connection, Criticality, ProjectStatus, SystemKind
from cityhub.security.models import Role, User

P = ProjectStatus
# action: (from statuses, to status, who: "admin" | "ops" | "requester" | "owner")
MOVES: dict[str, tuple[tuple[P, ...], P, str]] = {
    "approve": ((P.requirement,), P.approved, "admin"),
    "reject": ((P.requirement,), P.rejected, "admin"),
    "start": ((P.approved,), P.implementing, "ops"),
    "accept": ((P.implementing,), P.accepted, "requester"),
    "cancel": ((P.requirement, P.approved), P.cancelled, "owner"),
}
PAST = {
    "approve": "approved",
    "reject": "rejected",
    "start": "started",
    "accept": "accepted",
    "cancel": "cancelled",
}


def get_project(session: Session, code: str) -> Project:
    project = session.scalar(select(Project).where(Project.code == code))
    if project is None:
        raise NotFound(f"no construction project {code!r}")
    return project


def list_projects(
    session: Session, *, limit: int, after: str | None = None, status: P | None = None
) -> Sequence[Project]:
    stmt = select(Project).order_by(Project.code).limit(limit)
    if after:
        stmt = stmt.where(Project.code > after)
    if status:
        stmt = stmt.where(Project.status == status.value)
    return session.scalars(stmt).unique().all()


def _is_admin(user: User) -> bool:
    return Role.platform_admin in user.roles


def _dept_admin_of(user: User, org_id: int) -> bool:
    return Role.dept_admin in user.roles and user.organization_id == org_id


def _catalog_body(resource: dict[str, Any], org: Organization) -> Any | None:
    """The resource as a catalog ResourceCreate (provider = the department), checked now so
    acceptance cannot fail on it later; None without the catalog."""
    schemas = integrations.module("catalog.schemas")
    if schemas is None or not hasattr(schemas, "ResourceCreate"):
        if not isinstance(resource.get("code"), str) or not isinstance(resource.get("name"), str):
            raise ValidationFailed("every planned resource needs at least a code and a name")
        return None
    try:
        body = schemas.ResourceCreate.model_validate({**resource, "provider": org.code})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        code = resource.get("code", "?")
        raise ValidationFailed(f"resource {code}: {where}: {message}") from None
    codes = integrations.module("catalog.codes")
    problem = codes.problems(body.code, body.category, org.code) if codes is not None else None
    if problem:
        raise ValidationFailed(f"resource {body.code}: {problem}")
    return body


def create_project(session: Session, data: ProjectCreate, user: User) -> Project:
    org_code = data.organization or user.organization.code
    org = org_by_code(session, org_code)
    if not (_is_admin(user) or _dept_admin_of(user, org.id)):
        raise Forbidden(
            f"a project of {org.code} is requested by its department admin or a platform admin"
        )
    if session.scalar(select(Project.id).where(Project.code == data.code)):
        raise Conflict(f"a construction project {data.code!r} already exists")
    if session.scalar(select(MonitoredSystem.id).where(MonitoredSystem.code == data.system.code)):
        raise Conflict(f"system code {data.system.code!r} is already a monitored system")
    codes = [r.get("code") for r in data.resources]
    if len(set(map(str, codes))) != len(codes):
        raise ValidationFailed("a planned resource code is listed twice")
    for resource in data.resources:
        _catalog_body(resource, org)
    now = utcnow()
    project = Project(
        code=data.code,
        name=data.name,
        organization_id=org.id,
        requirement=data.requirement,
        budget_wan=data.budget_wan,
        status=P.requirement.value,
        system_code=data.system.code,
        system_name_zh=data.system.name_zh,
        system_name_en=data.system.name_en,
        system_kind=data.system.kind.value,
        criticality=data.system.criticality.value,
        connection=data.system.connection.value,
        system_url=data.system.url,
        resources=data.resources,
        catalog_codes=[],
        planned_finish=data.planned_finish,
        requested_at=now,
        created_by=user.username,
        updated_at=now,
    )
    project.organization = org
    session.add(project)
    session.flush()
    _step(session, project, user.username, "requested", None, "")
    emit(
        session,
        "ops.project.requested",
        {"code": project.code, "organization": org.code},
        user.username,
    )
    return project


def _step(
    session: Session, project: Project, actor: str, action: str, before: str | None, note: str
) -> None:
    session.add(
        ProjectEvent(
            project_id=project.id,
            at=utcnow(),
            actor=actor,
            action=action,
            from_status=before,
            to_status=project.status,
            note=note,
        )
    )


def _allowed(user: User, who: str, project: Project) -> bool:
    if _is_admin(user):
        return True
    if who == "ops":
        return is_ops(user)
    if who in ("requester", "owner"):
        return _dept_admin_of(user, project.organization_id)
    return False


def act(session: Session, project: Project, action: str, user: User, note: str = "") -> Project:
    move = MOVES.get(action)
    if move is None:
        raise ValidationFailed(f"unknown project action {action!r}; use {', '.join(MOVES)}")
    sources, target, who = move
    status = P(project.status)
    if status not in sources:
        allowed = " or ".join(s.value for s in sources)
        raise Conflict(
            f"project {project.code} is {status.value}; it can be {PAST[action]} only when "
            f"{allowed}"
        )
    if not _allowed(user, who, project):
        holder = {
            "admin": "a platform admin",
            "ops": "the operating company (operator)",
            "requester": f"the department admin of {project.organization.code}",
            "owner": f"the department admin of {project.organization.code}",
        }[who]
        raise Forbidden(f"only {holder} may {action} project {project.code}")
    if action == "reject" and not note:
        raise ValidationFailed("rejecting a project needs the reason (note)")
    now = utcnow()
    if action == "accept":
        _join_operations(session, project, user)
        project.accepted_at = project.ended_at = now
    elif action == "approve":
        project.approved_at = now
    elif action == "start":
        project.started_at = now
    else:
        project.ended_at = now
    project.status = target.value
    project.updated_at = now
    if note:
        project.note = note
    _step(session, project, user.username, PAST[action], status.value, note)
    emit(
        session,
        f"ops.project.{PAST[action]}",
        {"code": project.code, "status": project.status, "system": project.system_code},
        user.username,
    )
    return project


def _join_operations(session: Session, project: Project, user: User) -> None:
    """Acceptance: the system joins the monitored systems, its resources the catalog."""
    system = create_system(
        session,
        SystemCreate(
            code=project.system_code,
            name_zh=project.system_name_zh,
            name_en=project.system_name_en,
            organization=project.organization.code,
            kind=SystemKind(project.system_kind),
            criticality=Criticality(project.criticality),
            connection=Connection(project.connection),
            description=f"建设项目 {project.code} {project.name}",
            url=project.system_url,
        ),
        user.username,
    )
    project.system_id = system.id
    project.catalog_codes = _create_resources(session, project, user)


def _create_resources(session: Session, project: Project, user: User) -> list[str]:
    service = integrations.module("catalog.service")
    if service is None or not hasattr(service, "create_resource") or not project.resources:
        return []
    created = []
    # The department provides the data: act as its data officer, recorded under this user.
    actor = service.Actor(user.username, project.organization_id, frozenset({Role.data_officer}))
    for resource in project.resources:
        body = _catalog_body(resource, project.organization)
        if body is None:  # checked when the project was created; the catalog came later
            continue
        if service.find(session, body.code) is not None:
            raise Conflict(
                f"resource {body.code} is already in the catalog; change the project's "
                "planned resources before acceptance"
            )
        created.append(service.create_resource(session, body, actor).code)
    return created


def project_public(
    session: Session, project: Project, now: datetime | None = None
) -> ProjectPublic:
    now = now or utcnow()
    steps = session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id).order_by(ProjectEvent.id)
    ).all()
    system = session.get(MonitoredSystem, project.system_id) if project.system_id else None
    finish = project.planned_finish
    open_ = project.status in (P.requirement.value, P.approved.value, P.implementing.value)
    return ProjectPublic(
        code=project.code,
        name=project.name,
        organization=project.organization.code,
        organization_name=project.organization.name_zh,
        requirement=project.requirement,
        budget_wan=project.budget_wan,
        status=P(project.status),
        planned_finish=finish,
        system=ProjectSystem(
            code=project.system_code,
            name_zh=project.system_name_zh,
            name_en=project.system_name_en,
            kind=SystemKind(project.system_kind),
            criticality=Criticality(project.criticality),
            connection=Connection(project.connection),
            url=project.system_url,
        ),
        resources=project.resources,
        monitored_system=system.code if system else None,
        catalog_codes=project.catalog_codes,
        requested_at=as_utc(project.requested_at) or project.requested_at,
        approved_at=as_utc(project.approved_at),
        started_at=as_utc(project.started_at),
        accepted_at=as_utc(project.accepted_at),
        ended_at=as_utc(project.ended_at),
        created_by=project.created_by,
        overdue=bool(open_ and finish is not None and finish < now.date()),
        steps=[ProjectStep.model_validate(s) for s in steps],
    )
