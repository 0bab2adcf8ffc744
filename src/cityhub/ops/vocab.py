"""Controlled vocabularies of operations. Values are stable English slugs; labels live in the
message table under `ops.<vocabulary>.<value>`."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SystemKind(enum.StrEnum):
    """What a monitored system (业务系统) is (guideline 4.1.1 b, 4.2.1, 4.3.1)."""

    livelihood_app = "livelihood_app"  # 惠民应用
    government_app = "government_app"  # 政务应用
    industry_app = "industry_app"  # 产业应用
    platform = "platform"  # 平台组件
    network = "network"  # 网络通讯
    sensing = "sensing"  # 感知设施


class Criticality(enum.StrEnum):
    """How much the city depends on a system; sets its availability and repair targets."""

    critical = "critical"  # 核心
    high = "high"  # 重要
    medium = "medium"  # 一般
    low = "low"  # 辅助


CRITICALITY_RANK: dict[Criticality, int] = {
    Criticality.critical: 4,
    Criticality.high: 3,
    Criticality.medium: 2,
    Criticality.low: 1,
}


@dataclass(frozen=True)
class Targets:
    """Service targets of a criticality: monthly availability, response and resolution."""

    availability: float  # fraction of the month, e.g. 0.999
    response_minutes: int  # opened → first response (acknowledged or later)
    resolution_minutes: int  # opened → resolved


TARGETS: dict[Criticality, Targets] = {
    Criticality.critical: Targets(0.999, 15, 4 * 60),
    Criticality.high: Targets(0.995, 30, 8 * 60),
    Criticality.medium: Targets(0.99, 2 * 60, 24 * 60),
    Criticality.low: Targets(0.98, 8 * 60, 72 * 60),
}


class Connection(enum.StrEnum):
    """How a system reaches the platform (guideline 4.2.2.1)."""

    standard = "standard"  # 标准接口接入
    legacy = "legacy"  # 按原标准接入的已建系统


class ProbeKind(enum.StrEnum):
    http = "http"  # HTTP(S): status, latency, expected content
    tcp = "tcp"  # a TCP port answers
    database = "database"  # a query runs
    mqtt = "mqtt"  # an MQTT broker accepts a connection
    freshness = "freshness"  # a catalog resource's data is within its update cycle
    device_online = "device_online"  # the share of online devices is above a threshold
    platform = "platform"  # one of the platform's own parts


class PlatformPart(enum.StrEnum):
    """The platform's own parts the `platform` probe checks."""

    database = "database"
    bus = "bus"
    broker = "broker"
    ingester_lag = "ingester_lag"
    scheduler = "scheduler"
    disk = "disk"


class Outcome(enum.StrEnum):
    up = "up"
    degraded = "degraded"  # answered, but slower than asked (counts as available)
    down = "down"
    skipped = "skipped"  # nothing to check yet (e.g. a package not installed): not counted


class SystemStatus(enum.StrEnum):
    up = "up"
    degraded = "degraded"
    down = "down"
    unknown = "unknown"  # not probed yet
    inactive = "inactive"  # monitoring switched off


class IncidentStatus(enum.StrEnum):
    """opened → acknowledged → in_progress → resolved → closed."""

    opened = "opened"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


OPEN_STATUSES = (IncidentStatus.opened, IncidentStatus.acknowledged, IncidentStatus.in_progress)


class IncidentSource(enum.StrEnum):
    probe = "probe"
    manual = "manual"


class EventKind(enum.StrEnum):
    """Kinds of events an emergency plan answers (and an incident is)."""

    outage = "outage"  # 系统中断
    degradation = "degradation"  # 性能下降
    data_stale = "data_stale"  # 数据更新不及时
    device_offline = "device_offline"  # 感知设备离线
    network = "network"  # 网络故障
    security = "security"  # 安全事件
    disaster = "disaster"  # 自然灾害、停电等外部事件


PROBE_EVENT: dict[ProbeKind, EventKind] = {
    ProbeKind.http: EventKind.outage,
    ProbeKind.tcp: EventKind.network,
    ProbeKind.database: EventKind.outage,
    ProbeKind.mqtt: EventKind.outage,
    ProbeKind.freshness: EventKind.data_stale,
    ProbeKind.device_online: EventKind.device_offline,
    ProbeKind.platform: EventKind.outage,
}


class PlanLevel(enum.StrEnum):
    """Response levels of emergency plans, I the most severe (特别重大) to IV (一般)."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"
    IV = "IV"


class DrillOutcome(enum.StrEnum):
    passed = "passed"
    partial = "partial"
    failed = "failed"


class ProjectStatus(enum.StrEnum):
    """requirement → approved → implementing → accepted (the system joins operations)."""

    requirement = "requirement"  # 需求提出
    approved = "approved"  # 立项批复
    implementing = "implementing"  # 运营公司实施
    accepted = "accepted"  # 验收通过，纳入运营
    rejected = "rejected"
    cancelled = "cancelled"


# Vocabulary name → enum, for labels.
VOCABULARIES: dict[str, type[enum.StrEnum]] = {
    "kind": SystemKind,
    "criticality": Criticality,
    "connection": Connection,
    "probe": ProbeKind,
    "part": PlatformPart,
    "outcome": Outcome,
    "status": SystemStatus,
    "incident": IncidentStatus,
    "event": EventKind,
    "level": PlanLevel,
    "drill": DrillOutcome,
    "project": ProjectStatus,
}
