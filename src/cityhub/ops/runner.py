"""Running probes: claim the due ones, run each in the scheduler's pool under its own
timeout, and record each result with everything it implies (daily counts, the system's
status, outages, incidents, events) in one transaction."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, contains_eager

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import attach, emit
from cityhub.core.scheduler import Scheduler, claim_completion
from cityhub.ops import automation
from cityhub.ops.checks import CheckContext, CheckResult, ProbeSpec, run_check
from cityhub.ops.incidents import SYSTEM_ACTOR
from cityhub.ops.models import DailyCount, MonitoredSystem, Outage, Probe, ProbeResult
from cityhub.ops.systems import refresh_status
from cityhub.ops.vocab import PROBE_EVENT, Outcome, ProbeKind, SystemStatus

log = logging.getLogger("cityhub.ops")
GRACE_SECONDS = 2.0  # the scheduler's timeout beyond the probe's own


def spec_of(probe: Probe) -> ProbeSpec:
    return ProbeSpec(
        id=probe.id,
        system_id=probe.system_id,
        system_code=probe.system.code,
        name=probe.name,
        kind=ProbeKind(probe.kind),
        target=probe.target,
        params=dict(probe.params),
        interval_seconds=probe.interval_seconds,
        timeout_seconds=probe.timeout_seconds,
        failure_threshold=probe.failure_threshold,
    )


def local_day(at: datetime, timezone: str) -> date:
    return at.astimezone(ZoneInfo(timezone)).date()


# -- claiming ------------------------------------------------------------------------------


def claim_due(ctx: CheckContext, now: datetime | None = None, limit: int = 200) -> list[ProbeSpec]:
    """Take the probes due now: each is claimed with one conditional UPDATE, so with several
    processes every run happens in exactly one of them."""
    now = now or utcnow()
    with transaction(ctx.factory) as session:
        due = session.scalars(
            select(Probe)
            .join(MonitoredSystem, MonitoredSystem.id == Probe.system_id)
            .where(
                Probe.enabled.is_(True),
                MonitoredSystem.active.is_(True),
                Probe.next_run_at <= now,
                or_(Probe.lease_until.is_(None), Probe.lease_until <= now),
            )
            .order_by(Probe.next_run_at)
            .limit(limit)
            .options(contains_eager(Probe.system))
        ).all()
        specs = {p.id: spec_of(p) for p in due}
    claimed = []
    for spec in specs.values():
        with transaction(ctx.factory) as session:
            taken = session.execute(
                update(Probe)
                .where(
                    Probe.id == spec.id,
                    Probe.next_run_at <= now,
                    or_(Probe.lease_until.is_(None), Probe.lease_until <= now),
                )
                .values(
                    next_run_at=now + timedelta(seconds=spec.interval_seconds),
                    lease_until=now + timedelta(seconds=spec.timeout_seconds + 2 * GRACE_SECONDS),
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(spec)
    return claimed


def dispatch(ctx: CheckContext, scheduler: Scheduler) -> int:
    """Scheduler job: start every due probe in the pool; returns how many were started."""
    started = 0
    for spec in claim_due(ctx, limit=ctx.settings.ops_dispatch_batch):
        if scheduler.submit(
            f"ops.probe:{spec.id}",
            lambda spec=spec: execute(ctx, spec),  # type: ignore[misc]
            spec.timeout_seconds + GRACE_SECONDS,
            on_timeout=lambda spec=spec: record_timeout(ctx, spec),  # type: ignore[misc]
        ):
            started += 1
        else:
            log.warning("probe still blocked in its previous run", extra={"probe": spec.id})
    return started


# -- running --------------------------------------------------------------------------------


def execute(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    """Run the check and record it, unless the scheduler gave up on this run meanwhile."""
    result = run_check(ctx, spec)
    if claim_completion():
        record(ctx, spec, result)
    return result


def record_timeout(ctx: CheckContext, spec: ProbeSpec) -> None:
    limit = spec.timeout_seconds + GRACE_SECONDS
    record(
        ctx,
        spec,
        CheckResult(
            Outcome.down, limit * 1000, f"the probe did not finish within {limit:g}s (hung target)"
        ),
    )


def run_now(ctx: CheckContext, spec: ProbeSpec, session: Session) -> CheckResult:
    """Run one probe at once (the API's "run now") in its own thread, bounded the same way,
    and record the result in the caller's transaction."""
    box: list[CheckResult] = []
    worker = threading.Thread(target=lambda: box.append(run_check(ctx, spec)), daemon=True)
    worker.start()
    limit = spec.timeout_seconds + GRACE_SECONDS
    worker.join(limit)
    result = (
        box[0]
        if box
        else CheckResult(
            Outcome.down, limit * 1000, f"the probe did not finish within {limit:g}s (hung target)"
        )
    )
    record_in(session, ctx, spec, result)
    return result


# -- recording ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    system_status: str
    incident_id: int | None


def _bump_daily(session: Session, system_id: int, day: date, result: CheckResult) -> None:
    outcome = result.outcome
    values = {
        "system_id": system_id,
        "day": day,
        "runs": 1,
        "up": int(outcome == Outcome.up),
        "degraded": int(outcome == Outcome.degraded),
        "down": int(outcome == Outcome.down),
        "skipped": int(outcome == Outcome.skipped),
        "latency_ms_sum": result.latency_ms or 0.0,
        "latency_n": int(result.latency_ms is not None and outcome != Outcome.skipped),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DailyCount).values(**values)
    counted = [k for k in values if k not in ("system_id", "day")]
    stmt = stmt.on_conflict_do_update(
        index_elements=["system_id", "day"],
        set_={k: getattr(DailyCount, k) + getattr(stmt.excluded, k) for k in counted},
    )
    session.execute(stmt)


def _track_outage(session: Session, system: MonitoredSystem, probe: Probe, at: datetime) -> None:
    open_outage = session.scalars(
        select(Outage).where(Outage.system_id == system.id, Outage.ended_at.is_(None)).limit(1)
    ).first()
    if system.status == SystemStatus.down and open_outage is None:
        session.add(Outage(system_id=system.id, started_at=at, probe_id=probe.id))
    elif system.status != SystemStatus.down and open_outage is not None:
        open_outage.ended_at = at


def record(
    ctx: CheckContext, spec: ProbeSpec, result: CheckResult, at: datetime | None = None
) -> Recorded | None:
    """Store one result and everything it implies, in a transaction of its own."""
    with ctx.factory() as session, session.begin():
        if ctx.bus is not None:
            attach(session, ctx.bus)
        return record_in(session, ctx, spec, result, at)


def record_in(
    session: Session,
    ctx: CheckContext,
    spec: ProbeSpec,
    result: CheckResult,
    at: datetime | None = None,
) -> Recorded | None:
    """Store one result in the caller's transaction; None when the probe was deleted."""
    at = at or utcnow()
    # Write first: the system row's lock orders concurrent results of one system
    # (a row lock on PostgreSQL, the write lock on SQLite).
    session.execute(
        update(MonitoredSystem)
        .where(MonitoredSystem.id == spec.system_id)
        .values(checked_at=at)
        .execution_options(synchronize_session=False)
    )
    probe = session.get(Probe, spec.id)
    if probe is None:
        return None
    system = probe.system
    session.add(
        ProbeResult(
            probe_id=probe.id,
            system_id=system.id,
            at=at,
            outcome=result.outcome.value,
            latency_ms=result.latency_ms,
            message=result.message,
        )
    )
    _bump_daily(session, system.id, local_day(at, ctx.settings.local_timezone), result)
    incident_id = _apply(session, probe, system, result, at)
    before, after = refresh_status(system, at)
    _track_outage(session, system, probe, at)
    if before != after:
        emit(
            session,
            "ops.system.status",
            {"code": system.code, "status": after, "previous": before},
            actor=SYSTEM_ACTOR,
        )
    session.flush()
    return Recorded(result.outcome, after, incident_id)


def _apply(
    session: Session, probe: Probe, system: MonitoredSystem, result: CheckResult, at: datetime
) -> int | None:
    """Update the probe's state; open, count or resolve its incident."""
    previous = probe.last_outcome
    probe.last_run_at, probe.lease_until = at, None
    probe.last_outcome = result.outcome.value
    probe.last_latency_ms, probe.last_message = result.latency_ms, result.message
    payload = {
        "id": probe.id,
        "system": system.code,
        "name": probe.name,
        "kind": probe.kind,
        "message": result.message,
    }
    if result.outcome == Outcome.down:
        probe.consecutive_failures += 1
        if previous != Outcome.down:
            probe.failing_since = at
            emit(session, "ops.probe.failed", payload, actor=SYSTEM_ACTOR)
        if probe.consecutive_failures >= probe.failure_threshold:
            kind = PROBE_EVENT[ProbeKind(probe.kind)]
            opened = automation.probe_failing(session, probe, system, result.message, at, kind)
            return opened.id if opened else None
    elif result.outcome in (Outcome.up, Outcome.degraded):
        if previous == Outcome.down:
            emit(session, "ops.probe.recovered", payload, actor=SYSTEM_ACTOR)
            automation.probe_recovered(session, probe, result.message, at)
        probe.consecutive_failures, probe.failing_since = 0, None
    return None


# -- upkeep -----------------------------------------------------------------------------------


def upkeep(ctx: CheckContext, now: datetime | None = None) -> dict[str, int]:
    """Scheduler job: close long-resolved incidents, drop results past their retention."""
    now = now or utcnow()
    with ctx.factory() as session, session.begin():
        if ctx.bus is not None:
            attach(session, ctx.bus)
        closed = automation.autoclose(session, ctx.settings.ops_autoclose_minutes, now)
    cutoff = now - timedelta(days=ctx.settings.ops_result_retention_days)
    with transaction(ctx.factory) as session:
        pruned = session.execute(
            delete(ProbeResult)
            .where(ProbeResult.at < cutoff)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return {"closed": closed, "pruned": pruned or 0}
