"""Monitored systems and their probes: registration, changes, status, public shapes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.core.times import as_utc
from cityhub.directory.models import Organization
from cityhub.errors import Conflict, NotFound, ValidationFailed
from cityhub.ops import integrations, targets
from cityhub.ops.models import Incident, MonitoredSystem, Probe
from cityhub.ops.schemas import (
    OrgRef,
    ProbeCreate,
    ProbePublic,
    ProbeUpdate,
    SystemCreate,
    SystemPublic,
    SystemRef,
    SystemUpdate,
    TargetsPublic,
    check_params,
    check_schedule,
)
from cityhub.ops.vocab import (
    OPEN_STATUSES,
    TARGETS,
    Connection,
    Criticality,
    Outcome,
    ProbeKind,
    SystemKind,
    SystemStatus,
)
from cityhub.settings import Settings


def org_by_code(session: Session, code: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise ValidationFailed(f"organization {code!r} does not exist")
    return org


def get_system(session: Session, code: str) -> MonitoredSystem:
    system = session.scalar(select(MonitoredSystem).where(MonitoredSystem.code == code))
    if system is None:
        raise NotFound(f"no monitored system {code!r}")
    return system


def get_probe(session: Session, probe_id: int) -> Probe:
    probe = session.get(Probe, probe_id)
    if probe is None:
        raise NotFound(f"no probe {probe_id}")
    return probe


def list_systems(
    session: Session,
    *,
    limit: int,
    after: str | None = None,
    kind: SystemKind | None = None,
    status: SystemStatus | None = None,
    organization: str | None = None,
    q: str | None = None,
) -> Sequence[MonitoredSystem]:
    stmt = select(MonitoredSystem).order_by(MonitoredSystem.code).limit(limit)
    if after:
        stmt = stmt.where(MonitoredSystem.code > after)
    if kind:
        stmt = stmt.where(MonitoredSystem.kind == kind.value)
    if status:
        stmt = stmt.where(MonitoredSystem.status == status.value)
    if organization:
        stmt = stmt.join(Organization, Organization.id == MonitoredSystem.organization_id).where(
            Organization.code == organization
        )
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                MonitoredSystem.name_zh.like(like),
                MonitoredSystem.name_en.like(like),
                MonitoredSystem.code.like(like),
            )
        )
    return session.scalars(stmt).unique().all()


def create_system(
    session: Session, data: SystemCreate, actor: str, *, builtin: bool = False
) -> MonitoredSystem:
    org = org_by_code(session, data.organization)
    if session.scalar(select(MonitoredSystem.id).where(MonitoredSystem.code == data.code)):
        raise Conflict(f"a monitored system {data.code!r} is already registered")
    now = utcnow()
    system = MonitoredSystem(
        code=data.code,
        name_zh=data.name_zh.strip(),
        name_en=data.name_en.strip(),
        organization_id=org.id,
        kind=data.kind.value,
        criticality=data.criticality.value,
        connection=data.connection.value,
        description=data.description.strip(),
        url=data.url.strip(),
        active=data.active,
        builtin=builtin,
        status=SystemStatus.unknown.value if data.active else SystemStatus.inactive.value,
        status_since=now,
        created_at=now,
        updated_at=now,
        created_by=actor,
    )
    system.organization = org
    session.add(system)
    session.flush()
    emit(
        session,
        "ops.system.created",
        {"code": system.code, "kind": system.kind, "organization": org.code},
        actor=actor,
    )
    return system


def update_system(
    session: Session, system: MonitoredSystem, data: SystemUpdate, actor: str
) -> MonitoredSystem:
    changes = data.model_dump(exclude_unset=True)
    if "organization" in changes:
        if changes["organization"] is None:
            raise ValidationFailed("organization cannot be empty")
        org = org_by_code(session, changes.pop("organization"))
        system.organization_id, system.organization = org.id, org
    for name in ("name_zh", "name_en", "description", "url"):
        if name in changes:
            value = changes[name]
            if value is None:
                raise ValidationFailed(f"{name} cannot be null")
            setattr(system, name, value.strip())
    for name in ("kind", "criticality", "connection"):
        if changes.get(name) is not None:
            setattr(system, name, changes[name].value)
    now = utcnow()
    if changes.get("active") is not None and changes["active"] != system.active:
        system.active = changes["active"]
        if system.active:  # probe again at once
            for probe in system.probes:
                probe.next_run_at = now
        refresh_status(system, now)
    system.updated_at = now
    emit(session, "ops.system.updated", {"code": system.code, "fields": sorted(changes)}, actor)
    return system


# -- probes --------------------------------------------------------------------------------


def _check_reference(session: Session, kind: ProbeKind, target: str) -> None:
    """Targets naming things on the platform must name existing ones (when knowable)."""
    if kind == ProbeKind.device_online and target != "*":
        org_by_code(session, target)
    missing = (
        kind == ProbeKind.freshness
        and integrations.catalog_installed()
        and integrations.catalog_resource(session, target) is None
    )
    if missing:
        raise ValidationFailed(f"resource {target!r} is not in the catalog")


def add_probe(
    session: Session, system: MonitoredSystem, data: ProbeCreate, settings: Settings, actor: str
) -> Probe:
    _check_reference(session, data.kind, data.target)
    now = utcnow()
    probe = Probe(
        system_id=system.id,
        name=data.name.strip(),
        kind=data.kind.value,
        target=data.target,
        params=data.params,
        interval_seconds=round(data.interval_seconds),
        timeout_seconds=data.timeout_seconds,
        failure_threshold=data.failure_threshold or settings.ops_failure_threshold,
        enabled=data.enabled,
        next_run_at=now,
        created_at=now,
        updated_at=now,
    )
    probe.system = system
    session.add(probe)
    session.flush()
    emit(
        session,
        "ops.probe.created",
        {"id": probe.id, "system": system.code, "kind": probe.kind},
        actor=actor,
    )
    return probe


def update_probe(session: Session, probe: Probe, data: ProbeUpdate, actor: str) -> Probe:
    kind = ProbeKind(probe.kind)
    try:
        interval, timeout = data.seconds()
        interval = probe.interval_seconds if interval is None else interval
        timeout = probe.timeout_seconds if timeout is None else timeout
        check_schedule(interval, timeout)
        target = targets.check_target(kind, (data.target or probe.target).strip())
        params = check_params(kind, probe.params if data.params is None else data.params)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    if target != probe.target:
        _check_reference(session, kind, target)
    probe.interval_seconds, probe.timeout_seconds = round(interval), timeout
    probe.target, probe.params = target, params
    if data.name is not None:
        probe.name = data.name.strip()
    if data.failure_threshold is not None:
        probe.failure_threshold = data.failure_threshold
    now = utcnow()
    if data.enabled is not None:
        probe.enabled = data.enabled
        if not probe.enabled:
            probe.last_outcome, probe.consecutive_failures, probe.failing_since = "", 0, None
            refresh_status(probe.system, now)
    probe.next_run_at = now  # a changed probe runs again at once
    probe.updated_at = now
    emit(session, "ops.probe.updated", {"id": probe.id, "system": probe.system.code}, actor)
    return probe


def delete_probe(session: Session, probe: Probe, actor: str) -> None:
    system = probe.system
    emit(session, "ops.probe.deleted", {"id": probe.id, "system": system.code}, actor)
    session.delete(probe)
    session.flush()
    session.refresh(system)
    refresh_status(system, utcnow())


# -- status ----------------------------------------------------------------------------------


def aggregate(outcomes: Sequence[str], active: bool) -> SystemStatus:
    """A system is down when any probe is down, degraded when any is slow, up when one is up."""
    if not active:
        return SystemStatus.inactive
    if Outcome.down in outcomes:
        return SystemStatus.down
    if Outcome.degraded in outcomes:
        return SystemStatus.degraded
    if Outcome.up in outcomes:
        return SystemStatus.up
    return SystemStatus.unknown


def refresh_status(system: MonitoredSystem, now: datetime) -> tuple[str, str]:
    """Recompute the system's status from its enabled probes; (before, after)."""
    before = system.status
    after = aggregate([p.last_outcome for p in system.probes if p.enabled], system.active).value
    if after != before:
        system.status, system.status_since = after, now
    return before, after


