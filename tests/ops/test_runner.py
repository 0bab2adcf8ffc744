"""Probe runs end to end: claimed once, run in the pool, recorded with daily counts,
status, outages, incidents (opened after N failures, de-duplicated, resolved on recovery)
and outbox events; a hung probe never holds up another; data probes read the catalog,
the exchange and the sensing layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import OutboxEvent
from cityhub.core.scheduler import Scheduler
from cityhub.directory.models import Organization
from cityhub.ops import runner
from cityhub.ops.checks import CHECKS, CheckContext, CheckResult, ProbeSpec, run_check
from cityhub.ops.models import DailyCount, Incident, MonitoredSystem, Outage, Probe, ProbeResult
from cityhub.ops.vocab import Outcome, ProbeKind
from cityhub.settings import Settings

MakeSystem = Callable[..., MonitoredSystem]
MakeProbe = Callable[..., Probe]
DOWN = CheckResult(Outcome.down, 12.0, "HTTP 503 (expected 200-399)")
UP = CheckResult(Outcome.up, 8.0, "HTTP 200 in 8 ms")


def topics(db: sessionmaker[Session], prefix: str = "ops.") -> list[str]:
    with transaction(db) as session:
        return list(
            session.scalars(
                select(OutboxEvent.topic)
                .where(OutboxEvent.topic.like(f"{prefix}%"))
                .order_by(OutboxEvent.id)
            )
        )


def wait_for(condition: Callable[[], bool], timeout: float = 8.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_failures_open_one_incident_then_recovery_resolves_it(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem, make_probe: MakeProbe
) -> None:
    system = make_system("APP-JT", criticality="critical")
    probe = make_probe(system, target="http://10.0.0.1/health", failure_threshold=3)
    spec = runner.spec_of(probe)
    start = utcnow() - timedelta(minutes=10)
    at = [start + timedelta(minutes=n) for n in range(6)]

    assert runner.record(ctx, spec, DOWN, at[0]).incident_id is None  # type: ignore[union-attr]
    runner.record(ctx, spec, DOWN, at[1])
    third = runner.record(ctx, spec, DOWN, at[2])
    assert third is not None and third.incident_id is not None and third.system_status == "down"
    runner.record(ctx, spec, DOWN, at[3])  # counted on the same incident
    runner.record(ctx, spec, UP, at[4])

    with transaction(db) as session:
        [incident] = session.scalars(select(Incident)).all()
        assert incident.status == "resolved" and incident.source == "probe"
        assert incident.failure_count == 4
        assert incident.criticality == "critical" and incident.event_kind == "outage"
        assert "HTTP 503" in incident.title
        [outage] = session.scalars(select(Outage)).all()
        assert outage.started_at.replace(tzinfo=None) == at[0].replace(tzinfo=None)
        assert outage.ended_at is not None
        assert outage.ended_at.replace(tzinfo=None) == at[4].replace(tzinfo=None)
        system_row = session.get(MonitoredSystem, system.id)
        assert system_row is not None and system_row.status == "up"
        probe_row = session.get(Probe, probe.id)
        assert probe_row is not None and probe_row.consecutive_failures == 0
        assert session.scalar(select(func.count()).select_from(ProbeResult)) == 5
        day = session.scalars(select(DailyCount)).all()
        assert sum(d.down for d in day) == 4 and sum(d.up for d in day) == 1
    # The failure is announced once, the incident once, then both recoveries.
    assert topics(db) == [
        "ops.system.created",
        "ops.probe.created",
        "ops.probe.failed",
        "ops.system.status",
        "ops.incident.opened",
        "ops.probe.recovered",
        "ops.incident.resolved",
        "ops.system.status",
    ]


def test_a_flapping_probe_reopens_its_incident_until_it_is_closed(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem, make_probe: MakeProbe
) -> None:
    probe = make_probe(make_system(), target="http://10.0.0.1/", failure_threshold=1)
    spec = runner.spec_of(probe)
    runner.record(ctx, spec, DOWN)
    runner.record(ctx, spec, UP)
    runner.record(ctx, spec, DOWN)  # the resolved incident comes back
    with transaction(db) as session:
        [incident] = session.scalars(select(Incident)).all()
        assert incident.status == "opened" and incident.failure_count == 2
    runner.record(ctx, spec, UP)
    ctx.settings = ctx.settings.model_copy(update={"ops_autoclose_minutes": 1})
    assert runner.upkeep(ctx, now=utcnow() + timedelta(minutes=5))["closed"] == 1
    runner.record(ctx, spec, DOWN)  # closed: a new incident
    with transaction(db) as session:
        statuses = list(session.scalars(select(Incident.status).order_by(Incident.id)))
    assert statuses == ["closed", "opened"]


def test_skipped_results_leave_the_streak_and_status_alone(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem, make_probe: MakeProbe
) -> None:
    probe = make_probe(make_system(), target="http://10.0.0.1/", failure_threshold=2)
    spec = runner.spec_of(probe)
    runner.record(ctx, spec, DOWN)
    runner.record(ctx, spec, CheckResult(Outcome.skipped, None, "nothing to check"))
    runner.record(ctx, spec, DOWN)
    with transaction(db) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


def test_claims_are_made_once_and_the_next_run_is_scheduled(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem, make_probe: MakeProbe
) -> None:
    probe = make_probe(make_system(), target="http://10.0.0.1/", interval="30s", timeout="5s")
    now = utcnow()
    [claimed] = runner.claim_due(ctx, now)
    assert claimed.id == probe.id
    assert runner.claim_due(ctx, now) == []  # another process finds nothing left
    with transaction(db) as session:
        row = session.get(Probe, probe.id)
        assert row is not None
        next_run = row.next_run_at.replace(tzinfo=None)
    assert abs((next_run - (now + timedelta(seconds=30)).replace(tzinfo=None)).total_seconds()) < 1
    assert [s.id for s in runner.claim_due(ctx, now + timedelta(seconds=31))] == [probe.id]


def test_a_hung_probe_never_blocks_another(
    ctx: CheckContext,
    db: sessionmaker[Session],
    make_system: MakeSystem,
    make_probe: MakeProbe,
    http_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A check stuck where no timeout reaches (think of a DNS lookup that never returns):
    with one worker, the scheduler gives up on it, records the timeout, and the other
    probe still runs."""
    release = threading.Event()

    def stuck(_ctx: CheckContext, _spec: ProbeSpec) -> CheckResult:
        release.wait(30)
        return UP  # arrives far too late: never recorded

    monkeypatch.setitem(CHECKS, ProbeKind.tcp, stuck)
    monkeypatch.setattr(runner, "GRACE_SECONDS", 0.2)
    system = make_system()
    hung = make_probe(system, kind="tcp", target="10.9.9.9:5432", timeout="0.3s", interval="1h")
    fine = make_probe(system, target=f"{http_server}/ok", timeout="2s", interval="1h")
    scheduler = Scheduler(None, Settings(scheduler_workers=1, scheduler_tick_seconds=0.02))
    scheduler.start()
    try:
        assert runner.dispatch(ctx, scheduler) == 2
        assert wait_for(lambda: _outcomes(db) == {hung.id: "down", fine.id: "up"})
        release.set()
        time.sleep(0.2)
    finally:
        release.set()
        scheduler.stop()
    with transaction(db) as session:
        message = session.scalar(select(ProbeResult.message).where(ProbeResult.probe_id == hung.id))
        assert message == "the probe did not finish within 0.5s (hung target)"
        assert session.scalar(select(func.count()).select_from(ProbeResult)) == 2


