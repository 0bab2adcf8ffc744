"""Data checks: a database query, the freshness of a catalog resource, the online rate of
sensing devices. The last two read other packages lazily and are skipped without them."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.ops import integrations
from cityhub.ops.checks.base import CheckContext, CheckResult, ProbeSpec, elapsed_ms
from cityhub.ops.durations import format_duration
from cityhub.ops.schemas import DatabaseParams, DeviceOnlineParams, FreshnessParams
from cityhub.ops.targets import mask
from cityhub.ops.vocab import Outcome

# The longest a resource's data may age for each declared update cycle (catalog vocab).
CYCLE_SECONDS: dict[str, float] = {
    "realtime": 3600.0,
    "daily": 86400.0,
    "weekly": 7 * 86400.0,
    "monthly": 31 * 86400.0,
    "quarterly": 92 * 86400.0,
    "yearly": 366 * 86400.0,
}


# -- database --------------------------------------------------------------------------------


def _first_error_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def _query_sqlite(path: str, query: str, timeout: float) -> Any:
    if not Path(path).exists():
        raise FileNotFoundError(f"database file {path} does not exist")
    deadline = time.perf_counter() + timeout
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        # Interrupt a query running past the deadline (checked every 1000 VM steps).
        conn.set_progress_handler(lambda: int(time.perf_counter() > deadline), 1000)
        row = conn.execute(query).fetchone()
    finally:
        conn.close()
    return row


def _query_postgres(url: str, query: str, timeout: float) -> Any:
    ms = max(1, int(timeout * 1000))
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        poolclass=NullPool,
        connect_args={"connect_timeout": max(2, int(timeout + 0.999))},
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text(f"SET LOCAL statement_timeout = {ms}"))
            row = conn.execute(text(query)).first()
            conn.rollback()
    finally:
        engine.dispose()
    return row


def check_database(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    params = DatabaseParams.model_validate(spec.params)
    url = make_url(spec.target)
    shown = mask(spec.target)
    started = time.perf_counter()
    try:
        if url.get_backend_name() == "sqlite":
            row = _query_sqlite(url.database or "", params.query, spec.timeout_seconds)
        else:
            row = _query_postgres(spec.target, params.query, spec.timeout_seconds)
    except FileNotFoundError as exc:
        return CheckResult(Outcome.down, elapsed_ms(started), str(exc))
    except (SQLAlchemyError, sqlite3.Error, OSError) as exc:
        reason = _first_error_line(exc)
        if "interrupted" in reason or "statement timeout" in reason:
            reason = f"query ran longer than {spec.timeout_seconds:g}s ({reason})"
        return CheckResult(Outcome.down, elapsed_ms(started), f"{shown}: {reason}")
    latency = elapsed_ms(started)
    if params.expected is not None:
        got = None if row is None else str(row[0])
        if got != params.expected:
            return CheckResult(
                Outcome.down, latency, f"query returned {got!r}, expected {params.expected!r}"
            )
    return CheckResult(Outcome.up, latency, f"query answered in {latency:.0f} ms")


# -- freshness of a catalog resource ---------------------------------------------------------


def check_freshness(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    params = FreshnessParams.model_validate(spec.params)
    if not integrations.catalog_installed():
        return CheckResult(Outcome.skipped, None, "the catalog is not installed")
    started = time.perf_counter()
    now = utcnow()
    with ctx.factory() as session:
        resource = integrations.catalog_resource(session, spec.target)
        if resource is None:
            return CheckResult(
                Outcome.skipped, None, f"resource {spec.target} is not in the catalog"
            )
        cycle = str(getattr(resource.update_cycle, "value", resource.update_cycle))
        last = integrations.last_data_at(session, spec.target)
        published = as_utc(getattr(resource, "published_at", None))
    allowed = CYCLE_SECONDS.get(cycle, 86400.0) * params.grace
    latency = elapsed_ms(started)
    return freshness_verdict(cycle, allowed, last, published, now, latency)


def freshness_verdict(
    cycle: str,
    allowed_s: float,
    last: datetime | None,
    published: datetime | None,
    now: datetime,
    latency_ms: float | None = None,
) -> CheckResult:
    """Up while the newest data is younger than the allowed age; a published resource
    that never received data is late once it has been published that long."""
    limit = format_duration(allowed_s)
    if last is None:
        if published is None:
            return CheckResult(Outcome.skipped, latency_ms, "not published yet: no data expected")
        waited = (now - published).total_seconds()
        if waited > allowed_s:
            return CheckResult(
                Outcome.down,
                latency_ms,
                f"no data since publication {format_duration(waited)} ago "
                f"(update cycle {cycle}, allowed {limit})",
            )
        return CheckResult(Outcome.up, latency_ms, f"awaiting the first data (cycle {cycle})")
    age = (now - last).total_seconds()
    if age > allowed_s:
        return CheckResult(
            Outcome.down,
            latency_ms,
            f"data is {format_duration(age)} old, older than its update cycle "
            f"{cycle} allows ({limit})",
        )
    return CheckResult(
        Outcome.up, latency_ms, f"data is {format_duration(age)} old (cycle {cycle})"
    )


# -- online rate of sensing devices --------------------------------------------------------


def check_device_online(ctx: CheckContext, spec: ProbeSpec) -> CheckResult:
    params = DeviceOnlineParams.model_validate(spec.params)
    models = integrations.module("sensing.models")
    if models is None or not hasattr(models, "Device"):
        return CheckResult(Outcome.skipped, None, "the sensing layer is not installed")
    device = models.Device
    started = time.perf_counter()
    now = utcnow()
    with ctx.factory() as session:
        scope = [device.mode != "maintenance"]
        if spec.target != "*":
            org_id = integrations.organization_id(session, spec.target)
            if org_id is None:
                return CheckResult(
                    Outcome.skipped, None, f"organization {spec.target} does not exist"
                )
            scope.append(device.organization_id == org_id)
        if params.device_kind and hasattr(models, "DeviceProfile"):
            profile = models.DeviceProfile
            scope.append(
                device.profile_id.in_(select(profile.id).where(profile.kind == params.device_kind))
            )
        total = session.scalar(select(func.count()).select_from(device).where(*scope)) or 0
        online_clause = (
            device.fault_code.is_(None),
            device.offline_after.is_not(None),
            device.offline_after > now,
        )
        online = (
            session.scalar(select(func.count()).select_from(device).where(*scope, *online_clause))
            or 0
        )
    latency = elapsed_ms(started)
    return online_verdict(online, total, params.threshold, params.min_devices, latency)


def online_verdict(
    online: int, total: int, threshold: float, min_devices: int, latency_ms: float | None = None
) -> CheckResult:
    if total < min_devices:
        return CheckResult(
            Outcome.skipped, latency_ms, f"{total} active devices, fewer than {min_devices}"
        )
    rate = online / total
    text_ = f"{online} of {total} devices online ({rate:.1%})"
    if rate < threshold:
        return CheckResult(Outcome.down, latency_ms, f"{text_}, below {threshold:.0%}")
    return CheckResult(Outcome.up, latency_ms, text_)


def newest_reading_age(ctx: CheckContext, now: datetime) -> tuple[int, timedelta | None] | None:
    """(active devices, age of the newest message from any of them); None without sensing."""
    models = integrations.module("sensing.models")
    if models is None or not hasattr(models, "Device"):
        return None
    device = models.Device
    with ctx.factory() as session:
        active = device.mode != "maintenance"
        total = session.scalar(select(func.count()).select_from(device).where(active)) or 0
        newest = as_utc(session.scalar(select(func.max(device.last_seen_at)).where(active)))
    return total, (now - newest) if newest is not None else None
