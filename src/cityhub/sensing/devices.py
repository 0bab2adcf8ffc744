"""The device registry: register, change, list, and the per-device token.

Who may do what: the operating company (platform admins and operators) manages every
device; a department's admins and data officers manage their own organization's devices;
every logged-in user may read.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization
from cityhub.directory.regions import region_index
from cityhub.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from cityhub.security.models import Role, User
from cityhub.security.service import sha256_hex
from cityhub.sensing.geo import gcj02_to_wgs84, wgs84_to_gcj02
from cityhub.sensing.models import Device, DeviceKind, DeviceMode, DeviceProfile, DeviceStatus
from cityhub.sensing.profiles import get_profile
from cityhub.sensing.registry import DeviceInfo, cache_for, forget_everywhere
from cityhub.sensing.schemas import DeviceCreate, DevicePublic, DeviceUpdate
from cityhub.sensing.status import device_status, status_filter
from cityhub.settings import Settings

TOKEN_PREFIX = "cdt_"
ANY_ORG = frozenset({Role.platform_admin, Role.operator})
OWN_ORG = frozenset({Role.dept_admin, Role.data_officer})


def may_manage(user: User, organization_id: int) -> bool:
    return bool(user.roles & ANY_ORG) or (
        bool(user.roles & OWN_ORG) and user.organization_id == organization_id
    )


def check_manage(user: User, organization_id: int, what: str) -> None:
    if not may_manage(user, organization_id):
        raise Forbidden(
            f"you may not {what}: it needs platform_admin or operator, or dept_admin or "
            "data_officer of the owning organization"
        )


# -- tokens ---------------------------------------------------------------------------------


def new_token() -> tuple[str, str, str]:
    """(raw token, prefix, SHA-256 digest): only the prefix and digest are stored."""
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return raw, prefix, sha256_hex(raw)


def authenticate(session: Session, raw: str) -> DeviceInfo:
    """The device a token belongs to, or Unauthorized saying why not."""
    parts = raw.removeprefix(TOKEN_PREFIX).split("_", 1)
    if not raw.startswith(TOKEN_PREFIX) or len(parts) != 2 or not all(parts):
        raise Unauthorized("the device token is malformed (expected cdt_<prefix>_<secret>)")
    info = cache_for(session.get_bind()).by_token_prefix(session, parts[0])  # type: ignore[arg-type]
    if info is None or not secrets.compare_digest(info.token_hash, sha256_hex(raw)):
        raise Unauthorized("unknown device token")
    return info


def rotate_token(session: Session, device: Device, actor: str) -> str:
    raw, prefix, digest = new_token()
    device.token_prefix, device.token_hash, device.token_created_at = prefix, digest, utcnow()
    session.flush()
    forget_everywhere(device.code)
    emit(session, "sensing.device.token_rotated", {"device": device.code}, actor=actor)
    return raw


# -- location -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    lon: float | None
    lat: float | None
    map_lon: float | None
    map_lat: float | None
    region_code: str | None


def place(settings: Settings, lon: float | None, lat: float | None, crs: str) -> Place:
    """Both datums of a point and its county or district (None outside the city)."""
    if lon is None or lat is None:
        return Place(None, None, None, None, None)
    return place_many(settings, [lon], [lat], [crs])[0]


def place_many(
    settings: Settings, lons: list[float], lats: list[float], crs: list[str]
) -> list[Place]:
    """`place` for many points at once (vectorized datum shift and region lookup)."""
    x, y = np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)
    gcj = np.asarray([c == "gcj02" for c in crs], dtype=bool)
    gx, gy = wgs84_to_gcj02(x, y)
    wx, wy = gcj02_to_wgs84(x, y)
    wlon, wlat = np.where(gcj, wx, x), np.where(gcj, wy, y)
    mlon, mlat = np.where(gcj, x, gx), np.where(gcj, y, gy)
    regions = region_index(settings).locate_many(mlon, mlat)
    return [
        Place(round(a, 7), round(b, 7), round(c, 7), round(d, 7), r)
        for a, b, c, d, r in zip(
            wlon.tolist(), wlat.tolist(), mlon.tolist(), mlat.tolist(), regions, strict=True
        )
    ]


# -- registry -------------------------------------------------------------------------------


def get_device(session: Session, code: str) -> Device:
    device = session.scalar(select(Device).where(Device.code == code))
    if device is None:
        raise NotFound(f"no device with code {code!r}")
    return device


def _org(session: Session, code: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise ValidationFailed(f"organization {code!r} does not exist")
    return org


def create_device(
    session: Session, settings: Settings, data: DeviceCreate, user: User
) -> tuple[Device, str]:
    """Register a device; returns it with its token (the only time the token is shown)."""
    org = _org(session, data.organization) if data.organization else user.organization
    check_manage(user, org.id, f"register devices of organization {org.code}")
    return register(session, settings, data, org, actor=user.username)


def register(
    session: Session,
    settings: Settings,
    data: DeviceCreate,
    org: Organization,
    *,
    actor: str,
    profile: DeviceProfile | None = None,
    simulator: str | None = None,
    where: Place | None = None,
) -> tuple[Device, str]:
    """The primitive (no permission check): API, CSV import and the demo use it."""
    if session.scalar(select(Device.id).where(Device.code == data.code)) is not None:
        raise Conflict(f"device {data.code!r} is already registered")
    profile = profile or get_profile(session, data.profile)
    where = where or place(settings, data.lon, data.lat, data.crs)
    raw, prefix, digest = new_token()
    device = Device(
        code=data.code,
        name=data.name,
        profile_id=profile.id,
        organization_id=org.id,
        lon=where.lon,
        lat=where.lat,
        map_lon=where.map_lon,
        map_lat=where.map_lat,
        region_code=where.region_code,
        address=data.address,
        install_date=data.install_date,
        token_prefix=prefix,
        token_hash=digest,
        simulator=simulator,
    )
    device.profile = profile
    session.add(device)
    session.flush()
    forget_everywhere(device.code)  # a cached "unknown" must not outlive the registration
    emit(
        session,
        "sensing.device.registered",
        {
            "device": device.code,
            "profile": profile.code,
            "organization": org.code,
            "region": device.region_code,
        },
        actor=actor,
    )
    return device, raw


def update_device(
    session: Session, settings: Settings, device: Device, data: DeviceUpdate, user: User
) -> Device:
    check_manage(user, device.organization_id, f"change device {device.code}")
    changes = data.model_dump(exclude_unset=True)
    if ("lon" in changes) != ("lat" in changes):
        raise ValidationFailed("give both lon and lat to move a device")
    if "lon" in changes:
        where = place(settings, data.lon, data.lat, data.crs)
        device.lon, device.lat = where.lon, where.lat
        device.map_lon, device.map_lat, device.region_code = (
            where.map_lon,
            where.map_lat,
            where.region_code,
        )
    for name in ("name", "address", "install_date"):
        if name in changes and (changes[name] is not None or name == "install_date"):
            setattr(device, name, changes[name])
    if data.mode is not None:
        device.mode = data.mode.value
    if data.clear_fault:
        device.fault_code, device.fault_message, device.fault_at = None, "", None
    status = device_status(device, utcnow()).value
    if status != device.announced_status:
        emit(
            session,
            "sensing.device.status_changed",
            {"device": device.code, "from": device.announced_status, "to": status},
            actor=user.username,
        )
        device.announced_status = status
    session.flush()
    forget_everywhere(device.code)
    changed = sorted(k for k in changes if k != "crs")
    emit(
        session,
        "sensing.device.updated",
        {"device": device.code, "changed": changed},
        actor=user.username,
    )
    return device


def list_devices(
    session: Session,
    *,
    limit: int,
    after: str | None = None,
    kind: DeviceKind | None = None,
    organization: str | None = None,
    region: str | None = None,
    status: DeviceStatus | None = None,
    profile: str | None = None,
    q: str | None = None,
    now: datetime | None = None,
) -> list[Device]:
    stmt = select(Device).order_by(Device.code).limit(limit)
    if after is not None:
        stmt = stmt.where(Device.code > after)
    if kind is not None:
        stmt = stmt.where(
            Device.profile_id.in_(select(DeviceProfile.id).where(DeviceProfile.kind == kind.value))
        )
    if organization is not None:
        stmt = stmt.where(Device.organization_id == _org(session, organization).id)
    if region is not None:
        stmt = stmt.where(Device.region_code == region)
    if profile is not None:
        stmt = stmt.where(Device.profile_id == get_profile(session, profile).id)
    if status is not None:
        stmt = stmt.where(status_filter(status, now or utcnow()))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Device.code.ilike(like) | Device.name.like(like))
    return list(session.scalars(stmt))


def org_codes(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(
        session.execute(
            select(Organization.id, Organization.code).where(Organization.id.in_(ids))
        ).all()
    )


def public(device: Device, org_code: str, now: datetime | None = None) -> DevicePublic:
    return DevicePublic(
        code=device.code,
        name=device.name,
        kind=DeviceKind(device.profile.kind),
        profile=device.profile.code,
        organization=org_code,
        status=device_status(device, now or utcnow()),
        lon=device.lon,
        lat=device.lat,
        map_lon=device.map_lon,
        map_lat=device.map_lat,
        region_code=device.region_code,
        address=device.address,
        install_date=device.install_date,
        mode=DeviceMode(device.mode),
        fault_code=device.fault_code,
        fault_message=device.fault_message,
        last_seen_at=device.last_seen_at,
        created_at=device.created_at,
    )


def summary(session: Session, now: datetime | None = None) -> dict[str, object]:
    """Counts by status, kind and region, and the online rate: the cockpit's device panel."""
    moment = now or utcnow()
    rows = session.execute(
        select(
            Device.mode,
            Device.fault_code,
            Device.offline_after,
            Device.region_code,
            DeviceProfile.kind,
        ).join(DeviceProfile, DeviceProfile.id == Device.profile_id)
    ).all()
    from cityhub.sensing.status import status_of

    by_status: Counter[str] = Counter({s.value: 0 for s in DeviceStatus})
    by_kind: Counter[str] = Counter({k.value: 0 for k in DeviceKind})
    by_region: Counter[str] = Counter()
    for mode, fault, limit, region, kind in rows:
        by_status[status_of(mode, fault, limit, moment).value] += 1
        by_kind[kind] += 1
        by_region[region or "outside"] += 1
    watched = len(rows) - by_status[DeviceStatus.maintenance.value]
    rate = round(by_status[DeviceStatus.online.value] / watched, 4) if watched else None
    total = session.scalar(select(func.count()).select_from(Device)) or 0
    return {
        "total": total,
        "by_status": dict(by_status),
        "by_kind": dict(by_kind),
        "by_region": dict(sorted(by_region.items())),
        "online_rate": rate,
    }
