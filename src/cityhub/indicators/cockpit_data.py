"""What the digital cockpit (数字驾驶舱) shows, built from precomputed values only: the
page renders it, `GET /api/v1/cockpit` returns it, and drill-down asks for one region."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.directory.models import Region
from cityhub.indicators import service
from cityhub.indicators.numbers import human
from cityhub.indicators.registry import REGISTRY, Granularity, Indicator
from cityhub.settings import Settings
from cityhub.web.i18n import Lang

DEFAULT_MAP = "library.residents"
TRENDS = (
    "exchange.deliveries_today",
    "gateway.calls_today",
    "sensing.alarms_today",
    "exchange.rows_accepted_today",
)


class Place(BaseModel):
    code: str
    name_zh: str
    name_en: str


class Figure(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    unit_en: str
    value: float | None = Field(description="For the chosen region, or the city when the "
                                "indicator has no district values")  # fmt: skip
    display: str = Field(description="The value as shown, in 万/亿 where fitting")
    note: str = ""
    scope: str = Field(description="The region code the value belongs to")
    link: str
    computed_at: datetime | None = None


class Trend(BaseModel):
    code: str
    name_zh: str
    name_en: str
    unit: str
    region: str
    days: list[str] = Field(description="Local dates, oldest first (30 days)")
    values: list[float | None]


class PanelData(BaseModel):
    code: str
    name_zh: str
    name_en: str
    link: str
    figures: list[Figure]


class Cockpit(BaseModel):
    """The cockpit of the city, or of one district (drill-down)."""

    city: Place
    region: Place | None = Field(description="The district drilled into; null: whole city")
    districts: list[Place]
    figures: list[Figure]
    map_indicator: str
    map_indicators: list[Place] = Field(description="Indicators with district values")
    choropleth: dict[str, float] = Field(description="map_indicator by district code")
    devices: list[dict[str, Any]]
    ticker: list[dict[str, Any]]
    trends: list[Trend]
    panels: list[PanelData]
    generated_at: datetime


def _place(r: Region) -> Place:
    return Place(code=r.code, name_zh=r.name_zh, name_en=r.name_en)


def _figure(ind: Indicator, rows: dict[str, Any], region: str, city: str, lang: Lang) -> Figure:
    scope = region if ind.granularity is Granularity.district else city
    row = rows.get(scope)
    unit = ind.unit if lang == "zh-CN" else (ind.unit_en or ind.unit)
    return Figure(
        code=ind.code,
        name_zh=ind.name_zh,
        name_en=ind.name_en,
        unit=ind.unit,
        unit_en=ind.unit_en or ind.unit,
        value=row.value if row else None,
        display=human(row.value if row else None, lang, unit),
        note=row.note if row else "",
        scope=scope,
        link=_link(ind.link, scope if scope != city else None),
        computed_at=as_utc(row.computed_at) if row else None,
    )


def _link(link: str, region: str | None) -> str:
    if region and link.startswith("/sensing/devices"):
        return f"{link}?region={region}"
    return link


def _trend(session: Session, settings: Settings, ind: Indicator, region: str) -> Trend:
    scope = region if ind.granularity is Granularity.district else settings.city_code
    now = utcnow()
    points = service.daily(
        service.series(session, ind.code, scope, now - timedelta(days=31)),
        settings.local_timezone,
    )
    by_day = {}
    for p in points:
        by_day[service.local_date(p.at, settings.local_timezone)] = p.value
    today = service.local_date(now, settings.local_timezone)
    days = [(today - timedelta(days=k)).isoformat() for k in range(29, -1, -1)]
    return Trend(
        code=ind.code,
        name_zh=ind.name_zh,
        name_en=ind.name_en,
        unit=ind.unit,
        region=scope,
        days=days,
        values=[by_day.get(datetime.fromisoformat(d).date()) for d in days],
    )


def build(
    session: Session,
    settings: Settings,
    lang: Lang,
    region: str | None = None,
    map_code: str | None = None,
) -> Cockpit:
    city_row = session.get(Region, settings.city_code)
    city = (
        _place(city_row)
        if city_row
        else Place(code=settings.city_code, name_zh=settings.city_code, name_en="")
    )
    district_rows = session.scalars(
        select(Region).where(Region.parent_code == settings.city_code).order_by(Region.code)
    ).all()
    districts = [_place(r) for r in district_rows]
    chosen = next((d for d in districts if d.code == region), None)
    scope = chosen.code if chosen else settings.city_code
    indicators = REGISTRY.indicators()
    latest = service.latest(session)
    figures = [
        _figure(i, latest.get(i.code, {}), scope, settings.city_code, lang)
        for i in indicators
        if i.headline
    ]
    mappable = [i for i in indicators if i.granularity is Granularity.district]
    codes = {i.code for i in mappable}
    map_code = map_code if map_code in codes else DEFAULT_MAP
    map_rows = latest.get(map_code, {})
    devices, _ = service.snapshot(session, "devices")
    ticker, _ = service.snapshot(session, "ticker")
    if chosen:
        devices = [d for d in devices if d.get("region") == scope]
        ticker = [t for t in ticker if t.get("region") in (None, scope)]
    by_code = {i.code: i for i in indicators}
    trends = [_trend(session, settings, by_code[c], scope) for c in TRENDS if c in by_code]
    panels = [
        PanelData(
            code=p.code,
            name_zh=p.name_zh,
            name_en=p.name_en,
            link=p.link,
            figures=[
                _figure(by_code[c], latest.get(c, {}), scope, settings.city_code, lang)
                for c in p.indicators
                if c in by_code
            ],
        )
        for p in REGISTRY.panels()
    ]
    return Cockpit(
        city=city,
        region=chosen,
        districts=districts,
        figures=figures,
        map_indicator=map_code,
        map_indicators=[Place(code=i.code, name_zh=i.name_zh, name_en=i.name_en) for i in mappable],
        choropleth={d.code: map_rows[d.code].value for d in districts if d.code in map_rows},
        devices=devices,
        ticker=ticker,
        trends=trends,
        panels=panels,
        generated_at=utcnow(),
    )
