"""Time series: incremental 1-minute and 1-hour rollups, queries with aggregation, retention
per profile, and PostgreSQL's time partitions."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.core.events import OutboxEvent
from cityhub.core.scheduler import scheduler_of
from cityhub.sensing import partitions, rollups, runtime
from cityhub.sensing.maintenance import apply_retention, ensure_partitions, run_once
from cityhub.sensing.models import DirtyMinute, Rollup1h, Rollup1m, TelemetryPoint
from cityhub.settings import Settings

from .helpers import WGS_LANSHAN, now_ms, problem, register, send

HOUR = 3_600_000
HEDONG_WGS = (118.402, 35.089)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


@pytest.fixture
def series(client: TestClient, operator: dict[str, str]) -> dict[str, list[tuple[int, float]]]:
    """Two air stations (Lanshan, Hedong) with 3 hours of irregular PM2.5 readings."""
    rng = random.Random(7)
    start = now_ms() // HOUR * HOUR - 3 * HOUR
    data: dict[str, list[tuple[int, float]]] = {}
    for code, where in (("AQ-L", WGS_LANSHAN), ("AQ-H", HEDONG_WGS)):
        token = register(client, operator, code, lonlat=where)
        stamps = sorted({start + rng.randrange(0, 3 * HOUR) for _ in range(400)})
        data[code] = [(t, round(rng.uniform(5, 300), 2)) for t in stamps]
        points = [{"ts": t, "values": {"pm25": v}} for t, v in data[code]]
        assert send(client, token, {"points": points}).json()["accepted"] == len(points)
    return data


def _expected(
    data: dict[str, list[tuple[int, float]]], bucket: int, devices: list[str]
) -> dict[int, list[float]]:
    out: dict[int, list[float]] = {}
    for code in devices:
        for t, v in data[code]:
            out.setdefault(t - t % bucket, []).append(v)
    return out


def _query(client: TestClient, headers: dict[str, str], **params: object) -> dict[str, object]:
    answer = client.get("/api/v1/telemetry/query", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result


def test_rollups_match_the_raw_readings(
    series: dict[str, list[tuple[int, float]]], db: sessionmaker[Session]
) -> None:
    done = rollups.refresh_all(db)
    assert done > 0
    with db() as session:
        assert session.scalar(select(func.count()).select_from(DirtyMinute)) == 0
        minutes = {(r.device_id, r.bucket_ms): r for r in session.scalars(select(Rollup1m))}
        hours = {(r.device_id, r.bucket_ms): r for r in session.scalars(select(Rollup1h))}
        ids = dict(session.execute(text("SELECT code, id FROM sensing_devices")).all())
    for code in series:
        for bucket, step, table in ((60_000, "m", minutes), (HOUR, "h", hours)):
            expected = _expected(series, bucket, [code])
            got = {b: r for (d, b), r in table.items() if d == ids[code]}
            assert set(got) == set(expected), step
            for b, values in expected.items():
                row = got[b]
                assert row.n == len(values)
                assert row.total == pytest.approx(sum(values))
                assert (row.vmin, row.vmax) == (min(values), max(values))


def test_late_readings_update_their_old_minute_incrementally(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-LATE")
    t0 = now_ms() // 60_000 * 60_000 - 30 * 60_000
    send(client, token, {"points": [{"ts": t0 + 1000, "values": {"pm25": 10}}]})
    rollups.refresh_all(db)
    send(client, token, {"points": [{"ts": t0 + 9 * 60_000, "values": {"pm25": 99}}]})
    send(client, token, {"points": [{"ts": t0 + 2000, "values": {"pm25": 30}}]})  # late
    with db() as session:
        marks = session.scalars(select(DirtyMinute.bucket_ms)).all()
    assert sorted(marks) == [t0, t0 + 9 * 60_000]  # only what changed is recomputed
    rollups.refresh_all(db)
    with db() as session:
        minute = session.scalar(select(Rollup1m).where(Rollup1m.bucket_ms == t0))
        assert minute is not None and (minute.n, minute.total, minute.vmax) == (2, 40.0, 30.0)
        hour = session.scalar(
            select(func.sum(Rollup1h.n)).where(Rollup1h.bucket_ms >= t0 - t0 % HOUR)
        )
    assert hour == 3


def test_query_aggregations_and_buckets(
    client: TestClient, operator: dict[str, str], series: dict[str, list[tuple[int, float]]]
) -> None:
    start = min(t for rows in series.values() for t, _ in rows) // HOUR * HOUR
    end = start + 3 * HOUR
    both = ["AQ-L", "AQ-H"]
    for bucket, ms, source in (
        ("1h", HOUR, "rollup_1h"),
        ("5m", 300_000, "rollup_1m"),
        ("30s", 30_000, "raw"),
    ):
        expected = _expected(series, ms, both)
        for agg, fn in (
            ("avg", lambda v: sum(v) / len(v)),
            ("min", min),
            ("max", max),
            ("sum", sum),
            ("count", len),
        ):
            result = _query(
                client,
                operator,
                metric="pm25",
                bucket=bucket,
                agg=agg,
                **{"from": _iso(start), "to": _iso(end)},
                device=both,
            )
            assert result["source"] == source and result["unit"] == "μg/m³"
            (only,) = result["series"]  # type: ignore[misc]
            got = {p["t"]: p["v"] for p in only["points"]}
            want = {
                datetime.fromtimestamp(b / 1000, UTC).isoformat().replace("+00:00", "Z"): fn(v)
                for b, v in expected.items()
            }
            assert got.keys() == want.keys()
            for key, value in want.items():
                assert got[key] == pytest.approx(value), (bucket, agg, key)


def test_query_by_region_organization_and_per_device(
    client: TestClient, operator: dict[str, str], series: dict[str, list[tuple[int, float]]]
) -> None:
    window = {"from": _iso(now_ms() - 4 * HOUR), "to": _iso(now_ms() + 60_000)}
    hedong = _query(
        client, operator, metric="pm25", region="371312", bucket="1h", agg="count", **window
    )
    assert hedong["devices"] == 1
    assert sum(p["n"] for p in hedong["series"][0]["points"]) == len(series["AQ-H"])  # type: ignore[index]
    split = _query(
        client,
        operator,
        metric="pm25",
        organization="LYZHYY",
        bucket="1h",
        agg="count",
        group="device",
        **window,
    )
    counts = {s["device"]: sum(p["v"] for p in s["points"]) for s in split["series"]}  # type: ignore[union-attr]
    assert counts == {"AQ-L": len(series["AQ-L"]), "AQ-H": len(series["AQ-H"])}
    raw = _query(client, operator, metric="pm25", device="AQ-L", **window)
    assert [p["v"] for p in raw["series"][0]["points"]] == [v for _, v in series["AQ-L"]]  # type: ignore[index]
    empty = _query(client, operator, metric="pm25", region="371321", bucket="1h", **window)
    assert empty["devices"] == 0 and empty["series"] == []


def test_bad_queries_are_precise(client: TestClient, operator: dict[str, str]) -> None:
    register(client, operator, "AQ-Q")

    def get(**params: object) -> object:
        return client.get("/api/v1/telemetry/query", params=params, headers=operator)

    problem(get(metric="pm25", bucket="5 minutes"), 422, "not a duration like 30s")
    problem(
        get(metric="pm25", bucket="1s", **{"from": "2020-01-01T00:00:00Z"}), 422, "more than 10000"
    )
    problem(
        get(metric="pm25", **{"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
        422,
        "later than",
    )
    problem(get(metric="voltage_v", device="AQ-Q"), 422, "reports metric 'voltage_v'")
    problem(get(metric="pm25", device="NOPE"), 404, "NOPE")
    problem(get(metric="pm25", agg="median"), 422, "agg")
    problem(get(metric="pm25", region="37"), 422, "region")


def test_retention_is_per_profile(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    client.patch("/api/v1/device-profiles/bus-gnss", json={"retention_days": 1}, headers=operator)
    bus = register(client, operator, "BUS-R", profile="bus-gnss")
    air = register(client, operator, "AQ-R")
    old = now_ms() - 30 * HOUR
    send(
        client,
        bus,
        {"points": [{"ts": old, "values": {"speed_kmh": 10}}, {"values": {"speed_kmh": 11}}]},
    )
    send(client, air, {"points": [{"ts": old, "values": {"pm25": 10}}, {"values": {"pm25": 11}}]})
    rollups.refresh_all(db)
    with transaction(db) as session:
        removed = apply_retention(session, datetime.now(UTC))
    assert removed["raw"] == 1  # the bus's 30-hour-old fix; the air station keeps 90 days
    with db() as session:
        left = dict(
            session.execute(
                text(
                    "SELECT d.code, count(*) FROM telemetry_points p JOIN sensing_devices d "
                    "ON d.id = p.device_id GROUP BY d.code"
                )
            ).all()
        )
    assert left == {"BUS-R": 1, "AQ-R": 2}


def test_upkeep_pass_runs_everything(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session], settings: Settings
) -> None:
    token = register(client, operator, "AQ-U")
    send(client, token, {"values": {"pm25": 10}})
    later = datetime.now(UTC) + timedelta(minutes=10)  # silent for longer than 3 intervals
    done = run_once(db, settings, now=later)
    assert done.rollups == 1 and done.offline == 1
    with db() as session:
        announced = session.scalar(text("SELECT announced_status FROM sensing_devices"))
        event = session.scalar(
            select(OutboxEvent.payload)
            .where(OutboxEvent.topic == "sensing.device.status_changed")
            .order_by(OutboxEvent.id.desc())
        )
    assert announced == "offline" and '"to": "offline"' in (event or "")
    assert run_once(db, settings, now=later).offline == 0  # announced once


def test_postgresql_partitions_by_time(settings: Settings, db: sessionmaker[Session]) -> None:
    engine = db.kw["bind"]
    if engine.dialect.name != "postgresql":
        pytest.skip("declarative partitioning is PostgreSQL's; SQLite keeps one indexed table")
    with engine.connect() as conn:
        kinds = dict(
            conn.execute(
                text(
                    "SELECT c.relname, p.partstrat FROM pg_partitioned_table p "
                    "JOIN pg_class c ON c.oid = p.partrelid WHERE c.relnamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
                )
            ).all()
        )
    assert kinds == {
        "telemetry_points": "r",
        "telemetry_rollup_1m": "r",
        "telemetry_rollup_1h": "r",
    }
    ensure_partitions(engine, settings)
    names = partitions.existing(engine, partitions.RAW)
    today = datetime.now(UTC)
    for days in range(-3, 8):  # the whole accepted window, and a week ahead
        suffix = (today + timedelta(days=days)).strftime("%Y%m%d")
        assert any(n.endswith(f"_p{suffix}") for n in names), suffix
    old = int((today - timedelta(days=400)).timestamp() * 1000)
    assert partitions.ensure(engine, partitions.RAW, old, old) == 1
    dropped = partitions.drop_before(engine, partitions.RAW, old + 2 * 86_400_000)
    assert len(dropped) == 1 and dropped[0] not in partitions.existing(engine, partitions.RAW)
    with transaction(db) as session:  # the visible schema holds only the models' tables
        visible = set(
            session.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )
        count = session.scalar(select(func.count()).select_from(TelemetryPoint))
    assert not any("_p2" in name for name in visible) and count == 0


def test_upkeep_runs_as_scheduler_jobs(
    client: TestClient, operator: dict[str, str], settings: Settings, db: sessionmaker[Session]
) -> None:
    """The server's upkeep is jobs of its scheduler, not a thread of its own; each job works."""
    scheduler = scheduler_of(client.app)
    names = {"sensing.rollups", "sensing.status", "sensing.webhooks", "sensing.retention"}
    assert all(scheduler.has_job(name) for name in names)
    assert not any(t.name == "sensing-upkeep" for t in threading.enumerate())
    token = register(client, operator, "AQ-JOB")
    send(client, token, {"values": {"pm25": 40.0}})
    found = {job.name: job for job in runtime.jobs(settings, db)}
    assert set(found) == names and found["sensing.retention"].interval >= 600
    assert found["sensing.rollups"].func() == 1  # the one dirty device-minute
    assert found["sensing.status"].func() == (0, 0)
    assert found["sensing.webhooks"].func() == 0
    assert set(found["sensing.retention"].func()) == {"raw", "rollup_1m", "rollup_1h"}  # type: ignore[arg-type]
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Rollup1h)) == 1
    settings.sensing_maintenance_seconds = 0
    assert runtime.jobs(settings, db) == []
