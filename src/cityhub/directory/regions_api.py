"""Routes of `/regions`: the city's GB/T 2260 regions. Public reference data, no login."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, Page, decode_cursor, encode_cursor
from cityhub.directory import regions
from cityhub.directory.models import RegionLevel
from cityhub.directory.region_schemas import (
    RegionFeature,
    RegionFeatureCollection,
    RegionLocation,
    RegionPublic,
)
from cityhub.errors import BadRequest

router = APIRouter(tags=["regions"])


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


LevelParam = Annotated[
    RegionLevel | None, Query(description="Only regions of this level (city, district, county).")
]
ParentParam = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="Only the children of this region code.")
]
GeometryParam = Annotated[
    Literal["geojson"] | None,
    Query(description="`geojson` adds each region's boundary as a GeoJSON geometry."),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1-1000).")]


@router.get(
    "/regions",
    response_model=Page[RegionPublic],
    response_model_exclude_unset=True,
    summary="List regions (行政区划)",
)
def list_regions(
    session: SessionDep,
    level: LevelParam = None,
    parent: ParentParam = None,
    geometry: GeometryParam = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Page[RegionPublic]:
    """The city and its districts and counties, ordered by code.

    Filter with `level` and `parent`; page with `limit` and `cursor`. Add `geometry=geojson`
    for the boundaries; `GET /regions.geojson` returns all of them as a FeatureCollection.
    """
    key = decode_cursor(cursor)
    if key is not None and not (len(key) == 1 and isinstance(key[0], str)):
        raise BadRequest("cursor is not one this server issued")
    after = key[0] if key else None
    rows = regions.list_regions(session, level=level, parent=parent, after=after, limit=limit + 1)
    items = [RegionPublic.of(r, with_geometry=geometry == "geojson") for r in rows[:limit]]
    following = encode_cursor([rows[limit - 1].code]) if len(rows) > limit else None
    return Page[RegionPublic](items=items, next=following)


@router.get(
    "/regions.geojson",
    response_model=RegionFeatureCollection,
    response_class=GeoJSONResponse,
    summary="All regions as a GeoJSON FeatureCollection",
)
def regions_geojson(
    session: SessionDep, level: LevelParam = None, parent: ParentParam = None
) -> RegionFeatureCollection:
    """Every region (optionally filtered by `level` and `parent`) as one GeoJSON
    FeatureCollection (`application/geo+json`), not paginated: ready for a map layer.
    Feature ids are the region codes; properties are the fields of `GET /regions`.
    Coordinates are lon/lat as published by Amap (GCJ-02)."""
    rows = regions.list_regions(session, level=level, parent=parent)
    return RegionFeatureCollection(features=[RegionFeature.of(r) for r in rows])


@router.get(
    "/regions/locate",
    response_model=RegionLocation,
    response_model_exclude_unset=True,
    summary="Region of a point",
)
def locate(
    session: SessionDep,
    settings: SettingsDep,
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude (GCJ-02 degrees)")],
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude (GCJ-02 degrees)")],
) -> RegionLocation:
    """The county or district containing the point (`code` and `region`), or nulls when
    the point lies outside the city. Coordinates are in the boundaries' datum (GCJ-02 for
    the bundled Linyi data: raw GPS points may be ~0.5 km off near a border)."""
    code = regions.region_index(settings).locate(lon, lat)
    region = RegionPublic.of(regions.get_region(session, code)) if code else None
    return RegionLocation(lon=lon, lat=lat, code=code, region=region)


@router.get(
    "/regions/{code}",
    response_model=RegionPublic,
    response_model_exclude_unset=True,
    summary="One region",
)
def get_region(session: SessionDep, code: str, geometry: GeometryParam = None) -> RegionPublic:
    """One region by its GB/T 2260 code; `geometry=geojson` adds its boundary."""
    return RegionPublic.of(regions.get_region(session, code), with_geometry=geometry == "geojson")
