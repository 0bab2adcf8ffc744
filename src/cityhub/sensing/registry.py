"""What the ingest path needs to know about devices, cached per process for a few seconds.

Every message names its device; looking each one up in the database would cost more than
storing its readings. Entries live `TTL` seconds (a change made by another process shows
within that time); changes made in this process drop the entry at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.sensing.models import Device, DeviceProfile

TTL = 10.0
MISS_TTL = 2.0  # unknown codes: a flood of them must not reach the database each time


@dataclass(frozen=True)
class MetricInfo:
    id: int
    name: str
    unit: str
    lo: float
    hi: float


@dataclass(frozen=True)
class ProfileInfo:
    id: int
    code: str
    kind: str
    offline_after_s: int
    max_points_per_minute: int
    metrics: dict[str, MetricInfo]

    @property
    def is_gnss(self) -> bool:
        return "lon" in self.metrics and "lat" in self.metrics


@dataclass(frozen=True)
class DeviceInfo:
    id: int
    code: str
    org_code: str
    organization_id: int
    token_prefix: str
    token_hash: str
    profile: ProfileInfo


def profile_info(profile: DeviceProfile) -> ProfileInfo:
    return ProfileInfo(
        id=profile.id,
        code=profile.code,
        kind=profile.kind,
        offline_after_s=profile.offline_after_s,
        max_points_per_minute=profile.max_points_per_minute,
        metrics={
            m.name: MetricInfo(m.id, m.name, m.unit, m.min_value, m.max_value)
            for m in profile.metrics
        },
    )


class DeviceCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_code: dict[str, tuple[float, DeviceInfo | None]] = {}
        self._by_prefix: dict[str, tuple[float, str]] = {}

    def clear(self) -> None:
        with self._lock:
            self._by_code.clear()
            self._by_prefix.clear()

    def forget(self, code: str) -> None:
        with self._lock:
            self._by_code.pop(code, None)
            for prefix, (_, owner) in list(self._by_prefix.items()):
                if owner == code:
                    del self._by_prefix[prefix]

    def get_many(self, session: Session, codes: set[str]) -> dict[str, DeviceInfo]:
        """Known devices among `codes` (unknown ones are absent)."""
        now = time.monotonic()
        found: dict[str, DeviceInfo] = {}
        missing: set[str] = set()
        with self._lock:
            for code in codes:
                entry = self._by_code.get(code)
                if entry is not None and entry[0] > now:
                    if entry[1] is not None:
                        found[code] = entry[1]
                else:
                    missing.add(code)
        if missing:
            loaded = _load(session, missing)
            with self._lock:
                for code in missing:
                    info = loaded.get(code)
                    self._by_code[code] = (now + (TTL if info else MISS_TTL), info)
                    if info is not None:
                        found[code] = info
                        self._by_prefix[info.token_prefix] = (now + TTL, code)
        return found

    def by_token_prefix(self, session: Session, prefix: str) -> DeviceInfo | None:
        now = time.monotonic()
        with self._lock:
            entry = self._by_prefix.get(prefix)
        code = entry[1] if entry is not None and entry[0] > now else None
        if code is None:
            code = session.scalar(select(Device.code).where(Device.token_prefix == prefix))
            if code is None:
                return None
        return self.get_many(session, {code}).get(code)


def _load(session: Session, codes: set[str]) -> dict[str, DeviceInfo]:
    rows = session.execute(
        select(Device, Organization.code)
        .join(Organization, Organization.id == Device.organization_id)
        .where(Device.code.in_(codes))
    ).all()
    profiles: dict[int, ProfileInfo] = {}
    out = {}
    for device, org_code in rows:
        info = profiles.get(device.profile_id)
        if info is None:
            info = profiles[device.profile_id] = profile_info(device.profile)
        out[device.code] = DeviceInfo(
            id=device.id,
            code=device.code,
            org_code=org_code,
            organization_id=device.organization_id,
            token_prefix=device.token_prefix,
            token_hash=device.token_hash,
            profile=info,
        )
    return out


_caches: dict[str, DeviceCache] = {}
_caches_lock = threading.Lock()


def cache_for(engine: Engine) -> DeviceCache:
    """One cache per database (tests run several databases in one process)."""
    key = engine.url.render_as_string(hide_password=False)
    with _caches_lock:
        cache = _caches.get(key)
        if cache is None:
            cache = _caches[key] = DeviceCache()
        return cache


def forget_everywhere(code: str | None = None) -> None:
    """Drop a device (or everything) from every cache of this process."""
    with _caches_lock:
        caches = list(_caches.values())
    for cache in caches:
        if code is None:
            cache.clear()
        else:
            cache.forget(code)
