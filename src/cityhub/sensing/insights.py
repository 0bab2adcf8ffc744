"""Read models of the sensing layer: device detail, refusals, the device map layer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.directory.models import Organization
from cityhub.sensing.devices import public
from cityhub.sensing.devices_state import at_ms
from cityhub.sensing.models import Alarm, Device, LatestValue, RejectedMessage, Rejection
from cityhub.sensing.schemas import DeviceDetail, LatestReading, RejectionPublic
from cityhub.sensing.status import device_status


def device_detail(session: Session, device: Device, now: datetime | None = None) -> DeviceDetail:
    org = session.get(Organization, device.organization_id)
    latest = {
        r.metric_id: r
        for r in session.scalars(select(LatestValue).where(LatestValue.device_id == device.id))
    }
    readings = []
    for metric in device.profile.metrics:
        row = latest.get(metric.id)
        readings.append(
            LatestReading(
                metric=metric.name,
                name_zh=metric.name_zh,
                name_en=metric.name_en,
                unit=metric.unit,
                value=row.value if row else None,
                at=at_ms(row.ts_ms) if row else None,
            )
        )
    open_alarms = session.scalar(
        select(func.count()).where(Alarm.device_id == device.id, Alarm.open_key.is_not(None))
    )
    rejections = dict(
        session.execute(
            select(Rejection.reason, Rejection.count).where(Rejection.device_id == device.id)
        ).all()
    )
    base = public(device, org.code if org else "", now)
    return DeviceDetail(
        **base.model_dump(),
        profile_name_zh=device.profile.name_zh,
        profile_name_en=device.profile.name_en,
        expected_interval_s=device.profile.expected_interval_s,
        latest=readings,
        open_alarms=open_alarms or 0,
        rejections=rejections,
    )


def list_rejections(
    session: Session,
    *,
    device: str | None = None,
    reason: str | None = None,
    limit: int = 1000,
) -> list[RejectionPublic]:
    """Counts per device and reason, the largest first. `device` matches the code, or the
    `org/code` under which messages naming an unknown device are counted."""
    stmt = select(Rejection).order_by(Rejection.count.desc(), Rejection.id).limit(limit)
    if device is not None:
        stmt = stmt.where(Rejection.device_ref == device)
    if reason is not None:
        stmt = stmt.where(Rejection.reason == reason)
    return [
        RejectionPublic(
            device=r.device_ref,
            reason=r.reason,
            count=r.count,
            first_at=r.first_at,
            last_at=r.last_at,
            last_detail=r.last_detail,
        )
        for r in session.scalars(stmt)
    ]


def rejected_samples(
    session: Session, *, device: str | None = None, limit: int = 100
) -> list[RejectedMessage]:
    stmt = select(RejectedMessage).order_by(RejectedMessage.id.desc()).limit(limit)
    if device is not None:
        stmt = stmt.where(RejectedMessage.device_ref == device)
    return list(session.scalars(stmt))


def device_features(session: Session, devices: list[Device]) -> dict[str, Any]:
    """Devices as a GeoJSON FeatureCollection in GCJ-02 (the datum of /regions.geojson)."""
    now = utcnow()
    orgs = {k: v for k, v in session.execute(select(Organization.id, Organization.code))}
    features = []
    for d in devices:
        if d.map_lon is None or d.map_lat is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": d.code,
                "geometry": {"type": "Point", "coordinates": [d.map_lon, d.map_lat]},
                "properties": {
                    "code": d.code,
                    "name": d.name,
                    "kind": d.profile.kind,
                    "profile": d.profile.code,
                    "organization": orgs.get(d.organization_id),
                    "region_code": d.region_code,
                    "status": device_status(d, now).value,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
