"""The demo city's devices and their simulators: placement, patterns, breaches, faults,
live in-process ingestion and the history written at start."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.directory.regions import region_index
from cityhub.sensing import demo, simulate
from cityhub.sensing.geo import wgs84_to_gcj02
from cityhub.sensing.models import Alarm, AlarmRule, Device, Rejection, Rollup1h, TelemetryPoint
from cityhub.settings import Settings

HOUR = 3_600_000
DAY_START = 1_767_196_800_000  # 2026-01-01 00:00 in Linyi (UTC+8) = 2025-12-31T16:00Z


@pytest.fixture
def city(
    settings: Settings, db: sessionmaker[Session], org: Callable[..., object]
) -> list[simulate.SimDevice]:
    """The sensing part of `cityhub demo` (which calls `demo.build` the same way)."""
    for code in sorted({f.org for f in demo.FLEETS} | {demo.BUS_ORG}):
        org(code, f"演示单位 {code}")
    with transaction(db) as session:
        assert demo.build(session, settings, seed=7) == 128
    return simulate.load(db, settings)


def _at(hour: float) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([DAY_START + int(hour * HOUR)], dtype=np.int64)


def test_demo_places_every_kind_in_every_district_and_is_idempotent(
    city: list[simulate.SimDevice], settings: Settings, db: sessionmaker[Session]
) -> None:
    models = Counter(d.model for d in city)
    assert models == {"air": 24, "water": 12, "traffic": 24, "meter": 36, "camera": 24, "bus": 8}
    with db() as session:
        rows = session.execute(
            select(Device.code, Device.region_code, Device.lon, Device.lat)
        ).all()
        rules = session.scalars(select(AlarmRule.name)).all()
    index = region_index(settings)
    for code, region, lon, lat in rows:
        if not code.startswith("BUS"):
            assert code.split("-")[1] == region  # placed inside its district (after GCJ shift)
        glon, glat = wgs84_to_gcj02([lon], [lat])
        assert index.locate(float(glon[0]), float(glat[0])) == region
    assert len(rules) == len(demo.RULES)
    with transaction(db) as session:
        assert demo.build(session, settings, seed=7) == 0


def test_daily_patterns_breaches_and_faults(city: list[simulate.SimDevice]) -> None:
    by_model = {d.model: d for d in city}
    air, traffic, meter = by_model["air"], by_model["traffic"], by_model["meter"]
    day = DAY_START + np.arange(0, 24 * 60, dtype=np.int64) * 60_000
    pm = simulate.air(air, day)["pm25"]
    hour = ((day - DAY_START) // HOUR) % 24
    calm = pm[(pm > 0) & (pm < 150)]
    assert calm.size > 1000
    rush = np.median(pm[(hour == 8) & (pm < 150)])
    night = np.median(pm[(hour == 4) & (pm < 150)])
    assert rush > night + 15  # the morning rush
    assert (pm > 150).any() and (pm < 0).any()  # an episode, and a glitching sensor
    speed = simulate.traffic(traffic, day)["speed_kmh"]
    assert speed[hour == 8].mean() < 25 < speed[hour == 13].mean()
    volts = simulate.meter(meter, day)["voltage_v"]
    assert (volts < 198).any() and np.median(volts) == pytest.approx(221, abs=2)
    energy = simulate.meter(meter, day)["energy_kwh"]
    assert (np.diff(energy) > 0).all()
    reports = {json.dumps(simulate.status_report(meter, int(t))) for t in day}
    assert any('"fault"' in r for r in reports) and any('"ok"' in r for r in reports)


def test_buses_move_along_their_route_inside_the_city(
    city: list[simulate.SimDevice], settings: Settings
) -> None:
    bus = next(d for d in city if d.model == "bus")
    t = DAY_START + np.arange(0, 3600, 10, dtype=np.int64) * 1000
    fixes = simulate.bus(bus, t)
    steps = np.hypot(np.diff(fixes["lon"]), np.diff(fixes["lat"])) * 111_000
    assert steps.max() < 10 * 30  # never faster than 30 m/s between 10-second fixes
    assert steps.sum() > 5_000  # but it does travel
    glon, glat = wgs84_to_gcj02(fixes["lon"], fixes["lat"])
    assert None not in region_index(settings).locate_many(glon, glat)
    assert ((fixes["heading"] >= 0) & (fixes["heading"] < 360)).all()


def test_live_steps_ingest_in_process_and_raise_alarms(
    city: list[simulate.SimDevice], settings: Settings, db: sessionmaker[Session]
) -> None:
    now = simulate.now_ms()
    chosen = [d for d in city if d.code in ("AQ-371302-01", "EM-371302-01", "CAM-371302-01")]
    sim = simulate.Simulator(settings, db, chosen)
    # 7.5 hours of reports, in 5-minute steps as the running demo sends them: longer than
    # the glitching sensor's 7-hour period, so its minute is in, whatever the time of day.
    sim._last = now - 15 * HOUR // 2
    sent = sum(sim.step(now - 15 * HOUR // 2 + k * 300_000) for k in range(1, 91))
    assert sent > 6 * 60 * 2
    with db() as session:
        stored = session.scalar(select(func.count()).select_from(TelemetryPoint)) or 0
        rejected = dict(session.execute(select(Rejection.reason, Rejection.count)).all())
        alarms = Counter(
            session.scalars(select(AlarmRule.name).join(Alarm, Alarm.rule_id == AlarmRule.id))
        )
        camera = session.scalar(select(Device).where(Device.code == "CAM-371302-01"))
    assert stored > 1000
    assert rejected.get("out_of_range", 0) >= 1  # the glitching PM2.5 sensor
    assert alarms["PM2.5 重度污染"] >= 1 and alarms["电压过低"] >= 1
    assert camera is not None and camera.last_seen_at is not None


def test_history_is_written_at_start(
    city: list[simulate.SimDevice], settings: Settings, db: sessionmaker[Session]
) -> None:
    sim = simulate.Simulator(settings, db, city[:10])
    assert sim.needs_history()
    written = sim.backfill(hours=2, step_s=600)
    assert written > 100 and not sim.needs_history()
    with db() as session:
        assert (session.scalar(select(func.count()).select_from(Rollup1h)) or 0) > 0
