"""Emergency plans (应急预案): their library, matching an incident to a plan, drills."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.errors import Conflict, NotFound, ValidationFailed
from cityhub.ops.dag import order_keys
from cityhub.ops.models import Drill, Incident, MonitoredSystem, Plan
from cityhub.ops.schemas_work import (
    ContactPublic,
    DrillCreate,
    PlanCreate,
    PlanPublic,
    PlanUpdate,
    StepPublic,
)
from cityhub.ops.systems import get_system, system_ref
from cityhub.ops.vocab import CRITICALITY_RANK, Criticality, EventKind, PlanLevel, SystemKind

LEVEL_ORDER = {PlanLevel.I: 1, PlanLevel.II: 2, PlanLevel.III: 3, PlanLevel.IV: 4}


def get_plan(session: Session, code: str) -> Plan:
    plan = session.scalar(select(Plan).where(Plan.code == code))
    if plan is None:
        raise NotFound(f"no emergency plan {code!r}")
    return plan


def list_plans(
    session: Session,
    *,
    limit: int,
    after: str | None = None,
    level: PlanLevel | None = None,
    event_kind: EventKind | None = None,
    system: str | None = None,
) -> Sequence[Plan]:
    stmt = select(Plan).order_by(Plan.code)
    if after:
        stmt = stmt.where(Plan.code > after)
    if level:
        stmt = stmt.where(Plan.level == level.value)
    if system:
        stmt = stmt.where(Plan.system_id == get_system(session, system).id)
    plans = session.scalars(stmt).unique().all()
    if event_kind:  # JSON lists: filtered here rather than with per-database JSON operators
        plans = [p for p in plans if event_kind.value in p.event_kinds]
    return plans[:limit]


def ordered_steps(plan: Plan) -> list[dict[str, Any]]:
    by_key = {s["key"]: s for s in plan.steps}
    return [
        by_key[k] for k in order_keys([(s["key"], s.get("depends_on", [])) for s in plan.steps])
    ]


def _dump_steps(data: PlanCreate | PlanUpdate) -> list[dict[str, Any]]:
    return [s.model_dump() for s in data.steps or []]


def create_plan(session: Session, data: PlanCreate, actor: str) -> Plan:
    if session.scalar(select(Plan.id).where(Plan.code == data.code)):
        raise Conflict(f"an emergency plan {data.code!r} already exists")
    system = get_system(session, data.system) if data.system else None
    now = utcnow()
    plan = Plan(
        code=data.code,
        name=data.name,
        level=data.level.value,
        system_id=system.id if system else None,
        event_kinds=[k.value for k in data.event_kinds],
        system_kinds=[k.value for k in data.system_kinds],
        min_criticality=data.min_criticality.value if data.min_criticality else None,
        trigger_text=data.trigger_text,
        steps=_dump_steps(data),
        contacts=[c.model_dump() for c in data.contacts],
        active=data.active,
        version=1,
        created_at=now,
        updated_at=now,
        created_by=actor,
        updated_by=actor,
    )
    plan.system = system
    session.add(plan)
    session.flush()
    emit(session, "ops.plan.created", {"code": plan.code, "level": plan.level}, actor=actor)
    return plan


def update_plan(session: Session, plan: Plan, data: PlanUpdate, actor: str) -> Plan:
    changes = data.model_dump(exclude_unset=True)
    if "system" in changes:
        system = get_system(session, changes["system"]) if changes["system"] else None
        plan.system_id, plan.system = (system.id if system else None), system
    if data.name is not None:
        plan.name = data.name
    if data.level is not None:
        plan.level = data.level.value
    if data.event_kinds is not None:
        plan.event_kinds = [k.value for k in data.event_kinds]
    if data.system_kinds is not None:
        plan.system_kinds = [k.value for k in data.system_kinds]
    if "min_criticality" in changes:
        plan.min_criticality = data.min_criticality.value if data.min_criticality else None
    if data.trigger_text is not None:
        plan.trigger_text = data.trigger_text
    if data.steps is not None:
        if not data.steps:
            raise ValidationFailed("a plan needs at least one step")
        plan.steps = _dump_steps(data)
    if data.contacts is not None:
        plan.contacts = [c.model_dump() for c in data.contacts]
    if data.active is not None:
        plan.active = data.active
    if plan.system_id is None and not plan.event_kinds:
        raise ValidationFailed("a plan covers one system or kinds of event: give one")
    plan.version += 1
    plan.updated_at, plan.updated_by = utcnow(), actor
    emit(session, "ops.plan.updated", {"code": plan.code, "version": plan.version}, actor=actor)
    return plan


# -- matching ----------------------------------------------------------------------------


def matches(plan: Plan, system: MonitoredSystem, event_kind: str) -> bool:
    """Does `plan` answer an incident of `event_kind` on `system`?"""
    if not plan.active:
        return False
    if plan.system_id is not None:
        return plan.system_id == system.id and (
            not plan.event_kinds or event_kind in plan.event_kinds
        )
    if event_kind not in plan.event_kinds:
        return False
    if plan.system_kinds and system.kind not in plan.system_kinds:
        return False
    if plan.min_criticality:
        wanted = CRITICALITY_RANK[Criticality(plan.min_criticality)]
        if CRITICALITY_RANK[Criticality(system.criticality)] < wanted:
            return False
    return True


def best_plan(session: Session, system: MonitoredSystem, event_kind: str) -> Plan | None:
    """The system's own plan first, then the most severe matching level, then by code."""
    candidates = [
        p
        for p in session.scalars(select(Plan).where(Plan.active.is_(True))).unique()
        if matches(p, system, event_kind)
    ]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda p: (p.system_id is None, LEVEL_ORDER[PlanLevel(p.level)], p.code),
    )


