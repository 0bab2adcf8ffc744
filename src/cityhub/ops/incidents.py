"""Incidents (故障): opened by a probe or by hand, then
opened → acknowledged → in_progress → resolved → closed, with a timeline, an assignee,
cause and fix, response and resolution timed against the system's criticality, and the
steps of a matching emergency plan recorded as they are done."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.errors import Conflict, NotFound, ValidationFailed
from cityhub.ops.models import Incident, IncidentEvent, IncidentStep, MonitoredSystem, Plan, Probe
from cityhub.ops.plans import best_plan, get_plan, ordered_steps
from cityhub.ops.schemas_work import IncidentTiming, StepState
from cityhub.ops.vocab import (
    OPEN_STATUSES,
    TARGETS,
    Criticality,
    EventKind,
    IncidentSource,
)
from cityhub.ops.vocab import IncidentStatus as S
from cityhub.security.models import User

SYSTEM_ACTOR = "system:ops"


@dataclass(frozen=True)
class Move:
    """A lifecycle action: the states it may start from, where it leads, its past tense."""

    sources: tuple[S, ...]
    target: S
    past: str


MOVES: dict[str, Move] = {
    "acknowledge": Move((S.opened,), S.acknowledged, "acknowledged"),
    "start": Move((S.opened, S.acknowledged), S.in_progress, "started"),
    "resolve": Move((S.opened, S.acknowledged, S.in_progress), S.resolved, "resolved"),
    "close": Move((S.resolved,), S.closed, "closed"),
    "reopen": Move((S.resolved,), S.opened, "reopened"),
}


def get_incident(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident #{incident_id}")
    return incident


def list_incidents(
    session: Session,
    *,
    limit: int,
    before_id: int | None = None,
    statuses: Sequence[S] = (),
    system: MonitoredSystem | None = None,
) -> Sequence[Incident]:
    """Newest first."""
    stmt = select(Incident).order_by(Incident.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(Incident.id < before_id)
    if statuses:
        stmt = stmt.where(Incident.status.in_([s.value for s in statuses]))
    if system is not None:
        stmt = stmt.where(Incident.system_id == system.id)
    return session.scalars(stmt).unique().all()


def _log(
    session: Session,
    incident: Incident,
    actor: str,
    action: str,
    note: str = "",
    *,
    before: str | None = None,
    after: str | None = None,
    at: datetime | None = None,
) -> None:
    session.add(
        IncidentEvent(
            incident_id=incident.id,
            at=at or utcnow(),
            actor=actor,
            action=action,
            from_status=before,
            to_status=after,
            note=note,
        )
    )


def _payload(incident: Incident) -> dict[str, object]:
    return {
        "id": incident.id,
        "system": incident.system.code,
        "title": incident.title,
        "status": incident.status,
        "kind": incident.event_kind,
        "level": incident.criticality,
        "source": incident.source,
    }


def _require_user(session: Session, username: str) -> str:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise ValidationFailed(f"assignee {username!r} is not an active user")
    return username


def open_incident(
    session: Session,
    system: MonitoredSystem,
    *,
    title: str,
    actor: str,
    event_kind: EventKind = EventKind.outage,
    description: str = "",
    source: IncidentSource = IncidentSource.manual,
    probe: Probe | None = None,
    assignee: str | None = None,
    plan: Plan | None = None,
    at: datetime | None = None,
) -> Incident:
    at = at or utcnow()
    targets = TARGETS[Criticality(system.criticality)]
    incident = Incident(
        system_id=system.id,
        probe_id=probe.id if probe else None,
        title=title[:200],
        description=description,
        event_kind=event_kind.value,
        criticality=system.criticality,
        status=S.opened.value,
        source=source.value,
        assignee=_require_user(session, assignee) if assignee else None,
        opened_at=at,
        opened_by=actor,
        response_target_s=targets.response_minutes * 60,
        resolution_target_s=targets.resolution_minutes * 60,
        failure_count=probe.consecutive_failures if probe else 0,
        last_failure_at=at if probe else None,
        updated_at=at,
    )
    incident.system = system
    plan = plan or best_plan(session, system, event_kind.value)
    incident.plan_id = plan.id if plan else None
    session.add(incident)
    session.flush()
    note = f"plan {plan.code} ({plan.level}) applies" if plan else ""
    _log(session, incident, actor, "opened", note, after=S.opened.value, at=at)
    if assignee:
        _log(session, incident, actor, "assigned", assignee, at=at)
    emit(
        session,
        "ops.incident.opened",
        {**_payload(incident), "plan": plan.code if plan else None},
        actor,
    )
    return incident


def transition(
    session: Session,
    incident: Incident,
    action: str,
    actor: str,
    *,
    note: str = "",
    cause: str | None = None,
    fix: str | None = None,
    at: datetime | None = None,
) -> Incident:
    """Move the incident through its lifecycle, or say precisely why it cannot move."""
    move = MOVES.get(action)
    if move is None:
        raise ValidationFailed(f"unknown incident action {action!r}; use {', '.join(MOVES)}")
    status = S(incident.status)
    if action == "reopen" and status == S.closed:
        raise Conflict(
            f"incident #{incident.id} is closed and cannot be reopened; open a new incident "
            f"and mention #{incident.id}"
        )
    if status not in move.sources:
        sources = " or ".join(s.value for s in move.sources)
        raise Conflict(
            f"incident #{incident.id} is {status.value}; it can be {move.past} only when {sources}"
        )
    human = actor != SYSTEM_ACTOR
    if cause is not None:
        incident.cause = cause
    if fix is not None:
        incident.fix = fix
    if human and action == "resolve" and not incident.fix:
        raise ValidationFailed("resolving an incident needs the fix: say what was done")
    if human and action == "close" and not (incident.cause and incident.fix):
        raise ValidationFailed("closing an incident needs its cause and fix recorded")
    at = at or utcnow()
    if status == S.opened and action != "reopen" and incident.first_response_at is None:
        incident.first_response_at = at
    if action == "acknowledge" or (action == "start" and incident.acknowledged_at is None):
        incident.acknowledged_at = at
    if action == "start":
        incident.started_at = at
    elif action == "resolve":
        incident.resolved_at = at
    elif action == "close":
        incident.closed_at = at
    elif action == "reopen":
        incident.resolved_at = None
    incident.status = move.target.value
    incident.updated_at = at
    _log(
        session,
        incident,
        actor,
        move.past,
        note,
        before=status.value,
        after=move.target.value,
        at=at,
    )
    emit(session, f"ops.incident.{move.past}", _payload(incident), actor)
    return incident


def assign(session: Session, incident: Incident, assignee: str, actor: str, note: str = "") -> None:
    if incident.status == S.closed:
        raise Conflict(f"incident #{incident.id} is closed; it cannot be assigned")
    incident.assignee = _require_user(session, assignee)
    incident.updated_at = utcnow()
    _log(session, incident, actor, "assigned", f"{assignee} {note}".strip())
    emit(session, "ops.incident.assigned", {**_payload(incident), "assignee": assignee}, actor)


def comment(session: Session, incident: Incident, note: str, actor: str) -> None:
    _log(session, incident, actor, "comment", note)
    incident.updated_at = utcnow()


def set_plan(session: Session, incident: Incident, plan_code: str, actor: str) -> Plan:
    if incident.status == S.closed:
        raise Conflict(f"incident #{incident.id} is closed; its plan cannot change")
    plan = get_plan(session, plan_code)
    incident.plan_id = plan.id
    _log(session, incident, actor, "plan", f"plan {plan.code} ({plan.level})")
    return plan


# -- plan steps -----------------------------------------------------------------------------


def steps_of(session: Session, incident: Incident) -> list[StepState]:
    """The plan's steps in dependency order, with what is done and what can start."""
    if incident.plan_id is None:
        return []
    plan = session.get(Plan, incident.plan_id)
    if plan is None:
        return []
    done = {
        row.step_key: row
        for row in session.scalars(
            select(IncidentStep).where(IncidentStep.incident_id == incident.id)
        )
    }
    states = []
    for step in ordered_steps(plan):
        deps = list(step.get("depends_on", []))
        row = done.get(step["key"])
        states.append(
            StepState(
                key=step["key"],
                title=step["title"],
                owner=step.get("owner", ""),
                depends_on=deps,
                ready=all(d in done for d in deps),
                done_at=as_utc(row.done_at) if row else None,
                done_by=row.done_by if row else None,
                note=row.note if row else "",
            )
        )
    return states


