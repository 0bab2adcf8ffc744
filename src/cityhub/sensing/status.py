"""A device's status from what it did last: maintenance and fault win, then online while
its last message is younger than its profile's offline limit, else offline."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, or_

from cityhub.core.times import as_utc
from cityhub.sensing.models import Device, DeviceMode, DeviceStatus


def status_of(
    mode: str, fault_code: str | None, offline_after: datetime | None, now: datetime
) -> DeviceStatus:
    if mode == DeviceMode.maintenance:
        return DeviceStatus.maintenance
    if fault_code:
        return DeviceStatus.fault
    limit = as_utc(offline_after)
    if limit is not None and limit > now:
        return DeviceStatus.online
    return DeviceStatus.offline


def device_status(device: Device, now: datetime) -> DeviceStatus:
    return status_of(device.mode, device.fault_code, device.offline_after, now)


def status_filter(status: DeviceStatus, now: datetime) -> ColumnElement[bool]:
    """The SQL condition equivalent to `status_of(...) == status`."""
    active = Device.mode != DeviceMode.maintenance.value
    healthy = and_(active, Device.fault_code.is_(None))
    if status == DeviceStatus.maintenance:
        return Device.mode == DeviceMode.maintenance.value
    if status == DeviceStatus.fault:
        return and_(active, Device.fault_code.is_not(None))
    if status == DeviceStatus.online:
        return and_(healthy, Device.offline_after.is_not(None), Device.offline_after > now)
    return and_(healthy, or_(Device.offline_after.is_(None), Device.offline_after <= now, false()))
