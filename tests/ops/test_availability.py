"""SLA arithmetic: availability = 1 - downtime / observed time per local day and month,
overlapping outages counted once, time before registration not counted, targets met or not."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.ops.availability import (
    Span,
    local_bounds,
    month_report,
    overlap_seconds,
    parse_month,
)
from cityhub.ops.models import MonitoredSystem, Outage
from cityhub.ops.schemas import SystemMonth
from cityhub.security.models import Role

MakeSystem = Callable[..., MonitoredSystem]
TZ = "Asia/Shanghai"
NOV_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 2026-11-01 00:00 in Linyi
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def at(day: int, hour: float = 0.0) -> datetime:
    """November 2026, local time, as UTC."""
    return NOV_START + timedelta(days=day - 1, hours=hour)


def test_overlaps_are_merged_clipped_and_open_ended() -> None:
    start, end = at(1), at(2)
    spans = [
        Span(at(1, 1), at(1, 3)),
        Span(at(1, 2), at(1, 4)),  # overlaps the first: counted once
        Span(at(0, 23), at(1, 0.5)),  # begins the day before: clipped
        Span(at(1, 23), None),  # still going: up to `now`
    ]
    now = at(1, 23.5)
    assert overlap_seconds(spans, start, end, now) == (0.5 + 3 + 0.5) * 3600
    assert overlap_seconds(spans, start, end, at(3)) == (0.5 + 3 + 1) * 3600
    assert overlap_seconds([], start, end, now) == 0


def test_local_days_are_days_in_the_city() -> None:
    assert local_bounds(date(2026, 11, 1), TZ) == (NOV_START, NOV_START + timedelta(days=1))
    assert local_bounds(date(2026, 3, 29), "Europe/Berlin")[1] - local_bounds(
        date(2026, 3, 29), "Europe/Berlin"
    )[0] == timedelta(hours=23)


def _outages(db: sessionmaker[Session], system: MonitoredSystem, *spans: Span) -> None:
    with transaction(db) as session:
        session.execute(
            update(MonitoredSystem)
            .where(MonitoredSystem.id == system.id)
            .values(created_at=NOV_START - timedelta(days=30))
        )
        for span in spans:
            session.add(Outage(system_id=system.id, started_at=span.start, ended_at=span.end))


def _month(db: sessionmaker[Session], system: MonitoredSystem) -> SystemMonth:
    with transaction(db) as session:
        row = session.get(MonitoredSystem, system.id)
        assert row is not None
        return month_report(session, 2026, 11, TZ, systems=[row], now=NOW).systems[0]


@pytest.mark.parametrize(
    ("downtime", "met"),
    [(2592.0, True), (2593.0, False)],  # 99.9% of a 30-day month leaves 43.2 minutes
)
def test_a_critical_month_meets_its_999_target_with_at_most_43_2_minutes_down(
    db: sessionmaker[Session], make_system: MakeSystem, downtime: float, met: bool
) -> None:
    system = make_system("APP-C", criticality="critical")
    _outages(db, system, Span(at(10, 3), at(10, 3) + timedelta(seconds=downtime)))
    month = _month(db, system)
    assert month.observed_s == 30 * 86400
    assert month.downtime_s == downtime
    assert month.availability == pytest.approx(1 - downtime / (30 * 86400))
    assert month.target == 0.999
    assert month.met is met


def test_days_split_an_outage_across_midnight_and_count_from_registration(
    db: sessionmaker[Session], make_system: MakeSystem
) -> None:
    system = make_system("APP-M", criticality="medium")
    _outages(
        db,
        system,
        Span(at(2, 21.6), at(3, 0)),  # 2.4 h on the 2nd
        Span(at(4, 23), at(5, 1)),  # 1 h on the 4th, 1 h on the 5th
        Span(at(4, 23.5), at(5, 0.5)),  # inside the previous one: nothing more
    )
    month = _month(db, system)
    days = {d.day.day: d for d in month.days}
    assert days[2].availability == pytest.approx(0.9)
    assert days[4].downtime_s == days[5].downtime_s == 3600
    assert days[1].availability == 1.0
    assert month.downtime_s == pytest.approx((2.4 + 2) * 3600)
    # Registered mid-month: only the time since counts.
    with transaction(db) as session:
        session.execute(
            update(MonitoredSystem).where(MonitoredSystem.id == system.id).values(created_at=at(16))
        )
    month = _month(db, system)
    days = {d.day.day: d for d in month.days}
    assert days[15].availability is None and days[15].observed_s == 0
    assert month.observed_s == 15 * 86400 and month.downtime_s == 0


def test_the_month_parameter_is_checked(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    assert parse_month("2026-02", TZ) == (2026, 2)
    viewer = auth(Role.viewer)
    response = client.get("/api/v1/ops/availability?month=2026-13", headers=viewer)
    assert response.status_code == 400
    assert response.json()["detail"] == "month '2026-13' is not YYYY-MM, e.g. 2026-11"
    assert client.get("/api/v1/ops/availability?month=26-1", headers=viewer).status_code == 422
    empty = client.get("/api/v1/ops/availability?month=2026-11", headers=viewer).json()
    assert empty["month"] == "2026-11" and empty["systems"] == []


def test_the_api_reports_a_system_month(
    client: TestClient,
    db: sessionmaker[Session],
    make_system: MakeSystem,
    auth: Callable[..., dict[str, str]],
) -> None:
    system = make_system("APP-H", criticality="high")
    _outages(db, system, Span(at(3, 10), at(3, 14)))
    body = client.get(
        "/api/v1/ops/systems/APP-H/availability?month=2026-11", headers=auth(Role.auditor)
    ).json()
    assert body["downtime_s"] == 4 * 3600 and len(body["days"]) == 30
    assert body["availability"] == pytest.approx(1 - 4 * 3600 / body["observed_s"])
    assert body["met"] is False  # high: 99.5% allows 3.6 hours in a whole month
