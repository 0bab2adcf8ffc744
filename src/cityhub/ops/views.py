"""Read models shared by the console pages and their JSON twins: the system map, incident
shapes and the incident board."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.ops.availability import today_availability
from cityhub.ops.incidents import steps_of, timing
from cityhub.ops.models import Incident, IncidentEvent, MonitoredSystem, Plan
from cityhub.ops.schemas import OpsOverview, SystemTile
from cityhub.ops.schemas_work import IncidentDetail, IncidentPublic, PlanRef, TimelineEntry
from cityhub.ops.systems import open_incident_counts, system_ref
from cityhub.ops.vocab import (
    OPEN_STATUSES,
    Connection,
    Criticality,
    EventKind,
    IncidentSource,
    IncidentStatus,
    PlanLevel,
    SystemKind,
    SystemStatus,
)


def build_overview(session: Session, timezone: str, now: datetime | None = None) -> OpsOverview:
    now = now or utcnow()
    systems = (
        session.scalars(
            select(MonitoredSystem).order_by(MonitoredSystem.kind, MonitoredSystem.code)
        )
        .unique()
        .all()
    )
    open_counts = open_incident_counts(session, [s.id for s in systems])
    today = today_availability(session, systems, timezone, now)
    statuses = dict.fromkeys((s.value for s in SystemStatus), 0)
    groups: dict[str, list[SystemTile]] = {k.value: [] for k in SystemKind}
    for system in systems:
        statuses[system.status] = statuses.get(system.status, 0) + 1
        groups.setdefault(system.kind, []).append(
            SystemTile(
                code=system.code,
                name_zh=system.name_zh,
                name_en=system.name_en,
                organization=system.organization.code,
                kind=SystemKind(system.kind),
                criticality=Criticality(system.criticality),
                connection=Connection(system.connection),
                status=SystemStatus(system.status),
                status_since=as_utc(system.status_since),
                open_incidents=open_counts.get(system.id, 0),
                availability_today=today.get(system.id),
            )
        )
    open_rows = (
        session.scalars(
            select(Incident).where(Incident.status.in_([s.value for s in OPEN_STATUSES]))
        )
        .unique()
        .all()
    )
    breached = sum(
        1 for i in open_rows if (t := timing(i, now)).response_breached or t.resolution_breached
    )
    return OpsOverview(
        generated_at=now,
        statuses=statuses,
        open_incidents=len(open_rows),
        breached_incidents=breached,
        groups=groups,
    )


def _plan_refs(session: Session, ids: set[int]) -> dict[int, PlanRef]:
    if not ids:
        return {}
    return {
        p.id: PlanRef(code=p.code, name=p.name, level=PlanLevel(p.level))
        for p in session.scalars(select(Plan).where(Plan.id.in_(ids))).unique()
    }


def incident_publics(
    session: Session, incidents: Sequence[Incident], now: datetime | None = None
) -> list[IncidentPublic]:
    now = now or utcnow()
    plans = _plan_refs(session, {i.plan_id for i in incidents if i.plan_id is not None})
    return [_public(i, plans.get(i.plan_id) if i.plan_id else None, now) for i in incidents]


def _public(incident: Incident, plan: PlanRef | None, now: datetime) -> IncidentPublic:
    return IncidentPublic(
        id=incident.id,
        system=system_ref(incident.system),
        probe_id=incident.probe_id,
        title=incident.title,
        description=incident.description,
        event_kind=EventKind(incident.event_kind),
        status=IncidentStatus(incident.status),
        source=IncidentSource(incident.source),
        assignee=incident.assignee,
        plan=plan,
        opened_at=as_utc(incident.opened_at) or incident.opened_at,
        first_response_at=as_utc(incident.first_response_at),
        acknowledged_at=as_utc(incident.acknowledged_at),
        started_at=as_utc(incident.started_at),
        resolved_at=as_utc(incident.resolved_at),
        closed_at=as_utc(incident.closed_at),
        opened_by=incident.opened_by,
        cause=incident.cause,
        fix=incident.fix,
        failure_count=incident.failure_count,
        last_failure_at=as_utc(incident.last_failure_at),
        timing=timing(incident, now),
    )


def incident_detail(session: Session, incident: Incident) -> IncidentDetail:
    public = incident_publics(session, [incident])[0]
    events = session.scalars(
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident.id)
        .order_by(IncidentEvent.id)
    ).all()
    timeline = []
    for event in events:
        entry = TimelineEntry.model_validate(event)
        entry.at = as_utc(entry.at) or entry.at
        timeline.append(entry)
    return IncidentDetail(
        **public.model_dump(), timeline=timeline, steps=steps_of(session, incident)
    )


def incident_board(
    session: Session, closed_limit: int = 20, now: datetime | None = None
) -> dict[str, list[IncidentPublic]]:
    """Open and resolved incidents by status, plus the latest closed ones."""
    live = (
        session.scalars(
            select(Incident)
            .where(Incident.status != IncidentStatus.closed.value)
            .order_by(Incident.opened_at.desc())
        )
        .unique()
        .all()
    )
    closed = (
        session.scalars(
            select(Incident)
            .where(Incident.status == IncidentStatus.closed.value)
            .order_by(Incident.closed_at.desc())
            .limit(closed_limit)
        )
        .unique()
        .all()
    )
    board: dict[str, list[IncidentPublic]] = defaultdict(list)
    for item in incident_publics(session, [*live, *closed], now):
        board[item.status.value].append(item)
    return {s.value: board.get(s.value, []) for s in IncidentStatus}
