"""Availability and SLA per system per day and month, in the city's time zone.

    availability = 1 - downtime / observed time

Downtime is the overlap of the system's outages with the period; observed time is the part
of the period since the system was registered and not in the future. A month meets its
SLA when its availability reaches the criticality's target. Incidents count against the
month they were opened in, answered and resolved within their targets or not.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.errors import BadRequest
from cityhub.ops.models import DailyCount, Incident, MonitoredSystem, Outage
from cityhub.ops.schemas import AvailabilityReport, DayAvailability, SystemMonth
from cityhub.ops.systems import system_ref
from cityhub.ops.vocab import TARGETS, Criticality, SystemKind


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime | None  # None: still going


def parse_month(text: str | None, timezone: str, now: datetime | None = None) -> tuple[int, int]:
    if not text:
        local = (now or utcnow()).astimezone(ZoneInfo(timezone))
        return local.year, local.month
    try:
        year, month = (int(part) for part in text.split("-"))
        date(year, month, 1)
    except ValueError:
        raise BadRequest(f"month {text!r} is not YYYY-MM, e.g. 2026-11") from None
    return year, month


def local_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC (23 or 25 hours across DST)."""
    zone = ZoneInfo(timezone)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def overlap_seconds(spans: Sequence[Span], start: datetime, end: datetime, now: datetime) -> float:
    """Seconds of [start, min(end, now)) covered by the spans (merged, so never counted twice)."""
    end = min(end, now)
    if end <= start:
        return 0.0
    clipped = sorted(
        (max(s.start, start), min(s.end or now, end))
        for s in spans
        if s.start < end and (s.end or now) > start
    )
    total, cursor = 0.0, start
    for a, b in clipped:
        a = max(a, cursor)
        if b > a:
            total += (b - a).total_seconds()
            cursor = b
    return total


def observed_seconds(created: datetime, start: datetime, end: datetime, now: datetime) -> float:
    begin, finish = max(start, created), min(end, now)
    return max(0.0, (finish - begin).total_seconds())


def availability(downtime: float, observed: float) -> float | None:
    if observed <= 0:
        return None
    return max(0.0, 1.0 - downtime / observed)


def _outages(
    session: Session, ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Span]]:
    rows = session.scalars(
        select(Outage).where(
            Outage.system_id.in_(ids),
            Outage.started_at < end,
            or_(Outage.ended_at.is_(None), Outage.ended_at > start),
        )
    )
    spans: dict[int, list[Span]] = defaultdict(list)
    for row in rows:
        started = as_utc(row.started_at)
        assert started is not None
        spans[row.system_id].append(Span(started, as_utc(row.ended_at)))
    return spans


def month_report(
    session: Session,
    year: int,
    month: int,
    timezone: str,
    *,
    systems: Sequence[MonitoredSystem] | None = None,
    now: datetime | None = None,
) -> AvailabilityReport:
    now = now or utcnow()
    if systems is None:
        systems = (
            session.scalars(
                select(MonitoredSystem).order_by(MonitoredSystem.kind, MonitoredSystem.code)
            )
            .unique()
            .all()
        )
    first = date(year, month, 1)
    days = [first + timedelta(days=n) for n in range(calendar.monthrange(year, month)[1])]
    month_start, _ = local_bounds(days[0], timezone)
    _, month_end = local_bounds(days[-1], timezone)
    ids = [s.id for s in systems]
    spans = _outages(session, ids, month_start, month_end) if ids else {}
    counts = (
        {
            (c.system_id, c.day): c
            for c in session.scalars(
                select(DailyCount).where(
                    DailyCount.system_id.in_(ids),
                    DailyCount.day >= days[0],
                    DailyCount.day <= days[-1],
                )
            )
        }
        if ids
        else {}
    )
    opened = _incidents(session, ids, month_start, month_end) if ids else {}
    rows = [
        _system_month(system, days, timezone, spans.get(system.id, []), counts, opened, now)
        for system in systems
    ]
    return AvailabilityReport(
        month=f"{year:04d}-{month:02d}", timezone=timezone, generated_at=now, systems=rows
    )


def _incidents(
    session: Session, ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Incident]]:
    found: dict[int, list[Incident]] = defaultdict(list)
    for incident in session.scalars(
        select(Incident).where(
            Incident.system_id.in_(ids), and_(Incident.opened_at >= start, Incident.opened_at < end)
        )
    ).unique():
        found[incident.system_id].append(incident)
    return found


def _system_month(
    system: MonitoredSystem,
    days: list[date],
    timezone: str,
    spans: list[Span],
    counts: dict[tuple[int, date], DailyCount],
    opened: dict[int, list[Incident]],
    now: datetime,
) -> SystemMonth:
    created = as_utc(system.created_at)
    day_rows = []
    total_down = total_observed = 0.0
    for day in days:
        start, end = local_bounds(day, timezone)
        down = overlap_seconds(spans, start, end, now)
        observed = observed_seconds(created, start, end, now)
        down = min(down, observed)  # outages before registration do not count
        total_down += down
        total_observed += observed
        count = counts.get((system.id, day))
        day_rows.append(
            DayAvailability(
                day=day,
                availability=availability(down, observed),
                downtime_s=round(down, 3),
                observed_s=round(observed, 3),
                runs=count.runs if count else 0,
                down_runs=count.down if count else 0,
                avg_latency_ms=round(count.latency_ms_sum / count.latency_n, 2)
                if count and count.latency_n
                else None,
            )
        )
    target = TARGETS[Criticality(system.criticality)].availability
    value = availability(total_down, total_observed)
    incidents = opened.get(system.id, [])
    response_met = sum(
        1
        for i in incidents
        if i.first_response_at is not None
        and (as_utc(i.first_response_at) - as_utc(i.opened_at)).total_seconds()
        <= i.response_target_s
    )
    resolution_met = sum(
        1
        for i in incidents
        if i.resolved_at is not None
        and (as_utc(i.resolved_at) - as_utc(i.opened_at)).total_seconds() <= i.resolution_target_s
    )
    return SystemMonth(
        system=system_ref(system),
        kind=SystemKind(system.kind),
        month=f"{days[0].year:04d}-{days[0].month:02d}",
        availability=value,
        target=target,
        met=None if value is None else value >= target,
        downtime_s=round(total_down, 3),
        observed_s=round(total_observed, 3),
        incidents=len(incidents),
        response_met=response_met,
        resolution_met=resolution_met,
        days=day_rows,
    )


def today_availability(
    session: Session, systems: Sequence[MonitoredSystem], timezone: str, now: datetime | None = None
) -> dict[int, float | None]:
    """Each system's availability so far today (the system map shows it)."""
    now = now or utcnow()
    today = now.astimezone(ZoneInfo(timezone)).date()
    start, end = local_bounds(today, timezone)
    ids = [s.id for s in systems]
    spans = _outages(session, ids, start, end) if ids else {}
    result = {}
    for system in systems:
        created = as_utc(system.created_at)
        observed = observed_seconds(created, start, end, now)
        down = min(overlap_seconds(spans.get(system.id, []), start, end, now), observed)
        result[system.id] = availability(down, observed)
    return result