def _outcomes(db: sessionmaker[Session]) -> dict[int, str]:
    with transaction(db) as session:
        return dict(session.execute(select(ProbeResult.probe_id, ProbeResult.outcome)).all())


# -- data probes over the other packages --------------------------------------------------------


def _resource(db: sessionmaker[Session], code: str, published_ago: timedelta) -> None:
    from cityhub.catalog.models import Resource

    with transaction(db) as session:
        provider = session.scalar(select(Organization).where(Organization.code == "LYGA"))
        assert provider is not None
        session.add(
            Resource(
                code=code,
                name="人口基本信息",
                provider_id=provider.id,
                category="basic",
                format="table",
                share_type="conditional",
                open_type="closed",
                update_cycle="daily",
                status="published",
                version=1,
                published_at=utcnow() - published_ago,
            )
        )


def test_freshness_follows_the_update_cycle_and_the_exchange(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem, make_probe: MakeProbe
) -> None:
    pytest.importorskip("cityhub.exchange.models")
    from cityhub.exchange.models import ResourceState

    make_system()  # creates LYGA
    code = "101001-LYGA-000001"
    _resource(db, code, published_ago=timedelta(days=3))
    probe = ProbeSpec(1, 1, "APP", "fresh", ProbeKind.freshness, code, {"grace": 1.0})
    stale = run_check(ctx, probe)
    assert stale.outcome == Outcome.down
    assert "no data since publication 3d" in stale.message and "cycle daily" in stale.message
    with transaction(db) as session:
        session.add(
            ResourceState(resource_code=code, last_completed_at=utcnow() - timedelta(hours=30))
        )
    late = run_check(ctx, probe)
    assert late.outcome == Outcome.down and "data is 1d 6h old" in late.message
    relaxed = run_check(ctx, ProbeSpec(1, 1, "APP", "f", ProbeKind.freshness, code, {"grace": 2}))
    assert relaxed.outcome == Outcome.up
    missing = run_check(ctx, ProbeSpec(1, 1, "A", "f", ProbeKind.freshness, "101001-LYGA-000009"))
    assert missing.outcome == Outcome.skipped and "not in the catalog" in missing.message


