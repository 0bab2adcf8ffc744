"""The platform probing its own parts: database, event bus, MQTT broker, ingester lag,
scheduler and disk."""

from __future__ import annotations

import shutil
import socket
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select, text

from cityhub.core.db import utcnow
from cityhub.core.scheduler import JobLease
from cityhub.ops.checks.base import CheckContext, CheckResult, ProbeSpec, connect_reason, elapsed_ms
from cityhub.ops.checks.data import newest_reading_age
from cityhub.ops.checks.net import mqtt_reachable
from cityhub.ops.durations import format_duration
from cityhub.ops.schemas import PlatformParams
from cityhub.ops.vocab import Outcome, PlatformPart

OVERDUE_GRACE = timedelta(minutes=5)


def _database(ctx: CheckContext, spec: ProbeSpec, _p: PlatformParams) -> CheckResult:
    started = time.perf_counter()
    with ctx.factory() as session:
        session.execute(text("SELECT 1"))
    latency = elapsed_ms(started)
    return CheckResult(Outcome.up, latency, f"the platform database answered in {latency:.0f} ms")


def _bus(ctx: CheckContext, spec: ProbeSpec, _p: PlatformParams) -> CheckResult:
    url = str(getattr(ctx.settings, "bus_url", "") or "")
    if not url:
        return CheckResult(Outcome.up, 0.0, "in-process event bus (no CITYHUB_BUS_URL)")
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 4222
    where = f"bus {host}:{port}"
    started = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout=spec.timeout_seconds) as sock:
            sock.settimeout(spec.timeout_seconds)
            greeting = sock.recv(7)
    except OSError as exc:
        return CheckResult(Outcome.down, elapsed_ms(started), connect_reason(exc, where))
    latency = elapsed_ms(started)
    if not greeting.startswith(b"INFO"):  # a NATS server greets every client with INFO
        return CheckResult(Outcome.down, latency, f"{where} answered, but not as a NATS server")
    return CheckResult(Outcome.up, latency, f"{where} answered in {latency:.0f} ms")


def _broker(ctx: CheckContext, spec: ProbeSpec, _p: PlatformParams) -> CheckResult:
    url = str(getattr(ctx.settings, "mqtt_url", "") or "")
    if not url:
        return CheckResult(Outcome.skipped, None, "no MQTT broker configured (CITYHUB_MQTT_URL)")
    return mqtt_reachable(url, spec.timeout_seconds)


def _ingester_lag(ctx: CheckContext, spec: ProbeSpec, p: PlatformParams) -> CheckResult:
    now = utcnow()
    limit = p.max_lag_seconds or ctx.settings.ops_ingester_max_lag_seconds
    found = newest_reading_age(ctx, now)
    if found is None:
        return CheckResult(Outcome.skipped, None, "the sensing layer is not installed")
    devices, age = found
    if devices == 0:
        return CheckResult(Outcome.skipped, None, "no active devices to hear from")
    if age is None or age.total_seconds() > limit:
        since = "ever" if age is None else f"for {format_duration(age.total_seconds())}"
        return CheckResult(
            Outcome.down,
            None,
            f"nothing received from {devices} active devices {since} "
            f"(limit {format_duration(limit)})",
        )
    return CheckResult(
        Outcome.up, None, f"newest reading {format_duration(age.total_seconds())} ago"
    )


def _scheduler(ctx: CheckContext, spec: ProbeSpec, _p: PlatformParams) -> CheckResult:
    scheduler = ctx.scheduler
    if scheduler is None or not scheduler.running:
        return CheckResult(Outcome.skipped, None, "the scheduler does not run in this process")
    stuck = scheduler.stuck()
    if stuck:
        return CheckResult(
            Outcome.down, None, f"runs past their timeout still blocked: {', '.join(stuck[:5])}"
        )
    now = utcnow()
    with ctx.factory() as session:
        overdue = list(
            session.scalars(select(JobLease.job).where(JobLease.next_run_at < now - OVERDUE_GRACE))
        )
    jobs = scheduler.status()
    if overdue:
        return CheckResult(
            Outcome.degraded,
            None,
            f"jobs overdue in every process: {', '.join(sorted(overdue)[:5])}",
        )
    failing = [j.name for j in jobs if j.last_status in ("failed", "timeout")]
    if failing:
        return CheckResult(
            Outcome.degraded, None, f"{len(jobs)} jobs; last run failed: {', '.join(failing[:5])}"
        )
    return CheckResult(Outcome.up, None, f"{len(jobs)} jobs on time")


def _disk(ctx: CheckContext, spec: ProbeSpec, p: PlatformParams) -> CheckResult:
    path = Path(ctx.settings.data_dir).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    usage = shutil.disk_usage(path)
    free = usage.free / usage.total * 100 if usage.total else 0.0
    limit = (
        ctx.settings.ops_disk_min_free_percent if p.min_free_percent is None else p.min_free_percent
    )
    text_ = f"{free:.1f}% free ({usage.free / 1e9:.1f} GB) at {path}"
    if free < limit:
        return CheckResult(Outcome.down, None, f"{text_}, below {limit:g}%")
    if free < 2 * limit:
        return CheckResult(Outcome.degraded, None, f"{text_}, below {2 * limit:g}%")
    return CheckResult(Outcome.up, None, text_)


_PARTS = {
    PlatformPart.database: _database,
    PlatformPart.bus: _bus,
    PlatformPart.broker: _broker,
    PlatformPart.ingester_lag: _ingester_lag,
    PlatformPart.scheduler: _scheduler,
    PlatformPart.disk: _disk,
}


def check_platform(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    params = PlatformParams.model_validate(spec.params)
    return _PARTS[PlatformPart(spec.target)](ctx, spec, params)
