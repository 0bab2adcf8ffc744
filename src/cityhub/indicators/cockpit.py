"""The digital cockpit (数字驾驶舱): the page `/cockpit`, its JSON twin
`GET /api/v1/cockpit`, and the live stream `GET /api/v1/cockpit/stream` (Server-Sent
Events: alarms, incidents, deliveries, recomputed indicators)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.indicators import cockpit_data
from cityhub.indicators.cache import cache_of
from cityhub.indicators.cockpit_data import Cockpit
from cityhub.indicators.stream import feed_of, messages
from cityhub.security.deps import CurrentUser, optional_user, signed_in
from cityhub.web.deps import PageUser
from cityhub.web.i18n import t
from cityhub.web.pages import _lang, render

api_router = APIRouter(tags=["cockpit"])
pages_router = APIRouter(include_in_schema=False)

# Text cockpit.js needs for what it draws live (the rest is rendered by the template).
LABELS = (
    "cockpit.city_all", "cockpit.live", "cockpit.reconnecting", "cockpit.no_events",
    "cockpit.no_value", "cockpit.kind.alarm", "cockpit.kind.incident", "cockpit.kind.delivery",
    "cockpit.rows", "cockpit.devices", "cockpit.status.online", "cockpit.status.offline",
    "cockpit.status.fault", "cockpit.status.maintenance",
)  # fmt: skip

RegionParam = Annotated[
    str | None, Query(pattern=r"^(\d{6})?$", description="Drill down to this district")
]
MapParam = Annotated[
    str | None, Query(max_length=64, description="The indicator the map is coloured by")
]


@api_router.get("/cockpit", response_model=Cockpit, summary="Digital cockpit (数字驾驶舱)")
def cockpit_json(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    _user: CurrentUser,
    region: RegionParam = None,
    map: MapParam = None,
) -> Response:
    """Everything the cockpit page shows, for the city or one district (`region`), read
    from precomputed indicators and snapshots only."""
    lang, _ = _lang(request, settings)
    return cache_of(request.app).answer(
        ("cockpit", lang, region or None, map),
        lambda: cockpit_data.build(db, settings, lang, region or None, map),
    )


def _stream_user(request: Request) -> None:
    """Who is asking, in a session of its own: a stream must not hold a request session
    (and its transaction) open for as long as it runs."""
    with request.app.state.sessions() as session, session.begin():
        signed_in(request, optional_user(request, session))


@api_router.get(
    "/cockpit/stream",
    summary="Live cockpit events (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def cockpit_stream(
    request: Request,
    _user: Annotated[None, Depends(_stream_user)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    lifetime: Annotated[
        float, Query(ge=1, le=300, description="Seconds before the stream ends (it is resumed)")
    ] = 25.0,
) -> StreamingResponse:
    """`text/event-stream` of alarms (`alarm`), incidents (`incident`), deliveries
    (`batch`) and recomputed indicators (`recomputed`), each with its outbox id: a browser
    that reconnects sends `Last-Event-ID` and receives what it missed."""
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else None
    return StreamingResponse(
        messages(feed_of(request.app), after, lifetime),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@api_router.get(
    "/cockpit/districts.geojson",
    summary="The districts' boundaries for the cockpit map (GeoJSON)",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def districts_geojson(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    """The county-level divisions of the city as one FeatureCollection (GCJ-02, as
    `/regions.geojson?parent=`), assembled from the stored geometry text without parsing
    it: the cockpit's first render waits for this."""
    cache = cache_of(request.app)
    return cache.raw(("districts", settings.city_code), lambda: _districts(db, settings.city_code))


def _districts(db: Session, city_code: str) -> tuple[bytes, str]:
    rows = db.execute(
        select(Region.code, Region.name_zh, Region.name_en, Region.geometry)
        .where(Region.parent_code == city_code)
        .order_by(Region.code)
    )
    features = []
    for code, name_zh, name_en, geometry in rows:
        props = json.dumps({"code": code, "name_zh": name_zh, "name_en": name_en},
                           ensure_ascii=False)  # fmt: skip
        features.append(
            f'{{"type":"Feature","id":"{code}","properties":{props},'
            f'"geometry":{geometry or "null"}}}'
        )
    body = '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"
    return body.encode(), "application/geo+json"


@pages_router.get("/cockpit", response_class=HTMLResponse)
def cockpit_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    region: RegionParam = None,
    map: MapParam = None,
) -> Response:
    lang, _ = _lang(request, settings)
    data = cockpit_data.build(db, settings, lang, region or None, map)
    return render(
        request,
        settings,
        "cockpit.html",
        user=user,
        city=db.get(Region, settings.city_code),
        cockpit=data,
        labels={key.removeprefix("cockpit."): t(key, lang) for key in LABELS},
    )
