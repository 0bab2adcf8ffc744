"""What a batch of messages changes on the devices themselves: last seen, online status,
reported faults, and where a GNSS device now is (converted to GCJ-02, region located)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.regions import region_index
from cityhub.sensing.geo import wgs84_to_gcj02
from cityhub.sensing.models import Device, DeviceMode, DeviceStatus
from cityhub.sensing.payloads import StatusReport
from cityhub.sensing.registry import DeviceInfo
from cityhub.sensing.status import status_of
from cityhub.sensing.store import is_pg, table_of
from cityhub.settings import Settings


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class DeviceUpdates:
    """Collects the changes of one batch, then writes them in a few statements."""

    def __init__(self, session: Session, settings: Settings, clock: int) -> None:
        self.session = session
        self.settings = settings
        self.now = at_ms(clock)
        self._seen: dict[int, DeviceInfo] = {}
        self._positions: dict[int, tuple[float, float]] = {}
        self._reports: list[tuple[DeviceInfo, StatusReport, int]] = []

    def seen(
        self,
        dev: npt.NDArray[np.int64],
        met: npt.NDArray[np.int64],
        ts: npt.NDArray[np.int64],
        val: npt.NDArray[np.float64],
        infos: dict[int, DeviceInfo],
    ) -> None:
        for device_id in np.unique(dev).tolist():
            info = infos[device_id]
            self._seen[device_id] = info
            if info.profile.is_gnss:
                self._track(info, dev, met, ts, val)

    def _track(
        self,
        info: DeviceInfo,
        dev: npt.NDArray[np.int64],
        met: npt.NDArray[np.int64],
        ts: npt.NDArray[np.int64],
        val: npt.NDArray[np.float64],
    ) -> None:
        lon_id, lat_id = info.profile.metrics["lon"].id, info.profile.metrics["lat"].id
        mine = dev == info.id
        is_lon, is_lat = mine & (met == lon_id), mine & (met == lat_id)
        lons = dict(zip(ts[is_lon].tolist(), val[is_lon].tolist(), strict=True))
        lats = dict(zip(ts[is_lat].tolist(), val[is_lat].tolist(), strict=True))
        both = sorted(set(lons) & set(lats))
        if both:
            self._positions[info.id] = (lons[both[-1]], lats[both[-1]])

    def report(self, info: DeviceInfo, report: StatusReport, received_ms: int) -> None:
        self._reports.append((info, report, received_ms))

    def flush(self) -> None:
        ids = set(self._seen) | {info.id for info, _, _ in self._reports}
        if not ids:
            return
        rows = {
            r.id: r
            for r in self.session.execute(
                select(
                    Device.id,
                    Device.code,
                    Device.mode,
                    Device.fault_code,
                    Device.offline_after,
                    Device.announced_status,
                ).where(Device.id.in_(ids))
            )
        }
        changes: dict[int, dict[str, Any]] = {}
        for device_id, info in self._seen.items():
            changes[device_id] = {
                "last_seen_at": self.now,
                "offline_after": self.now + timedelta(seconds=info.profile.offline_after_s),
            }
        for info, report, _received in self._reports:
            change = changes.setdefault(info.id, {})
            change.update(_apply_report(report, info, self.now))
        self._place(changes)
        transitions = []
        for device_id, change in changes.items():
            row = rows[device_id]
            mode = change.get("mode", row.mode)
            fault = change.get("fault_code", row.fault_code)
            limit = change.get("offline_after", row.offline_after)
            status = status_of(mode, fault, limit, self.now).value
            if status != row.announced_status:
                change["announced_status"] = status
                transitions.append((row.code, row.announced_status, status))
        _write(self.session, changes)
        for code, before, after in transitions:
            emit(
                self.session,
                "sensing.device.status_changed",
                {"device": code, "from": before, "to": after, "at": self.now.isoformat()},
                actor=f"device:{code}",
            )

    def _place(self, changes: dict[int, dict[str, Any]]) -> None:
        if not self._positions:
            return
        ids = list(self._positions)
        lons = np.array([self._positions[i][0] for i in ids])
        lats = np.array([self._positions[i][1] for i in ids])
        glon, glat = wgs84_to_gcj02(lons, lats)
        regions = region_index(self.settings).locate_many(glon, glat)
        for k, device_id in enumerate(ids):
            changes[device_id].update(
                lon=float(lons[k]),
                lat=float(lats[k]),
                map_lon=round(float(glon[k]), 6),
                map_lat=round(float(glat[k]), 6),
                region_code=regions[k],
            )


def _apply_report(report: StatusReport, info: DeviceInfo, now: datetime) -> dict[str, Any]:
    if report.state == "offline":  # a last will: the device (or its broker) says it is gone
        return {"offline_after": now}
    change: dict[str, Any] = {
        "last_seen_at": now,
        "offline_after": now + timedelta(seconds=info.profile.offline_after_s),
    }
    if report.state == "fault":
        change.update(fault_code=report.code or "fault", fault_message=report.message, fault_at=now)
    elif report.state == "maintenance":
        change["mode"] = DeviceMode.maintenance.value
    else:  # ok / online: a reported fault is over
        change.update(fault_code=None, fault_message="", fault_at=None)
    return change


def _write(session: Session, changes: dict[int, dict[str, Any]]) -> None:
    """One executemany per distinct set of changed columns."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for device_id, change in changes.items():
        if change:
            params = {"b_id": device_id} | {f"b_{k}": v for k, v in change.items()}
            groups.setdefault(tuple(sorted(change)), []).append(params)
    table = table_of(Device)
    seen = groups.pop(("last_seen_at", "offline_after"), None)
    if seen and is_pg(session):  # the common change: one statement for the whole batch
        _pg_seen(session, seen)
    elif seen:
        groups[("last_seen_at", "offline_after")] = seen
    for columns, rows in groups.items():  # Core UPDATE: one executemany per column set
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"b_{c}") for c in (*columns, "updated_at")})
        )
        now = utcnow()
        session.execute(stmt, [row | {"b_updated_at": now} for row in rows])


_PG_SEEN = (
    "UPDATE sensing_devices AS d SET last_seen_at = v.seen, offline_after = v.limit_at, "
    "updated_at = now() FROM unnest(%s::int4[], %s::timestamptz[], %s::timestamptz[]) "
    "AS v(id, seen, limit_at) WHERE d.id = v.id"
)


def _pg_seen(session: Session, rows: list[dict[str, Any]]) -> None:
    def stamps(key: str) -> str:
        return "{" + ",".join(row[key].isoformat() for row in rows) + "}"

    ids = "{" + ",".join(str(row["b_id"]) for row in rows) + "}"
    session.connection().exec_driver_sql(
        _PG_SEEN, (ids, stamps("b_last_seen_at"), stamps("b_offline_after"))
    )


__all__ = ["DeviceStatus", "DeviceUpdates"]
