"""The demo city's sensing layer: devices across Linyi's 12 districts and counties, buses on
routes between district centres, and the alarm rules that watch them.

Idempotent: a second run finds everything and creates nothing. Fast: no readings are
written here; the simulator writes a few hours of history when the server starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.directory.regions import load_regions
from cityhub.sensing import alarms, devices
from cityhub.sensing.geo import gcj02_to_wgs84
from cityhub.sensing.models import AlarmRule, Device, DeviceProfile, RuleKind, Severity
from cityhub.sensing.profiles import ensure_builtin
from cityhub.sensing.schemas import DeviceCreate
from cityhub.settings import Settings


@dataclass(frozen=True)
class Fleet:
    """Devices of one kind placed in every county-level region."""

    model: str
    prefix: str
    profile: str
    org: str
    per_region: int
    name_zh: str


FLEETS: tuple[Fleet, ...] = (
    Fleet("air", "AQ", "air-quality-station", "LYSTHJ", 2, "空气质量监测站"),
    Fleet("water", "WL", "water-level-gauge", "LYYJ", 1, "河道水位站"),
    Fleet("traffic", "TD", "traffic-detector", "LYGA", 2, "交通流量检测器"),
    Fleet("meter", "EM", "smart-meter", "LYZJ", 3, "公共建筑智能电表"),
    Fleet("camera", "CAM", "camera", "LYCG", 2, "城管视频监控"),
)
BUS_ORG = "LYJT"
# (route name, from region, to region): lines between the centres of the urban districts.
ROUTES: tuple[tuple[str, str, str], ...] = (
    ("K1", "371302", "371312"),  # 兰山 - 河东
    ("K2", "371302", "371311"),  # 兰山 - 罗庄
    ("K3", "371311", "371312"),  # 罗庄 - 河东
    ("K4", "371302", "371325"),  # 兰山 - 费县 (intercity)
)
BUSES_PER_ROUTE = 2


@dataclass(frozen=True)
class RuleSpec:
    profile: str
    name: str
    kind: RuleKind
    metric: str | None = None
    op: str | None = None
    value: float | None = None
    clear_value: float | None = None
    window_s: int | None = None
    severity: Severity = Severity.major


RULES: tuple[RuleSpec, ...] = (
    RuleSpec("air-quality-station", "PM2.5 重度污染", RuleKind.threshold, "pm25", ">", 150, 115),
    RuleSpec(
        "water-level-gauge",
        "水位超警戒",
        RuleKind.threshold,
        "level_m",
        ">",
        4.5,
        4.2,
        severity=Severity.critical,
    ),
    RuleSpec("water-level-gauge", "水位陡涨", RuleKind.rate_of_change, "level_m", None, 0.5, 0.1),
    RuleSpec(
        "traffic-detector",
        "道路拥堵",
        RuleKind.threshold,
        "speed_kmh",
        "<",
        15,
        20,
        severity=Severity.minor,
    ),
    RuleSpec("smart-meter", "电压过低", RuleKind.threshold, "voltage_v", "<", 198, 205),
    RuleSpec("camera", "视频掉线", RuleKind.no_data, window_s=120),
    RuleSpec(
        "bus-gnss",
        "公交超速",
        RuleKind.threshold,
        "speed_kmh",
        ">",
        60,
        50,
        severity=Severity.minor,
    ),
)


def bus_routes(settings: Settings) -> dict[str, tuple[tuple[float, float], ...]]:
    """WGS-84 waypoints of each route: centre to centre through a midpoint bend."""
    centres = {r.code: (r.center_lon, r.center_lat) for r in load_regions(settings)}
    routes = {}
    for name, a, b in ROUTES:
        if a not in centres or b not in centres:
            continue
        (x0, y0), (x1, y1) = centres[a], centres[b]
        gcj = [(x0, y0), (x0 + (x1 - x0) * 0.5, y0), (x1, y1)]
        lons, lats = gcj02_to_wgs84([p[0] for p in gcj], [p[1] for p in gcj])
        pairs = zip(lons.tolist(), lats.tolist(), strict=True)
        routes[name] = tuple((round(x, 6), round(y, 6)) for x, y in pairs)
    return routes


def _points_in(geom: Any, n: int, rng: random.Random) -> list[tuple[float, float]]:
    """`n` random GCJ-02 points inside a region, kept away from its border."""
    inner = shapely.buffer(geom, -0.01)
    area = inner if not inner.is_empty else geom
    minx, miny, maxx, maxy = area.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.intersects_xy(area, x, y):
            out.append((x, y))
    return out


def build(session: Session, settings: Settings, seed: int) -> int:
    """Create the demo's devices and rules that are missing; the number of devices created."""
    profiles = ensure_builtin(session)
    orgs = {o.code: o for o in session.scalars(select(Organization))}
    have = set(session.scalars(select(Device.code)))
    rng = random.Random(seed)
    leaves = [r for r in load_regions(settings) if r.level.value in ("district", "county")]
    created = 0
    for region in sorted(leaves, key=lambda r: r.code):
        for fleet in FLEETS:
            spots = _points_in(region.shape, fleet.per_region, rng)
            for k, (x, y) in enumerate(spots, start=1):
                code = f"{fleet.prefix}-{region.code}-{k:02d}"
                if code in have or fleet.org not in orgs:
                    continue
                lon, lat = gcj02_to_wgs84([x], [y])
                data = DeviceCreate(
                    code=code,
                    name=f"{region.name_zh}{fleet.name_zh}{k}号",
                    profile=fleet.profile,
                    lon=float(lon[0]),
                    lat=float(lat[0]),
                    address=region.name_zh,
                )
                devices.register(
                    session,
                    settings,
                    data,
                    orgs[fleet.org],
                    actor="demo",
                    profile=profiles[fleet.profile],
                    simulator=fleet.model,
                )
                created += 1
    routes = bus_routes(settings)
    for name, waypoints in routes.items():
        for k in range(1, BUSES_PER_ROUTE + 1):
            code = f"BUS-{name}-{k:02d}"
            if code in have or BUS_ORG not in orgs:
                continue
            start_lon, start_lat = waypoints[0]
            data = DeviceCreate(
                code=code,
                name=f"{name}路公交车{k}号",
                profile="bus-gnss",
                lon=start_lon,
                lat=start_lat,
            )
            devices.register(
                session,
                settings,
                data,
                orgs[BUS_ORG],
                actor="demo",
                profile=profiles["bus-gnss"],
                simulator=f"bus:{name}",
            )
            created += 1
    _ensure_rules(session, profiles)
    return created


def _ensure_rules(session: Session, profiles: dict[str, DeviceProfile]) -> None:
    existing = {(r.profile_id, r.name) for r in session.scalars(select(AlarmRule))}
    for spec in RULES:
        profile = profiles.get(spec.profile)
        if profile is None or (profile.id, spec.name) in existing:
            continue
        session.add(
            AlarmRule(
                name=spec.name,
                profile_id=profile.id,
                kind=spec.kind.value,
                metric=spec.metric,
                op=spec.op,
                value=spec.value,
                clear_value=spec.clear_value,
                window_s=spec.window_s,
                severity=spec.severity.value,
                created_by="demo",
            )
        )
    session.flush()
    alarms.rules_changed()
