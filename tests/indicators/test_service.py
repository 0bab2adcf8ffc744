"""Built-in indicators computed from the other packages' tables, their series, the
snapshots the cockpit shows, and refresh on events without anyone asking."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.times import as_utc
from cityhub.indicators import service
from cityhub.library import golden
from cityhub.library.specs import ECONOMY
from cityhub.settings import Settings

from .helpers import pm25_rule, reading, register


def _latest(db: sessionmaker[Session], code: str) -> dict[str, float]:
    with db() as session:
        rows = service.latest(session, [code]).get(code, {})
    return {region: row.value for region, row in rows.items()}


def test_residents_by_district_leave_out_the_dead(
    settings: Settings,
    db: sessionmaker[Session],
    residents: Callable[..., None],
) -> None:
    assert service.recompute(db, settings, ["library.residents"]).changed == []  # no library
    residents({"371302": 3, "371311": 2}, dead=1)
    outcome = service.recompute(db, settings, ["library.residents"])
    assert outcome.changed == ["library.residents"] and outcome.failed == {}
    values = _latest(db, "library.residents")
    assert values["371300"] == 5 and values["371302"] == 3 and values["371311"] == 2
    assert values["371329"] == 0 and len(values) == 13  # every district, and the city


def test_economy_takes_the_latest_period(settings: Settings, db: sessionmaker[Session]) -> None:
    layout = ECONOMY.layout
    rows = [
        (region, period, value)
        for period, scale in (("2024Q3", 1.0), ("2024Q4", 2.0))
        for region, value in (("371300", 1460.0 * scale), ("371302", 300.0 * scale))
    ]
    with transaction(db) as session:
        conn = session.connection()
        golden.ensure(conn, layout)
        conn.execute(
            insert(golden.table(layout)),
            [
                {"qhdm": r, "tjq": p, "zbdm": "GDP", "zbmc": "地区生产总值", "zbz": v,
                 "jldw": "亿元", golden.KEY: f"{r}|{p}|GDP", golden.HASH: k,
                 "_updated_at": utcnow()}
                for k, (r, p, v) in enumerate(rows)
            ],
        )  # fmt: skip
    service.recompute(db, settings, ["economy.gdp"])
    with db() as session:
        latest = service.latest(session, ["economy.gdp"])["economy.gdp"]
    assert latest["371300"].value == 2920.0 and latest["371300"].note == "2024Q4"
    assert latest["371302"].value == 600.0


def test_devices_alarms_ticker_and_series(
    client: TestClient, settings: Settings, db: sessionmaker[Session], operator: dict[str, str]
) -> None:
    pm25_rule(client, operator)
    token = register(client, operator, "AQ-CK1")
    register(client, operator, "AQ-CK2", lonlat=(118.60, 35.55))  # 沂南县, never heard from
    reading(client, token, 220)
    outcome = service.recompute(db, settings)
    assert outcome.failed == {}
    assert _latest(db, "sensing.open_alarms")["371302"] == 1
    assert _latest(db, "sensing.open_alarms")["371300"] == 1
    assert _latest(db, "sensing.alarms_today")["371300"] == 1
    rate = _latest(db, "sensing.online_rate")
    assert rate["371302"] == 100.0 and rate["371300"] == 50.0
    with db() as session:
        ticker, at = service.snapshot(session, "ticker")
        devices, _ = service.snapshot(session, "devices")
        points = service.series(session, "sensing.open_alarms", "371302")
    assert at is not None and ticker[0]["kind"] == "alarm" and ticker[0]["region"] == "371302"
    assert "pm25 220 > 150" in ticker[0]["title"]
    assert {d["code"]: d["status"] for d in devices} == {"AQ-CK1": "online", "AQ-CK2": "offline"}
    assert [p.value for p in points] == [1.0]  # one point per hour: recomputing replaces it
    service.recompute(db, settings, ["sensing.open_alarms"])
    with db() as session:
        assert len(service.series(session, "sensing.open_alarms", "371302")) == 1


def test_backfill_gives_daily_indicators_a_history(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    written = service.backfill(db, settings, days=3)
    assert written > 0
    with db() as session:
        points = service.series(session, "exchange.deliveries_today", "371300")
        days = service.daily(points, settings.local_timezone)
        residents = service.series(session, "library.residents", "371300")
    assert len(days) == 3 and all(p.value == 0 for p in days)
    assert residents == []  # not a daily count: its past is not made up


def test_an_alarm_refreshes_indicators_by_itself(
    client: TestClient, db: sessionmaker[Session], operator: dict[str, str]
) -> None:
    """No recompute call: the bus marks the indicator, the job recomputes it."""
    pm25_rule(client, operator)
    token = register(client, operator, "AQ-CK3")
    reading(client, token, 300)
    deadline = time.monotonic() + 30  # seconds, not the debounce: the machine may be busy

    def ticker() -> list[dict[str, object]]:
        with db() as session:
            items, _ = service.snapshot(session, "ticker")
        return list(items)

    # The indicator is written first, the ticker snapshot right after it: wait for both.
    while _latest(db, "sensing.open_alarms").get("371302") != 1 or not any(
        item["kind"] == "alarm" for item in ticker()
    ):
        assert time.monotonic() < deadline, "open alarms and the ticker were not recomputed"
        time.sleep(0.1)
    with db() as session:
        _, at = service.snapshot(session, "ticker")
    assert at is not None and utcnow() - (as_utc(at) or at) < timedelta(minutes=1)