def plans_for_incident(session: Session, incident: Incident) -> Plan | None:
    return best_plan(session, incident.system, incident.event_kind)


# -- drills ---------------------------------------------------------------------------------


def record_drill(session: Session, plan: Plan, data: DrillCreate, actor: str) -> Drill:
    if data.held_on > utcnow().date():
        raise ValidationFailed(f"held_on {data.held_on} is in the future: record drills held")
    drill = Drill(
        plan_id=plan.id,
        held_on=data.held_on,
        scenario=data.scenario,
        participants=data.participants,
        duration_minutes=data.duration_minutes,
        outcome=data.outcome.value,
        findings=data.findings,
        recorded_by=actor,
        recorded_at=utcnow(),
    )
    session.add(drill)
    session.flush()
    emit(
        session,
        "ops.drill.recorded",
        {"plan": plan.code, "id": drill.id, "outcome": drill.outcome},
        actor=actor,
    )
    return drill


def list_drills(session: Session, plan: Plan) -> Sequence[Drill]:
    return session.scalars(
        select(Drill).where(Drill.plan_id == plan.id).order_by(Drill.held_on.desc(), Drill.id)
    ).all()


def drill_stats(session: Session, plan_ids: Sequence[int]) -> dict[int, tuple[int, date | None]]:
    if not plan_ids:
        return {}
    rows = session.execute(
        select(Drill.plan_id, func.count(), func.max(Drill.held_on))
        .where(Drill.plan_id.in_(plan_ids))
        .group_by(Drill.plan_id)
    )
    return {pid: (n, last) for pid, n, last in rows}


def plan_public(plan: Plan, drills: tuple[int, date | None] = (0, None)) -> PlanPublic:
    return PlanPublic(
        code=plan.code,
        name=plan.name,
        level=PlanLevel(plan.level),
        system=system_ref(plan.system) if plan.system else None,
        event_kinds=[EventKind(k) for k in plan.event_kinds],
        system_kinds=[SystemKind(k) for k in plan.system_kinds],
        min_criticality=Criticality(plan.min_criticality) if plan.min_criticality else None,
        trigger_text=plan.trigger_text,
        steps=[
            StepPublic(
                key=s["key"],
                title=s["title"],
                description=s.get("description", ""),
                owner=s.get("owner", ""),
                depends_on=list(s.get("depends_on", [])),
                minutes=s.get("minutes"),
            )
            for s in ordered_steps(plan)
        ],
        contacts=[
            ContactPublic(
                name=c["name"],
                role=c.get("role", ""),
                phone=c["phone"],
                organization=c.get("organization", ""),
            )
            for c in plan.contacts
        ],
        active=plan.active,
        version=plan.version,
        drills=drills[0],
        last_drill_on=drills[1],
        created_at=as_utc(plan.created_at) or plan.created_at,
        updated_at=as_utc(plan.updated_at) or plan.updated_at,
    )
