"""Tables of the sensing layer: profiles, devices, time series, rollups, rejections, alarms.

Time series columns hold UTC epoch milliseconds (`ts_ms`, `bucket_ms`): bucketing is integer
arithmetic on both databases, and PostgreSQL range-partitions the raw table on it.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityhub.core.db import Base, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class DeviceKind(enum.StrEnum):
    """The kinds of sensing devices the guideline names (4.3.1 b)."""

    terminal = "terminal"  # 终端
    camera = "camera"  # 摄像头
    gnss = "gnss"  # 卫星定位
    sensor = "sensor"  # 传感器
    collector = "collector"  # 采集器


class DeviceMode(enum.StrEnum):
    active = "active"
    maintenance = "maintenance"  # 检修: set by an operator, never offline-alarmed


class DeviceStatus(enum.StrEnum):
    online = "online"
    offline = "offline"
    fault = "fault"
    maintenance = "maintenance"


class DeviceProfile(Base):
    """What a type of device reports: metrics with units and valid physical ranges."""

    __tablename__ = "sensing_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16))  # DeviceKind
    expected_interval_s: Mapped[int] = mapped_column(Integer)
    offline_after_s: Mapped[int] = mapped_column(Integer)  # silence that makes it offline
    retention_days: Mapped[int] = mapped_column(Integer)  # raw points
    rollup_1m_days: Mapped[int] = mapped_column(Integer)
    rollup_1h_days: Mapped[int] = mapped_column(Integer)
    max_points_per_minute: Mapped[int] = mapped_column(Integer)  # per device: flood guard
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    metrics: Mapped[list[ProfileMetric]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ProfileMetric.id"
    )


class ProfileMetric(Base):
    __tablename__ = "sensing_profile_metrics"
    __table_args__ = (UniqueConstraint("profile_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_profiles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    name_zh: Mapped[str] = mapped_column(String(64), default="")
    name_en: Mapped[str] = mapped_column(String(64), default="")
    unit: Mapped[str] = mapped_column(String(32), default="")
    min_value: Mapped[float] = mapped_column(Float)
    max_value: Mapped[float] = mapped_column(Float)


class Device(Base):
    """A registered device. `lon`/`lat` are WGS-84 as surveyed or reported (GNSS);
    `map_lon`/`map_lat` the same point in GCJ-02, the datum of the region boundaries."""

    __tablename__ = "sensing_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    profile_id: Mapped[int] = mapped_column(ForeignKey("sensing_profiles.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    map_lon: Mapped[float | None] = mapped_column(Float, default=None)
    map_lat: Mapped[float | None] = mapped_column(Float, default=None)
    region_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), index=True, default=None
    )
    address: Mapped[str] = mapped_column(String(256), default="")
    install_date: Mapped[date | None] = mapped_column(Date, default=None)
    mode: Mapped[str] = mapped_column(String(16), default=DeviceMode.active.value)
    fault_code: Mapped[str | None] = mapped_column(String(64), default=None)
    fault_message: Mapped[str] = mapped_column(String(256), default="")
    fault_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # last_seen_at + the profile's offline_after_s: online while in the future (indexable)
    offline_after: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, index=True
    )
    announced_status: Mapped[str] = mapped_column(String(16), default=DeviceStatus.offline.value)
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    token_created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    simulator: Mapped[str | None] = mapped_column(String(32), default=None)  # demo devices
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    profile: Mapped[DeviceProfile] = relationship(lazy="joined")


# -- time series ----------------------------------------------------------------------------


class TelemetryPoint(Base):
    """One reading. On PostgreSQL range-partitioned by day on `ts_ms` (see partitions.py);
    on SQLite a WITHOUT ROWID table: the rows live in the primary key's B-tree, one insert
    per reading instead of two, and half the size."""

    __tablename__ = "telemetry_points"
    __table_args__ = ({"postgresql_partition_by": "RANGE (ts_ms)", "sqlite_with_rowid": False},)

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Float)


class Rollup1m(Base):
    """Per device, metric and minute: count, sum, min, max. Partitioned by month on PG."""

    __tablename__ = "telemetry_rollup_1m"
    __table_args__ = ({"postgresql_partition_by": "RANGE (bucket_ms)"},)

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    vmin: Mapped[float] = mapped_column(Float)
    vmax: Mapped[float] = mapped_column(Float)


class Rollup1h(Base):
    """Per device, metric and hour: count, sum, min, max. Partitioned by month on PG."""

    __tablename__ = "telemetry_rollup_1h"
    __table_args__ = ({"postgresql_partition_by": "RANGE (bucket_ms)"},)

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    total: Mapped[float] = mapped_column(Float)
    vmin: Mapped[float] = mapped_column(Float)
    vmax: Mapped[float] = mapped_column(Float)


class DirtyMinute(Base):
    """A device-minute whose rollups must be recomputed; `gen` grows with each new write so
    a rollup pass only clears marks that no write touched while it was computing."""

    __tablename__ = "telemetry_dirty"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bucket_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    gen: Mapped[int] = mapped_column(Integer, default=1)


class LatestValue(Base):
    """The newest reading per device and metric: device pages, rate-of-change alarms."""

    __tablename__ = "telemetry_latest"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)


class RateWindow(Base):
    """Points accepted per device per minute, shared by every ingester: the flood guard."""

    __tablename__ = "sensing_rate_windows"

    device_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    window_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)


# -- rejections -----------------------------------------------------------------------------


class Rejection(Base):
    """How many points or messages were refused, per device and reason."""

    __tablename__ = "sensing_rejections"
    __table_args__ = (UniqueConstraint("device_ref", "reason"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_ref: Mapped[str] = mapped_column(String(160))  # code, or org/code when unknown
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_devices.id", ondelete="SET NULL"), index=True, default=None
    )
    reason: Mapped[str] = mapped_column(String(32), index=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_detail: Mapped[str] = mapped_column(String(500), default="")


class RejectedMessage(Base):
    """A sample of refused input with its reason (the newest few thousand are kept)."""

    __tablename__ = "sensing_rejected_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    device_ref: Mapped[str] = mapped_column(String(160), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # mqtt or http
    detail: Mapped[str] = mapped_column(String(500), default="")
    excerpt: Mapped[str] = mapped_column(String(500), default="")


# -- alarms ---------------------------------------------------------------------------------


class RuleKind(enum.StrEnum):
    threshold = "threshold"
    rate_of_change = "rate_of_change"  # |Δvalue| per minute above `value`
    no_data = "no_data"  # nothing for `window_s` seconds


class Severity(enum.StrEnum):
    info = "info"
    minor = "minor"
    major = "major"
    critical = "critical"


class AlarmState(enum.StrEnum):
    raised = "raised"
    acknowledged = "acknowledged"
    cleared = "cleared"


class AlarmRule(Base):
    """A condition on a profile's devices or on one device (which then overrides the
    profile's rule of the same kind and metric)."""

    __tablename__ = "sensing_alarm_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    profile_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_profiles.id", ondelete="CASCADE"), index=True, default=None
    )
    device_id: Mapped[int | None] = mapped_column(
        ForeignKey("sensing_devices.id", ondelete="CASCADE"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(16))  # RuleKind
    metric: Mapped[str | None] = mapped_column(String(64), default=None)
    op: Mapped[str | None] = mapped_column(String(2), default=None)  # > >= < <=
    value: Mapped[float | None] = mapped_column(Float, default=None)
    clear_value: Mapped[float | None] = mapped_column(Float, default=None)  # hysteresis
    window_s: Mapped[int | None] = mapped_column(Integer, default=None)
    severity: Mapped[str] = mapped_column(String(16), default=Severity.major.value)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Alarm(Base):
    """One occurrence of a rule on a device, de-duplicated: while it is open (raised or
    acknowledged) further breaches only count up `occurrences`."""

    __tablename__ = "sensing_alarms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_alarm_rules.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_devices.id", ondelete="CASCADE"), index=True
    )
    open_key: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    state: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    metric: Mapped[str | None] = mapped_column(String(64), default=None)
    message: Mapped[str] = mapped_column(String(500), default="")
    first_value: Mapped[float | None] = mapped_column(Float, default=None)
    last_value: Mapped[float | None] = mapped_column(Float, default=None)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_breach_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), default=None)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    cleared_by: Mapped[str | None] = mapped_column(String(64), default=None)  # None: automatic

    rule: Mapped[AlarmRule] = relationship(lazy="joined")
    device: Mapped[Device] = relationship(lazy="joined")


class Webhook(Base):
    """A receiver of alarm notifications, signed with HMAC-SHA256 of its secret."""

    __tablename__ = "sensing_webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))  # needed to sign: kept, shown once
    events: Mapped[str] = mapped_column(String(128), default="sensing.alarm.*")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id"), index=True, default=None
    )  # None: every organization's alarms
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """One notification to one webhook, written with the alarm change, sent with retries."""

    __tablename__ = "sensing_webhook_deliveries"
    __table_args__ = (Index("ix_sensing_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(
        ForeignKey("sensing_webhooks.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed
    status: Mapped[str] = mapped_column(String(16), default="pending")  # delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
