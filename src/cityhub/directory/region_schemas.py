"""Pydantic shapes of regions as the API answers them (JSON and GeoJSON)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from cityhub.directory.models import Region, RegionLevel


class RegionPublic(BaseModel):
    code: str = Field(description="GB/T 2260 code, e.g. 371302")
    name_zh: str = Field(description="Chinese name, e.g. 兰山区")
    name_en: str = Field(description="English name, e.g. Lanshan District")
    level: RegionLevel = Field(description="province, city, district (市辖区) or county")
    parent_code: str | None = Field(description="Code of the enclosing region, if loaded")
    center: tuple[float, float] | None = Field(description="Centroid [lon, lat]")
    area_km2: float | None = Field(description="Area in square kilometres")
    geometry: dict[str, Any] | None = Field(
        default=None, description="GeoJSON geometry; only with `?geometry=geojson`"
    )

    @classmethod
    def of(cls, row: Region, *, with_geometry: bool = False) -> RegionPublic:
        center = (
            (row.center_lon, row.center_lat)
            if row.center_lon is not None and row.center_lat is not None
            else None
        )
        item = cls(
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            level=row.level,
            parent_code=row.parent_code,
            center=center,
            area_km2=row.area_km2,
        )
        if with_geometry:
            # Assigned only when asked, so `exclude_unset` drops the key otherwise.
            item.geometry = json.loads(row.geometry) if row.geometry else None
        return item


class RegionProperties(BaseModel):
    code: str
    name_zh: str
    name_en: str
    level: RegionLevel
    parent_code: str | None
    center: tuple[float, float] | None
    area_km2: float | None


class RegionFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    id: str
    properties: RegionProperties
    geometry: dict[str, Any] | None

    @classmethod
    def of(cls, row: Region) -> RegionFeature:
        item = RegionPublic.of(row)
        props = RegionProperties(**item.model_dump(exclude={"geometry"}))
        geometry = json.loads(row.geometry) if row.geometry else None
        return cls(id=row.code, properties=props, geometry=geometry)


class RegionFeatureCollection(BaseModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[RegionFeature]


class RegionLocation(BaseModel):
    lon: float
    lat: float
    code: str | None = Field(description="County or district containing the point; null outside")
    region: RegionPublic | None = Field(description="That region, null outside the city")