def test_device_online_rate_below_the_threshold_fails(
    ctx: CheckContext, db: sessionmaker[Session], make_system: MakeSystem
) -> None:
    pytest.importorskip("cityhub.sensing.models")
    from cityhub.sensing.models import Device, DeviceProfile

    make_system()
    now = utcnow()
    with transaction(db) as session:
        org = session.scalar(select(Organization).where(Organization.code == "LYGA"))
        assert org is not None
        profile = DeviceProfile(
            code="probe-test",
            name_zh="测试传感器",
            kind="sensor",
            expected_interval_s=60,
            offline_after_s=300,
            retention_days=7,
            rollup_1m_days=30,
            rollup_1h_days=365,
            max_points_per_minute=600,
        )
        session.add(profile)
        session.flush()
        for n, (seen, mode) in enumerate(
            [
                (now, "active"),
                (now - timedelta(hours=1), "active"),
                (None, "active"),
                (None, "maintenance"),
            ]
        ):
            session.add(
                Device(
                    code=f"DEV-{n}",
                    name=f"设备 {n}",
                    profile_id=profile.id,
                    organization_id=org.id,
                    mode=mode,
                    last_seen_at=seen,
                    offline_after=seen + timedelta(minutes=5) if seen else None,
                    token_prefix=f"tp{n}",
                    token_hash="0" * 64,
                )
            )
    low = run_check(ctx, ProbeSpec(1, 1, "S", "o", ProbeKind.device_online, "LYGA"))
    assert low.outcome == Outcome.down
    assert low.message == "1 of 3 devices online (33.3%), below 90%"  # maintenance not counted
    ok = run_check(ctx, ProbeSpec(1, 1, "S", "o", ProbeKind.device_online, "*", {"threshold": 0.3}))
    assert ok.outcome == Outcome.up
    few = run_check(
        ctx, ProbeSpec(1, 1, "S", "o", ProbeKind.device_online, "*", {"min_devices": 10})
    )
    assert few.outcome == Outcome.skipped
    lag = run_check(ctx, ProbeSpec(1, 1, "P", "l", ProbeKind.platform, "ingester_lag"))
    assert lag.outcome == Outcome.up and "newest reading" in lag.message
