"""Operations inside the server: its jobs on the app's scheduler, and the platform
registered as a monitored system of its own (self-monitoring)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import transaction, utcnow
from cityhub.core.scheduler import Job, scheduler_of
from cityhub.directory.models import Organization, OrgKind
from cityhub.ops import runner
from cityhub.ops.checks import CheckContext
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.ops.vocab import (
    Connection,
    Criticality,
    PlatformPart,
    ProbeKind,
    SystemKind,
    SystemStatus,
)
from cityhub.settings import Settings

PLATFORM_CODE = "cityhub"
# (part, name, timeout seconds)
SELF_PROBES: tuple[tuple[PlatformPart, str, float], ...] = (
    (PlatformPart.database, "数据库 database", 10.0),
    (PlatformPart.bus, "事件总线 event bus", 5.0),
    (PlatformPart.broker, "MQTT 代理 broker", 5.0),
    (PlatformPart.ingester_lag, "感知接入延迟 ingester lag", 10.0),
    (PlatformPart.scheduler, "调度器 scheduler", 5.0),
    (PlatformPart.disk, "磁盘 disk", 5.0),
)


def context_of(app: Any) -> CheckContext:
    """The probe context of an app (its database, settings, scheduler and bus)."""
    ctx: CheckContext | None = getattr(app.state, "ops_context", None)
    if ctx is None:
        ctx = CheckContext(
            factory=app.state.sessions,
            settings=app.state.settings,
            scheduler=scheduler_of(app),
            bus=getattr(app.state, "bus", None),
        )
        app.state.ops_context = ctx
    return ctx


def install(app: Any) -> None:
    """Add the probe dispatcher and the upkeep to the app's scheduler (started by the
    lifespan); the self-monitoring system is registered when the scheduler starts."""
    ctx = context_of(app)
    scheduler = scheduler_of(app)
    if scheduler.has_job("ops.dispatch"):
        return
    scheduler.add(
        Job(
            "ops.dispatch",
            ctx.settings.ops_dispatch_seconds,
            lambda: runner.dispatch(ctx, scheduler),
            timeout=60.0,
            exclusive=False,  # every process dispatches; each probe run is claimed once
        )
    )

    def upkeep() -> None:
        if ctx.settings.ops_self_monitor:  # organizations may have appeared since the start
            ensure_platform_system(ctx.factory, ctx.settings)
        runner.upkeep(ctx)

    scheduler.add(Job("ops.upkeep", 60.0, upkeep, timeout=300.0, initial_delay=60.0))
    if ctx.settings.ops_self_monitor:
        scheduler.on_start(lambda: ensure_platform_system(ctx.factory, ctx.settings))


def _platform_owner(session: Session) -> Organization | None:
    """The operating company runs the platform; else the first organization there is."""
    owner = session.scalar(
        select(Organization).where(Organization.kind == OrgKind.operator).order_by(Organization.id)
    )
    return owner or session.scalar(select(Organization).order_by(Organization.id))


def ensure_platform_system(factory: Any, settings: Settings) -> MonitoredSystem | None:
    """Register the platform and its self-probes in a transaction of their own."""
    with transaction(factory) as session:
        return platform_system_in(session, settings)


def platform_system_in(session: Session, settings: Settings) -> MonitoredSystem | None:
    """Register the platform and its self-probes (idempotent); None before any organization
    exists, since every system has an owner."""
    system = session.scalar(select(MonitoredSystem).where(MonitoredSystem.code == PLATFORM_CODE))
    if system is None:
        owner = _platform_owner(session)
        if owner is None:
            return None
        now = utcnow()
        system = MonitoredSystem(
            code=PLATFORM_CODE,
            name_zh="城市大脑公共信息平台",
            name_en="City Brain public information platform",
            organization_id=owner.id,
            kind=SystemKind.platform.value,
            criticality=Criticality.critical.value,
            connection=Connection.standard.value,
            description="cityhub 自身：数据库、事件总线、MQTT 代理、感知接入、调度器、磁盘",
            builtin=True,
            status=SystemStatus.unknown.value,
            status_since=now,
            created_at=now,
            updated_at=now,
            created_by="system:ops",
        )
        session.add(system)
        session.flush()
    have = {p.target for p in system.probes if p.kind == ProbeKind.platform}
    now = utcnow()
    # The first round waits one interval: a process that starts and stops at once
    # (a command, a test) leaves no results behind.
    first_run = now + timedelta(seconds=settings.ops_self_monitor_seconds)
    for part, name, timeout in SELF_PROBES:
        if part.value in have:
            continue
        session.add(
            Probe(
                system_id=system.id,
                name=name,
                kind=ProbeKind.platform.value,
                target=part.value,
                params={},
                interval_seconds=settings.ops_self_monitor_seconds,
                timeout_seconds=min(timeout, settings.ops_self_monitor_seconds / 2),
                failure_threshold=settings.ops_failure_threshold,
                next_run_at=first_run,
                created_at=now,
                updated_at=now,
            )
        )
    return system
