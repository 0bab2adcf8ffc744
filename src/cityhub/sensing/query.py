"""Time-series queries: one metric over devices chosen by code, region, organization or
profile, in a time range, aggregated per bucket from the cheapest table that can answer
(1-hour rollups, 1-minute rollups, or the raw readings)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.errors import NotFound, ValidationFailed
from cityhub.sensing import rollups
from cityhub.sensing.models import Device, DeviceProfile, ProfileMetric

Agg = Literal["avg", "min", "max", "sum", "count"]
AGGS: tuple[str, ...] = ("avg", "min", "max", "sum", "count")
MAX_BUCKETS = 10_000
MAX_DEVICES = 5_000
MAX_RAW_POINTS = 10_000
_DURATION = re.compile(r"^(\d{1,6})(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_bucket(value: str) -> int:
    """Seconds of a bucket written like 30s, 5m, 1h, 1d."""
    match = _DURATION.match(value)
    if not match or int(match.group(1)) == 0:
        raise ValidationFailed(f"bucket {value!r} is not a duration like 30s, 5m, 1h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class Selection:
    metric: str
    start: datetime
    end: datetime
    devices: list[str] = field(default_factory=list)
    region: str | None = None
    organization: str | None = None
    profile: str | None = None
    agg: Agg = "avg"
    bucket: str | None = None  # None: the raw readings
    by_device: bool = False


def _ms(moment: datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(aware.timestamp() * 1000)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _devices(session: Session, sel: Selection) -> dict[int, tuple[str, int]]:
    """id -> (code, profile id) of the selected devices."""
    stmt = select(Device.id, Device.code, Device.profile_id)
    if sel.devices:
        stmt = stmt.where(Device.code.in_(sel.devices))
    if sel.region:
        stmt = stmt.where(Device.region_code == sel.region)
    if sel.organization:
        org = session.scalar(select(Organization.id).where(Organization.code == sel.organization))
        if org is None:
            raise NotFound(f"no organization with code {sel.organization!r}")
        stmt = stmt.where(Device.organization_id == org)
    if sel.profile:
        pid = session.scalar(select(DeviceProfile.id).where(DeviceProfile.code == sel.profile))
        if pid is None:
            raise NotFound(f"no device profile with code {sel.profile!r}")
        stmt = stmt.where(Device.profile_id == pid)
    rows = {r.id: (r.code, r.profile_id) for r in session.execute(stmt.limit(MAX_DEVICES + 1))}
    if len(rows) > MAX_DEVICES:
        raise ValidationFailed(f"the selection has more than {MAX_DEVICES} devices; narrow it")
    missing = set(sel.devices) - {code for code, _ in rows.values()}
    if missing:
        raise NotFound(f"no device with code {sorted(missing)[0]!r}")
    return rows


def run(session: Session, sel: Selection) -> dict[str, Any]:
    start, end = _ms(sel.start), _ms(sel.end)
    if end <= start:
        raise ValidationFailed("`to` must be later than `from`")
    if sel.agg not in AGGS:
        raise ValidationFailed(f"agg must be one of {', '.join(AGGS)}")
    devices = _devices(session, sel)
    metrics = {
        m.id: m
        for m in session.scalars(
            select(ProfileMetric).where(
                ProfileMetric.name == sel.metric,
                ProfileMetric.profile_id.in_({p for _, p in devices.values()}),
            )
        )
    }
    answer: dict[str, Any] = {
        "metric": sel.metric,
        "unit": next(iter(metrics.values())).unit if metrics else "",
        "from": _iso(start),
        "to": _iso(end),
        "agg": sel.agg if sel.bucket else None,
        "bucket": sel.bucket,
        "devices": len(devices),
        "source": "raw",
        "series": [],
    }
    if not devices:
        return answer
    if not metrics:
        raise ValidationFailed(f"none of the selected devices reports metric {sel.metric!r}")
    ids = ",".join(str(i) for i in sorted(devices))
    mids = ",".join(str(i) for i in sorted(metrics))
    if sel.bucket is None:
        answer["series"] = _raw(session, devices, ids, mids, start, end)
        return answer
    bucket_ms = parse_bucket(sel.bucket) * 1000
    start -= start % bucket_ms
    if (end - start) / bucket_ms > MAX_BUCKETS:
        raise ValidationFailed(
            f"{sel.bucket} buckets from {_iso(start)} to {_iso(end)} are more than {MAX_BUCKETS}; "
            "use a larger bucket or a shorter range"
        )
    rollups.refresh(session, devices)
    if bucket_ms % rollups.MINUTE_MS == 0:
        source = "rollup_1h" if bucket_ms % rollups.HOUR_MS == 0 else "rollup_1m"
        table, column = f"telemetry_{source}", "bucket_ms"
        n, total, lo, hi = "sum(n)", "sum(total)", "min(vmin)", "max(vmax)"
        answer["source"] = source
    else:
        table, column = "telemetry_points", "ts_ms"
        n, total, lo, hi = "count(*)", "sum(value)", "min(value)", "max(value)"
    group = "device_id" if sel.by_device else "0"
    sql = (
        f"SELECT {group} AS d, {column} - ({column} % {bucket_ms}) AS b, {n}, {total}, {lo}, {hi} "
        f"FROM {table} WHERE device_id IN ({ids}) AND metric_id IN ({mids}) "
        f"AND {column} >= :lo AND {column} < :hi GROUP BY 1, 2 ORDER BY 1, 2"
    )
    series: dict[int, list[dict[str, Any]]] = {}
    for d, b, count, sum_, vmin, vmax in session.execute(text(sql), {"lo": start, "hi": end}):
        value = {
            "avg": sum_ / count if count else None,
            "min": vmin,
            "max": vmax,
            "sum": sum_,
            "count": count,
        }[sel.agg]
        series.setdefault(d, []).append({"t": _iso(b), "v": value, "n": count})
    answer["series"] = [
        {"device": devices[d][0] if sel.by_device else None, "points": points}
        for d, points in series.items()
    ]
    return answer


def _raw(
    session: Session, devices: dict[int, tuple[str, int]], ids: str, mids: str, start: int, end: int
) -> list[dict[str, Any]]:
    sql = (
        f"SELECT device_id, ts_ms, value FROM telemetry_points WHERE device_id IN ({ids}) "
        f"AND metric_id IN ({mids}) AND ts_ms >= :lo AND ts_ms < :hi "
        f"ORDER BY device_id, ts_ms LIMIT {MAX_RAW_POINTS + 1}"
    )
    rows = session.execute(text(sql), {"lo": start, "hi": end}).all()
    if len(rows) > MAX_RAW_POINTS:
        raise ValidationFailed(
            f"more than {MAX_RAW_POINTS} raw readings in the range; add a bucket (e.g. 1m) "
            "or shorten the range"
        )
    series: dict[int, list[dict[str, Any]]] = {}
    for d, ts, value in rows:
        series.setdefault(d, []).append({"t": _iso(ts), "v": value})
    return [{"device": devices[d][0], "points": points} for d, points in series.items()]
