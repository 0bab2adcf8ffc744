"""API shapes of indicators: definitions with their latest values, and series."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from cityhub.core.times import as_utc
from cityhub.indicators.registry import Indicator
from cityhub.indicators.service import Latest, Point


class RefreshPublic(BaseModel):
    topics: list[str] = Field(description="Event topics (shell patterns) that trigger it")
    every_seconds: float | None = Field(description="Scheduled period, if any")
    debounce_seconds: float


class LatestPublic(BaseModel):
    value: float
    note: str = ""
    computed_at: datetime | None


class IndicatorPublic(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    unit_en: str
    definition_zh: str
    definition_en: str
    source: str = Field(description="Package and tables it is computed from")
    refresh: RefreshPublic
    granularity: Literal["city", "district"]
    link: str = Field(description="The detail page of its panel")
    daily: bool = Field(description="A count of the local day")
    latest: dict[str, LatestPublic] = Field(
        description="Latest value by region code (the city's code for the total)"
    )

    @classmethod
    def of(cls, ind: Indicator, rows: dict[str, Latest]) -> IndicatorPublic:
        return cls(
            code=ind.code,
            name_zh=ind.name_zh,
            name_en=ind.name_en,
            unit=ind.unit,
            unit_en=ind.unit_en or ind.unit,
            definition_zh=ind.definition_zh,
            definition_en=ind.definition_en,
            source=ind.source,
            refresh=RefreshPublic(
                topics=list(ind.refresh.topics),
                every_seconds=ind.refresh.every,
                debounce_seconds=ind.refresh.debounce,
            ),
            granularity=ind.granularity.value,
            link=ind.link,
            daily=ind.daily,
            latest={
                region: LatestPublic(
                    value=row.value, note=row.note, computed_at=as_utc(row.computed_at)
                )
                for region, row in sorted(rows.items())
            },
        )


class PointPublic(BaseModel):
    at: datetime
    value: float
    note: str = ""

    @classmethod
    def of(cls, row: Point) -> PointPublic:
        return cls(at=row.at, value=row.value, note=row.note)


class SeriesPublic(BaseModel):
    code: str
    region: str
    every: Literal["hour", "day"] = Field(description="hour: stored points; day: last of each day")
    points: list[PointPublic]
