"""The sensing upkeep's steps: partitions ahead, rollups, devices gone silent, no-data
alarms, webhook deliveries, retention. The server runs them as scheduler jobs (runtime.py);
`run_once` is one pass of all of them (`cityhub sensing upkeep`, tests).

Any number of processes may run it at once: every step is idempotent or claims its work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import EventBus, attach, emit
from cityhub.sensing import alarms, partitions, rollups, webhooks
from cityhub.sensing.models import (
    Device,
    DeviceMode,
    DeviceProfile,
    DeviceStatus,
    RateWindow,
    RejectedMessage,
    Rollup1h,
    Rollup1m,
    TelemetryPoint,
    WebhookDelivery,
)
from cityhub.settings import Settings

log = logging.getLogger("cityhub.sensing")
PARTITION_DAYS_AHEAD = 7
KEEP_REJECTED_SAMPLES = 10_000
KEEP_DELIVERIES_DAYS = 30
DAY_MS = 86_400_000


@dataclass
class Upkeep:
    """What one pass did."""

    partitions: int = 0
    rollups: int = 0
    offline: int = 0
    no_data_alarms: int = 0
    webhooks: int = 0
    retention: dict[str, int] = field(default_factory=dict)


def ensure_partitions(engine: Engine, settings: Settings, now: datetime | None = None) -> int:
    """Partitions for every timestamp ingest may accept, and a week ahead."""
    moment = int((now or utcnow()).timestamp() * 1000)
    oldest = moment - settings.sensing_max_past_hours * 3_600_000
    newest = moment + PARTITION_DAYS_AHEAD * DAY_MS
    return sum(partitions.ensure(engine, spec, oldest, newest) for spec in partitions.TABLES)


def mark_offline(session: Session, now: datetime) -> int:
    """Announce the devices whose silence outlasted their profile's limit."""
    rows = session.execute(
        select(Device.id, Device.code, Device.announced_status).where(
            Device.announced_status == DeviceStatus.online.value,
            Device.mode == DeviceMode.active.value,
            Device.fault_code.is_(None),
            Device.offline_after <= now,
        )
    ).all()
    for row in rows:
        session.execute(
            update(Device)
            .where(Device.id == row.id, Device.announced_status == DeviceStatus.online.value)
            .values(announced_status=DeviceStatus.offline.value)
            .execution_options(synchronize_session=False)
        )
        emit(
            session,
            "sensing.device.status_changed",
            {"device": row.code, "from": "online", "to": "offline", "at": now.isoformat()},
            actor="sensing",
        )
    return len(rows)


def apply_retention(session: Session, now: datetime) -> dict[str, int]:
    """Delete what each profile no longer keeps (whole old partitions: drop_old_partitions,
    after this transaction committed)."""
    removed = {"raw": 0, "rollup_1m": 0, "rollup_1h": 0}
    moment = int(now.timestamp() * 1000)
    for profile in session.scalars(select(DeviceProfile)):
        devices = select(Device.id).where(Device.profile_id == profile.id)
        for key, model, column, days in (
            ("raw", TelemetryPoint, TelemetryPoint.ts_ms, profile.retention_days),
            ("rollup_1m", Rollup1m, Rollup1m.bucket_ms, profile.rollup_1m_days),
            ("rollup_1h", Rollup1h, Rollup1h.bucket_ms, profile.rollup_1h_days),
        ):
            result = session.execute(
                delete(model).where(model.device_id.in_(devices), column < moment - days * DAY_MS)
            )
            removed[key] += max(result.rowcount, 0)  # type: ignore[attr-defined]
    session.execute(delete(RateWindow).where(RateWindow.window_ms < moment - 5 * 60_000))
    newest_kept = session.scalar(
        select(RejectedMessage.id)
        .order_by(RejectedMessage.id.desc())
        .offset(KEEP_REJECTED_SAMPLES)
        .limit(1)
    )
    if newest_kept is not None:
        session.execute(delete(RejectedMessage).where(RejectedMessage.id <= newest_kept))
    session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.status != "pending",
            WebhookDelivery.created_at < now - timedelta(days=KEEP_DELIVERIES_DAYS),
        )
    )
    return removed


def drop_old_partitions(factory: sessionmaker[Session], now: datetime) -> list[str]:
    """On PostgreSQL drop the partitions older than every profile's retention. Never inside
    a transaction that touched the partitioned tables: dropping a partition locks its parent
    from another connection, which would wait for that transaction forever."""
    engine: Engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        return []
    with factory() as session:
        longest = session.execute(
            select(
                func.max(DeviceProfile.retention_days),
                func.max(DeviceProfile.rollup_1m_days),
                func.max(DeviceProfile.rollup_1h_days),
            )
        ).one()
    if longest[0] is None:
        return []
    moment = int(now.timestamp() * 1000)
    dropped = []
    for spec, days in zip(partitions.TABLES, longest, strict=True):
        dropped += partitions.drop_before(engine, spec, moment - days * DAY_MS)
    return dropped


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    bus: EventBus | None = None,
    now: datetime | None = None,
    retention: bool = True,
) -> Upkeep:
    moment = now or utcnow()
    done = Upkeep()
    engine = factory.kw["bind"]
    done.partitions = ensure_partitions(engine, settings, moment)
    done.rollups = rollups.refresh_all(factory)
    with transaction(factory) as session:
        if bus is not None:
            attach(session, bus)
        done.offline = mark_offline(session, moment)
        done.no_data_alarms = alarms.sweep_no_data(session, moment)
    done.webhooks = webhooks.deliver_due(
        factory, settings, max_attempts=settings.sensing_webhook_max_attempts, now=moment
    )
    if retention:
        with transaction(factory) as session:
            done.retention = apply_retention(session, moment)
        drop_old_partitions(factory, moment)
    return done
