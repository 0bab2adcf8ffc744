"""Routes of `/indicators`: definitions with their latest values, and their series. Served
from the precomputed tables only; readable by any signed-in user or API key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, Page, decode_cursor, encode_cursor
from cityhub.errors import BadRequest
from cityhub.indicators import runtime, service
from cityhub.indicators.cache import cache_of
from cityhub.indicators.registry import REGISTRY
from cityhub.indicators.schemas import IndicatorPublic, PointPublic, SeriesPublic
from cityhub.security.deps import CurrentUser

router = APIRouter(tags=["indicators"], lifespan=runtime.lifespan)

RegionParam = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="A region code; default: the city")
]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1-1000).")]


@router.get("/indicators", response_model=Page[IndicatorPublic], summary="Indicators (指标)")
def list_indicators(
    request: Request,
    db: SessionDep,
    _user: CurrentUser,
    region: RegionParam = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Response:
    """Every registered indicator in display order, with its definition, refresh rule and
    latest values (of one `region` if given, else of every region)."""
    return cache_of(request.app).answer(
        ("list", region, limit, cursor), lambda: _page(db, region, limit, cursor)
    )


def _page(db: Session, region: str | None, limit: int, cursor: str | None) -> Page[IndicatorPublic]:
    key = decode_cursor(cursor)
    indicators = REGISTRY.indicators()
    start = 0
    if key is not None:
        codes = [i.code for i in indicators]
        if len(key) != 1 or key[0] not in codes:
            raise BadRequest("cursor is not one this server issued")
        start = codes.index(key[0]) + 1
    chosen = indicators[start : start + limit]
    rows = service.latest(db, [i.code for i in chosen], region)
    items = [IndicatorPublic.of(i, rows.get(i.code, {})) for i in chosen]
    more = start + limit < len(indicators)
    return Page(items=items, next=encode_cursor([items[-1].code]) if more and items else None)


@router.get("/indicators/{code}", response_model=IndicatorPublic, summary="One indicator")
def get_indicator(request: Request, db: SessionDep, _user: CurrentUser, code: str) -> Response:
    ind = REGISTRY.indicator(code)
    return cache_of(request.app).answer(
        ("one", code), lambda: IndicatorPublic.of(ind, service.latest(db, [code]).get(code, {}))
    )


@router.get(
    "/indicators/{code}/values", response_model=SeriesPublic, summary="An indicator's series"
)
def indicator_values(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    _user: CurrentUser,
    code: str,
    region: RegionParam = None,
    from_: Annotated[
        datetime | None, Query(alias="from", description="From this time (inclusive)")
    ] = None,
    to: Annotated[datetime | None, Query(description="Until this time (exclusive)")] = None,
    every: Annotated[
        Literal["hour", "day"], Query(description="hour: stored points; day: last of each day")
    ] = "hour",
) -> Response:
    """The time series of one region (the city by default), oldest first: one point per
    hour in which it was computed, or with `every=day` the last point of each local day."""
    REGISTRY.indicator(code)
    if from_ is not None and to is not None and from_ >= to:
        raise BadRequest("`from` must be before `to`")
    place = region or settings.city_code

    def build() -> SeriesPublic:
        points = service.series(db, code, place, from_, to)
        if every == "day":
            points = service.daily(points, settings.local_timezone)
        return SeriesPublic(
            code=code, region=place, every=every, points=[PointPublic.of(p) for p in points]
        )

    return cache_of(request.app).answer(("values", code, place, from_, to, every), build)
