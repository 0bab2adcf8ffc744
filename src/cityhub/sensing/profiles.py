"""Device profiles: the built-in catalogue and the ones operators add."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.events import emit
from cityhub.errors import Conflict, NotFound
from cityhub.sensing.catalogue import BUILTIN, ProfileSpec, flood_limit
from cityhub.sensing.models import DeviceProfile, ProfileMetric
from cityhub.sensing.registry import forget_everywhere
from cityhub.sensing.schemas import ProfileCreate, ProfileUpdate


def get_profile(session: Session, code: str) -> DeviceProfile:
    profile = session.scalar(select(DeviceProfile).where(DeviceProfile.code == code))
    if profile is None:
        raise NotFound(f"no device profile with code {code!r}")
    return profile


def list_profiles(session: Session) -> list[DeviceProfile]:
    return list(session.scalars(select(DeviceProfile).order_by(DeviceProfile.code)))


def _from_spec(spec: ProfileSpec) -> DeviceProfile:
    return DeviceProfile(
        code=spec.code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        kind=spec.kind.value,
        expected_interval_s=spec.expected_interval_s,
        offline_after_s=spec.offline_after_s,
        retention_days=spec.retention_days,
        rollup_1m_days=spec.rollup_1m_days,
        rollup_1h_days=spec.rollup_1h_days,
        max_points_per_minute=spec.max_points_per_minute,
        builtin=True,
        metrics=[
            ProfileMetric(
                name=m.name,
                name_zh=m.name_zh,
                name_en=m.name_en,
                unit=m.unit,
                min_value=m.min_value,
                max_value=m.max_value,
            )
            for m in spec.metrics
        ],
    )


def ensure_builtin(session: Session) -> dict[str, DeviceProfile]:
    """Create the built-in profiles that are missing (existing ones are left as they are)."""
    have = {p.code: p for p in session.scalars(select(DeviceProfile))}
    for spec in BUILTIN:
        if spec.code not in have:
            profile = _from_spec(spec)
            session.add(profile)
            session.flush()
            have[spec.code] = profile
    return have


def create_profile(session: Session, data: ProfileCreate, actor: str) -> DeviceProfile:
    if session.scalar(select(DeviceProfile.id).where(DeviceProfile.code == data.code)):
        raise Conflict(f"device profile {data.code!r} already exists")
    profile = DeviceProfile(
        code=data.code,
        name_zh=data.name_zh,
        name_en=data.name_en,
        kind=data.kind.value,
        expected_interval_s=data.expected_interval_s,
        offline_after_s=data.offline_after_s or data.expected_interval_s * 3,
        retention_days=data.retention_days,
        rollup_1m_days=data.rollup_1m_days,
        rollup_1h_days=data.rollup_1h_days,
        max_points_per_minute=data.max_points_per_minute
        or flood_limit(data.expected_interval_s, len(data.metrics)),
        builtin=False,
        metrics=[ProfileMetric(**m.model_dump()) for m in data.metrics],
    )
    session.add(profile)
    session.flush()
    emit(session, "sensing.profile.created", {"profile": profile.code}, actor=actor)
    return profile


def update_profile(
    session: Session, profile: DeviceProfile, data: ProfileUpdate, actor: str
) -> DeviceProfile:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        setattr(profile, name, value)
    session.flush()
    forget_everywhere()  # limits and intervals are cached with the devices
    emit(session, "sensing.profile.updated", {"profile": profile.code, **changes}, actor=actor)
    return profile
