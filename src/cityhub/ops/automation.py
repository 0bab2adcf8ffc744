"""What probes do to incidents, without anyone's hand: open one after N failures in a row
(one per probe until it is closed), count further failures on it, bring a resolved one
back, resolve it on recovery, and close long-resolved incidents."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.ops.incidents import SYSTEM_ACTOR, open_incident, transition
from cityhub.ops.models import Incident, MonitoredSystem, Probe
from cityhub.ops.vocab import OPEN_STATUSES, EventKind, IncidentSource
from cityhub.ops.vocab import IncidentStatus as S


def _title(system: MonitoredSystem, probe: Probe, message: str) -> str:
    """A short title; the whole message goes to the description."""
    short = message if len(message) <= 60 else message[:59] + "…"
    return f"{system.name_zh} · {probe.name}: {short}"[:200]


def open_for_probe(session: Session, probe_id: int) -> Incident | None:
    """The probe's incident that is not closed yet (the de-duplication key)."""
    return session.scalars(
        select(Incident)
        .where(Incident.probe_id == probe_id, Incident.status != S.closed.value)
        .order_by(Incident.id.desc())
        .limit(1)
    ).first()


def probe_failing(
    session: Session,
    probe: Probe,
    system: MonitoredSystem,
    message: str,
    at: datetime,
    kind: EventKind,
) -> Incident | None:
    """The probe failed `failure_threshold` times or more in a row: open one incident, or
    count the failure on the one already open (reopening it if it was resolved)."""
    existing = open_for_probe(session, probe.id)
    if existing is None:
        return open_incident(
            session,
            system,
            title=_title(system, probe, message),
            description=message,
            actor=SYSTEM_ACTOR,
            event_kind=kind,
            source=IncidentSource.probe,
            probe=probe,
            at=at,
        )
    existing.failure_count += 1
    existing.last_failure_at = at
    if existing.status == S.resolved:
        transition(
            session, existing, "reopen", SYSTEM_ACTOR, note=f"failed again: {message}", at=at
        )
    return None


def probe_recovered(session: Session, probe: Probe, message: str, at: datetime) -> list[Incident]:
    """The probe is healthy again: its open incidents are resolved."""
    resolved = []
    rows = session.scalars(
        select(Incident).where(
            Incident.probe_id == probe.id, Incident.status.in_([s.value for s in OPEN_STATUSES])
        )
    ).all()
    for incident in rows:
        transition(session, incident, "resolve", SYSTEM_ACTOR, note=f"recovered: {message}", at=at)
        resolved.append(incident)
    return resolved


def autoclose(session: Session, minutes: int, now: datetime | None = None) -> int:
    """Close incidents resolved more than `minutes` ago that nobody reopened."""
    if minutes <= 0:
        return 0
    now = now or utcnow()
    rows = session.scalars(
        select(Incident).where(
            Incident.status == S.resolved.value,
            Incident.resolved_at < now - timedelta(minutes=minutes),
        )
    ).all()
    for incident in rows:
        transition(
            session,
            incident,
            "close",
            SYSTEM_ACTOR,
            note=f"closed automatically {minutes} min after resolution",
            at=now,
        )
    return len(rows)