# -- public shapes -------------------------------------------------------------------------


def targets_of(criticality: str) -> TargetsPublic:
    t = TARGETS[Criticality(criticality)]
    return TargetsPublic(
        availability=t.availability,
        response_minutes=t.response_minutes,
        resolution_minutes=t.resolution_minutes,
    )


def system_ref(system: MonitoredSystem) -> SystemRef:
    return SystemRef(
        code=system.code,
        name_zh=system.name_zh,
        name_en=system.name_en,
        criticality=Criticality(system.criticality),
    )


def org_ref(org: Organization) -> OrgRef:
    return OrgRef(code=org.code, name_zh=org.name_zh, name_en=org.name_en)


def probe_public(probe: Probe) -> ProbePublic:
    return ProbePublic(
        id=probe.id,
        system=probe.system.code,
        name=probe.name,
        kind=ProbeKind(probe.kind),
        target=targets.mask(probe.target),
        params=probe.params,
        interval_seconds=probe.interval_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
        enabled=probe.enabled,
        next_run_at=as_utc(probe.next_run_at) or probe.next_run_at,
        last_run_at=as_utc(probe.last_run_at),
        last_outcome=probe.last_outcome,
        last_latency_ms=probe.last_latency_ms,
        last_message=probe.last_message,
        consecutive_failures=probe.consecutive_failures,
        failing_since=as_utc(probe.failing_since),
    )


def open_incident_counts(session: Session, system_ids: Sequence[int]) -> dict[int, int]:
    if not system_ids:
        return {}
    rows = session.execute(
        select(Incident.system_id, func.count())
        .where(
            Incident.system_id.in_(system_ids),
            Incident.status.in_([s.value for s in OPEN_STATUSES]),
        )
        .group_by(Incident.system_id)
    )
    return {system_id: count for system_id, count in rows}


def system_public(system: MonitoredSystem, open_incidents: int) -> SystemPublic:
    return SystemPublic(
        code=system.code,
        name_zh=system.name_zh,
        name_en=system.name_en,
        organization=org_ref(system.organization),
        kind=SystemKind(system.kind),
        criticality=Criticality(system.criticality),
        connection=Connection(system.connection),
        description=system.description,
        url=system.url,
        active=system.active,
        builtin=system.builtin,
        status=SystemStatus(system.status),
        status_since=as_utc(system.status_since),
        checked_at=as_utc(system.checked_at),
        targets=targets_of(system.criticality),
        open_incidents=open_incidents,
        probes=[probe_public(p) for p in system.probes],
        created_at=as_utc(system.created_at) or system.created_at,
        updated_at=as_utc(system.updated_at) or system.updated_at,
    )