def complete_step(
    session: Session, incident: Incident, key: str, actor: str, note: str = ""
) -> StepState:
    if incident.status == S.closed:
        raise Conflict(f"incident #{incident.id} is closed; its steps cannot change")
    states = {s.key: s for s in steps_of(session, incident)}
    if not states:
        raise Conflict(f"incident #{incident.id} follows no emergency plan")
    state = states.get(key)
    if state is None:
        raise NotFound(f"the plan of incident #{incident.id} has no step {key!r}")
    if state.done_at is not None:
        raise Conflict(f"step {key!r} was already done by {state.done_by}")
    waiting = [d for d in state.depends_on if states[d].done_at is None]
    if waiting:
        raise Conflict(f"step {key!r} waits for: {', '.join(waiting)}")
    at = utcnow()
    session.add(
        IncidentStep(incident_id=incident.id, step_key=key, done_at=at, done_by=actor, note=note)
    )
    _log(session, incident, actor, "step_done", f"{key}: {state.title} {note}".strip(), at=at)
    incident.updated_at = at
    session.flush()
    return next(s for s in steps_of(session, incident) if s.key == key)


# -- timing -------------------------------------------------------------------------------------


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    start, end = as_utc(start), as_utc(end)
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def timing(incident: Incident, now: datetime | None = None) -> IncidentTiming:
    """Response: opened → first response; resolution: opened → resolved; against targets."""
    now = now or utcnow()
    opened = as_utc(incident.opened_at)
    assert opened is not None
    response = _seconds(opened, incident.first_response_at)
    resolution = _seconds(opened, incident.resolved_at)
    age = (now - opened).total_seconds()
    unresolved = incident.status in {s.value for s in OPEN_STATUSES}
    return IncidentTiming(
        response_target_s=incident.response_target_s,
        resolution_target_s=incident.resolution_target_s,
        response_s=response,
        resolution_s=resolution,
        response_met=None if response is None else response <= incident.response_target_s,
        resolution_met=None if resolution is None else resolution <= incident.resolution_target_s,
        response_breached=response is None and age > incident.response_target_s,
        resolution_breached=unresolved and age > incident.resolution_target_s,
    )
