"""Built-in indicators and snapshots of the live city: sensing devices and alarms, and
operations incidents. Read-only over their packages' tables, in the recompute job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from cityhub.core.times import as_utc
from cityhub.directory.models import Organization
from cityhub.exchange.models import Batch
from cityhub.exchange.vocab import BatchStatus
from cityhub.indicators.registry import (
    Context,
    Granularity,
    Indicator,
    Reading,
    Refresh,
    Snapshot,
)
from cityhub.indicators.sources_data import MINUTE, by_district
from cityhub.ops.models import Incident
from cityhub.ops.vocab import OPEN_STATUSES
from cityhub.sensing.models import Alarm, AlarmRule, AlarmState, Device, DeviceStatus
from cityhub.sensing.status import device_status, status_filter

TICKER_SIZE = 40
ALARM_TOPICS = ("sensing.alarm.*",)
DEVICE_TOPICS = ("sensing.device.*",)


def online_rate(session: Session, ctx: Context) -> Iterator[Reading]:
    """Online devices over all devices, per district; districts without devices get none."""
    online = func.sum(case((status_filter(DeviceStatus.online, ctx.now), 1), else_=0))
    rows = session.execute(
        select(Device.region_code, func.count(), online).group_by(Device.region_code)
    ).all()
    total = sum(n for _, n, _ in rows)
    if not total:
        return
    wanted = set(ctx.districts)
    for region, n, up in rows:
        if region in wanted and n:
            yield Reading(region, round(100.0 * (up or 0) / n, 2))
    yield Reading(ctx.city_code, round(100.0 * sum(up or 0 for _, _, up in rows) / total, 2))


def open_alarms(session: Session, ctx: Context) -> Iterator[Reading]:
    rows = session.execute(
        select(Device.region_code, func.count())
        .select_from(Alarm)
        .join(Device, Device.id == Alarm.device_id)
        .where(Alarm.state != AlarmState.cleared.value)
        .group_by(Device.region_code)
    )
    pairs = [(code, n) for code, n in rows]
    yield from by_district(ctx, pairs, total=sum(n for _, n in pairs))


def alarms_today(session: Session, ctx: Context) -> Iterator[Reading]:
    rows = session.execute(
        select(Device.region_code, func.count())
        .select_from(Alarm)
        .join(Device, Device.id == Alarm.device_id)
        .where(Alarm.raised_at >= ctx.day_start, Alarm.raised_at < ctx.day_end)
        .group_by(Device.region_code)
    )
    pairs = [(code, n) for code, n in rows]
    yield from by_district(ctx, pairs, total=sum(n for _, n in pairs))


def open_incidents(session: Session, ctx: Context) -> Iterator[Reading]:
    n = session.scalar(select(func.count()).where(Incident.status.in_(OPEN_STATUSES)))
    yield Reading(ctx.city_code, float(n or 0))


# -- snapshots -----------------------------------------------------------------------------


def device_points(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """Every placed device: where it is drawn on the map and its status now."""
    rows = session.scalars(
        select(Device).where(Device.lon.is_not(None)).order_by(Device.code).limit(20_000)
    )
    points = []
    for d in rows:
        lon, lat = d.map_lon or d.lon, d.map_lat or d.lat
        points.append(
            {
                "code": d.code,
                "name": d.name,
                "lon": lon,
                "lat": lat,
                "region": d.region_code,
                "status": device_status(d, ctx.now).value,
            }
        )
    return points


def _iso(at: datetime | None) -> str | None:
    aware = as_utc(at)
    return aware.isoformat() if aware else None


def ticker(session: Session, ctx: Context) -> list[dict[str, Any]]:
    """The latest alarms, incidents and deliveries, newest first."""
    items: list[dict[str, Any]] = []
    alarms = session.execute(
        select(Alarm, Device.code, Device.name, Device.region_code, AlarmRule.name)
        .join(Device, Device.id == Alarm.device_id)
        .join(AlarmRule, AlarmRule.id == Alarm.rule_id)
        .order_by(Alarm.raised_at.desc())
        .limit(TICKER_SIZE)
    )
    for alarm, code, name, region, rule in alarms:
        items.append(alarm_item(alarm.id, alarm.state, alarm.severity, alarm.message or rule,
                                name or code, region, _iso(alarm.raised_at)))  # fmt: skip
    incidents = session.scalars(select(Incident).order_by(Incident.opened_at.desc()).limit(20))
    for inc in incidents:
        items.append(incident_item(inc.id, inc.status, inc.criticality, inc.title,
                                   _iso(inc.opened_at)))  # fmt: skip
    batches = session.execute(
        select(Batch, Organization.name_zh)
        .join(Organization, Organization.id == Batch.provider_id)
        .where(Batch.status == BatchStatus.completed)
        .order_by(Batch.finished_at.desc())
        .limit(20)
    )
    for batch, provider in batches:
        items.append(delivery_item(batch.id, batch.resource_code, provider, batch.accepted,
                                   _iso(batch.finished_at)))  # fmt: skip
    items.sort(key=lambda i: i["at"] or "", reverse=True)
    return items[:TICKER_SIZE]


def alarm_item(
    id_: int, state: str, severity: str, title: str, where: str, region: str | None, at: Any
) -> dict[str, Any]:
    return {
        "kind": "alarm",
        "id": f"alarm-{id_}",
        "state": state,
        "severity": severity,
        "title": title,
        "where": where,
        "region": region,
        "at": at,
        "link": f"/sensing/alarms?state={state}",
    }


def incident_item(id_: int, status: str, criticality: str, title: str, at: Any) -> dict[str, Any]:
    return {
        "kind": "incident",
        "id": f"incident-{id_}",
        "state": status,
        "severity": criticality,
        "title": title,
        "where": "",
        "region": None,
        "at": at,
        "link": f"/ops/incidents/{id_}",
    }


def delivery_item(id_: int, resource: str, provider: str, rows: int, at: Any) -> dict[str, Any]:
    return {
        "kind": "delivery",
        "id": f"delivery-{id_}",
        "state": "completed",
        "severity": "info",
        "title": resource,
        "where": provider,
        "rows": rows,
        "region": None,
        "at": at,
        "link": f"/exchange/batches/{id_}",
    }


def _ind(code: str, zh: str, en: str, unit: str, d_zh: str, d_en: str, **kw: object) -> Indicator:
    return Indicator(code, zh, en, unit, d_zh, d_en, **kw)  # type: ignore[arg-type]


_D = Granularity.district
INDICATORS: tuple[Indicator, ...] = (
    _ind("sensing.online_rate", "设备在线率", "Device online rate", "%",
         "在线设备占全部设备的百分比，按设备所在区县统计。",
         "Online devices as a share of all devices, by the district they stand in.",
         source="sensing: sensing_devices (mode, fault_code, offline_after)",
         compute=online_rate, granularity=_D,
         refresh=Refresh(DEVICE_TOPICS, every=MINUTE), link="/sensing/devices", order=100),
    _ind("sensing.open_alarms", "未处置告警", "Open alarms", "条",
         "尚未清除的感知告警数，按设备所在区县统计。",
         "Sensing alarms not yet cleared, by the district of their device.",
         source="sensing: sensing_alarms (state)", compute=open_alarms, granularity=_D,
         refresh=Refresh(ALARM_TOPICS, every=MINUTE, debounce=0.5), link="/sensing/alarms",
         unit_en="alarms", order=110),
    _ind("sensing.alarms_today", "今日告警", "Alarms raised today", "条",
         "本地时间今日产生的感知告警数。", "Sensing alarms raised today (local time).",
         source="sensing: sensing_alarms (raised_at)", compute=alarms_today, granularity=_D,
         refresh=Refresh(ALARM_TOPICS, every=MINUTE, debounce=0.5), link="/sensing/alarms",
         unit_en="alarms", daily=True, headline=False, order=115),
    _ind("ops.open_incidents", "未关闭故障", "Open incidents", "起",
         "运维中已报告、未解决的故障数。", "Operations incidents opened and not yet resolved.",
         source="ops: ops_incidents (status)", compute=open_incidents,
         refresh=Refresh(("ops.incident.*",), every=MINUTE, debounce=0.5), link="/ops/incidents",
         unit_en="incidents", order=120),
)  # fmt: skip

SNAPSHOTS: tuple[Snapshot, ...] = (
    Snapshot("devices", Refresh(DEVICE_TOPICS, every=MINUTE), device_points),
    Snapshot(
        "ticker",
        Refresh(
            (*ALARM_TOPICS, "ops.incident.*", "exchange.batch.completed"),
            every=MINUTE,
            debounce=0.5,
        ),
        ticker,
    ),
)
