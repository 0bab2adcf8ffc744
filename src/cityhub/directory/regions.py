"""The city's GB/T 2260 regions: boundary files, seeding, and point-to-region lookup.

Boundaries come from `<code>.geojson` files (a Feature, a FeatureCollection or a bare
geometry): the bundled Linyi set (`data/regions/`, see its ATTRIBUTION.md; coordinates are
GCJ-02 as published by Amap) or `settings.regions_dir` for another city.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.directory.models import Region, RegionLevel
from cityhub.errors import ConfigError, NotFound
from cityhub.settings import Settings

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "regions"

# Official romanisations; other cities fall back to a file's `name_en`, then the Chinese name.
ENGLISH_NAMES: dict[str, str] = {
    "371300": "Linyi",
    "371302": "Lanshan District",
    "371311": "Luozhuang District",
    "371312": "Hedong District",
    "371321": "Yinan County",
    "371322": "Tancheng County",
    "371323": "Yishui County",
    "371324": "Lanling County",
    "371325": "Fei County",
    "371326": "Pingyi County",
    "371327": "Junan County",
    "371328": "Mengyin County",
    "371329": "Linshu County",
}

_LEVEL_RANK = {RegionLevel.province: 0, RegionLevel.city: 1}

# WGS-84 ellipsoid, for the equal-area (authalic) projection used by `area_km2`.
_A = 6378137.0
_E2 = (2 - 1 / 298.257223563) / 298.257223563
_E = math.sqrt(_E2)


def level_of(code: str) -> RegionLevel:
    """GB/T 2260 level from the code: xx0000 province, xxxx00 city, 01-20 districts (市辖区)."""
    if code.endswith("0000"):
        return RegionLevel.province
    if code.endswith("00"):
        return RegionLevel.city
    return RegionLevel.district if 1 <= int(code[4:]) <= 20 else RegionLevel.county


def parent_of(code: str, known: set[str]) -> str | None:
    """The nearest loaded ancestor; None when it is not loaded (the FK needs a real row)."""
    for candidate in (code[:4] + "00", code[:2] + "0000"):
        if candidate != code and candidate in known:
            return candidate
    return None


def city_prefix(city_code: str) -> str:
    """Code prefix shared by a city and its divisions (2 digits for a municipality 110000)."""
    return city_code[:2] if city_code[2:4] == "00" else city_code[:4]


def _q(sin_phi: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    es = _E * sin_phi
    result: npt.NDArray[np.float64] = (1 - _E2) * (
        sin_phi / (1 - es * es) - np.log((1 - es) / (1 + es)) / (2 * _E)
    )
    return result


_QP = float(_q(np.array([1.0]))[0])
_RQ = _A * math.sqrt(_QP / 2)  # authalic radius


def area_km2(geom: Any) -> float:
    """Ellipsoidal area without pyproj (not installed): an exact equal-area map of WGS-84
    (authalic latitude, then sinusoidal about the region's own meridian), then planar area.
    Agrees with geodesic area to well under 0.1% for county-sized polygons."""
    lon0 = (geom.bounds[0] + geom.bounds[2]) / 2

    def project(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        beta = np.arcsin(np.clip(_q(np.sin(np.radians(xy[:, 1]))) / _QP, -1.0, 1.0))
        x = _RQ * np.radians(xy[:, 0] - lon0) * np.cos(beta)
        return np.column_stack((x, _RQ * beta))

    return float(shapely.transform(geom, project).area) / 1e6


@dataclass(frozen=True, eq=False)
class RegionRecord:
    """One region as read from its boundary file, with derived attributes."""

    code: str
    name_zh: str
    name_en: str
    level: RegionLevel
    parent_code: str | None
    center_lon: float
    center_lat: float
    area_km2: float
    geometry: dict[str, Any] = field(repr=False)  # GeoJSON geometry
    shape: Any = field(repr=False)  # shapely geometry


def read_boundary(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(GeoJSON geometry, properties) of a Feature, FeatureCollection or bare geometry."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read boundary file {path}: {exc}") from None
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "Feature":
        return doc["geometry"], dict(doc.get("properties") or {})
    if kind == "FeatureCollection":
        feats = doc.get("features") or []
        if not feats:
            raise ConfigError(f"boundary file {path} has no features")
        union = shapely.union_all([shape(f["geometry"]) for f in feats])
        return shapely.geometry.mapping(union), dict(feats[0].get("properties") or {})
    if kind in ("Polygon", "MultiPolygon"):
        return {"type": kind, "coordinates": doc["coordinates"]}, dict(doc.get("properties") or {})
    raise ConfigError(f"boundary file {path} is not a GeoJSON polygon, Feature or collection")


def regions_source(settings: Settings) -> Path:
    return (settings.regions_dir or BUNDLED_DIR).resolve()


@lru_cache(maxsize=8)
def _load(source: str, city_code: str) -> tuple[RegionRecord, ...]:
    folder = Path(source)
    if not folder.is_dir():
        raise ConfigError(f"CITYHUB_REGIONS_DIR {folder} is not a directory")
    prefix = city_prefix(city_code)
    paths = sorted(
        p for p in folder.glob(f"{prefix}*.geojson") if p.stem.isdigit() and len(p.stem) == 6
    )
    if not paths:
        hint = "" if folder != BUNDLED_DIR else " (bundled: Linyi 371300 only)"
        raise ConfigError(
            f"no boundary file for city {city_code} in {folder}{hint}; "
            "set CITYHUB_REGIONS_DIR to a folder of <code>.geojson files"
        )
    known = {p.stem for p in paths}
    records = []
    for path in paths:
        code = path.stem
        geometry, props = read_boundary(path)
        geom = shape(geometry)
        if geom.is_empty or not geom.is_valid:
            geom = shapely.make_valid(geom)  # self-touching rings in third-party files
        name_zh = str(props.get("name_zh") or props.get("name") or code)
        name_en = ENGLISH_NAMES.get(code) or str(props.get("name_en") or name_zh)
        # Planar centroid in degrees: metres off at county scale, enough for a map label.
        center = geom.centroid
        records.append(
            RegionRecord(
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                level=level_of(code),
                parent_code=parent_of(code, known),
                center_lon=round(center.x, 6),
                center_lat=round(center.y, 6),
                area_km2=round(area_km2(geom), 2),
                geometry=geometry,
                shape=geom,
            )
        )
    return tuple(records)


def load_regions(settings: Settings) -> tuple[RegionRecord, ...]:
    """The city's regions, read once per boundary folder and city (restart to re-read)."""
    return _load(str(regions_source(settings)), settings.city_code)


def seed_regions(session: Session, settings: Settings) -> int:
    """Insert or update every region of the city; running it again changes nothing."""
    records = sorted(load_regions(settings), key=lambda r: (_LEVEL_RANK.get(r.level, 2), r.code))
    for rec in records:
        values = {
            "name_zh": rec.name_zh,
            "name_en": rec.name_en,
            "level": rec.level,
            "parent_code": rec.parent_code,
            "center_lon": rec.center_lon,
            "center_lat": rec.center_lat,
            "area_km2": rec.area_km2,
            "geometry": json.dumps(rec.geometry, separators=(",", ":")),
        }
        row = session.get(Region, rec.code)
        if row is None:
            session.add(Region(code=rec.code, **values))
        else:
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
        if rec.level in _LEVEL_RANK:
            session.flush()  # parents exist before the children that point at them
    session.flush()
    return len(records)


Coords = Sequence[float] | npt.NDArray[np.floating[Any]]


class RegionIndex:
    """Point-in-polygon over the most specific regions (counties and districts, not the city).

    Vectorized: per region a numpy bounding-box filter, then shapely's `intersects_xy`
    on prepared geometries for the candidates only. A point on a shared border goes to the
    lowest code, so `locate` and `locate_many` always agree.
    """

    def __init__(self, records: Sequence[RegionRecord]) -> None:
        parents = {r.parent_code for r in records}
        leaves = [r for r in records if r.code not in parents] or list(records)
        leaves.sort(key=lambda r: r.code)
        self.codes: tuple[str, ...] = tuple(r.code for r in leaves)
        self._geoms = [r.shape for r in leaves]
        for geom in self._geoms:
            shapely.prepare(geom)
        self._bounds: npt.NDArray[np.float64] = shapely.bounds(np.array(self._geoms, dtype=object))
        self._lookup = np.array([*self.codes, None], dtype=object)  # index -1 -> None

    def locate_indices(self, lons: Coords, lats: Coords) -> npt.NDArray[np.intp]:
        """Index into `codes` of each point's region, -1 outside (or NaN)."""
        x = np.asarray(lons, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise ValueError("lons and lats must have the same length")
        out = np.full(x.shape, -1, dtype=np.intp)
        for i, geom in enumerate(self._geoms):
            minx, miny, maxx, maxy = self._bounds[i]
            cand = np.flatnonzero((out < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
            if cand.size:
                hit = shapely.intersects_xy(geom, x[cand], y[cand])
                out[cand[hit]] = i
        return out

    def locate_many(self, lons: Coords, lats: Coords) -> list[str | None]:
        """The region code of each point (None outside the city)."""
        result: list[str | None] = self._lookup[self.locate_indices(lons, lats)].tolist()
        return result

    def locate(self, lon: float, lat: float) -> str | None:
        """The county or district containing the point, None outside the city."""
        return self.locate_many([lon], [lat])[0]


@lru_cache(maxsize=8)
def _index(source: str, city_code: str) -> RegionIndex:
    return RegionIndex(_load(source, city_code))


def region_index(settings: Settings) -> RegionIndex:
    """The lookup index of the configured regions, built once per boundary folder and city."""
    return _index(str(regions_source(settings)), settings.city_code)


# Queries for the API: services raise domain errors, routes stay thin.


def list_regions(
    session: Session,
    *,
    level: RegionLevel | None = None,
    parent: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[Region]:
    """Regions ordered by code, filtered; keyset pagination after `after`."""
    query = select(Region).order_by(Region.code)
    if level is not None:
        query = query.where(Region.level == level)
    if parent is not None:
        query = query.where(Region.parent_code == parent)
    if after is not None:
        query = query.where(Region.code > after)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def get_region(session: Session, code: str) -> Region:
    region = session.get(Region, code)
    if region is None:
        raise NotFound(f"no region with code {code}")
    return region
