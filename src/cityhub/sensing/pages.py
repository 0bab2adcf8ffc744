"""Console pages of the sensing layer: the device list and map, a device's detail with its
charts, and the alarm inbox. JSON twins: /api/v1/devices (and .geojson, /summary),
/api/v1/devices/{code}, /api/v1/telemetry/query, /api/v1/alarms."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import decode_cursor, encode_cursor
from cityhub.directory.models import Organization, Region
from cityhub.errors import CityHubError
from cityhub.sensing import alarm_admin, devices, insights
from cityhub.sensing.models import AlarmState, DeviceKind, DeviceStatus
from cityhub.web.deps import PageUser
from cityhub.web.i18n import t
from cityhub.web.pages import _lang, csrf_valid, render

router = APIRouter(include_in_schema=False)
PAGE = 50


def _regions(db: SessionDep, settings: SettingsDep) -> list[Region]:
    return list(
        db.scalars(
            select(Region).where(Region.parent_code == settings.city_code).order_by(Region.code)
        )
    )


@router.get("/sensing/devices", response_class=HTMLResponse)
def device_list(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    kind: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    region: Annotated[str, Query(pattern=r"^(\d{6})?$")] = "",
    organization: Annotated[str, Query(max_length=32)] = "",
    cursor: str | None = None,
) -> Response:
    """The filter form sends every field; an empty one means "any"."""
    after = decode_cursor(cursor)
    chosen_kind = DeviceKind(kind) if kind in {k.value for k in DeviceKind} else None
    chosen_status = DeviceStatus(status) if status in {s.value for s in DeviceStatus} else None
    try:
        rows = devices.list_devices(
            db,
            limit=PAGE + 1,
            after=str(after[0]) if after else None,
            kind=chosen_kind,
            status=chosen_status,
            region=region or None,
            organization=organization or None,
        )
    except CityHubError:
        rows = []
    orgs = devices.org_codes(db, {d.organization_id for d in rows})
    items = [devices.public(d, orgs[d.organization_id]) for d in rows[:PAGE]]
    following = encode_cursor([items[-1].code]) if len(rows) > PAGE else None
    regions = _regions(db, settings)
    return render(
        request,
        settings,
        "sensing_devices.html",
        user=user,
        city=db.get(Region, settings.city_code),
        items=items,
        following=following,
        summary=devices.summary(db),
        regions=regions,
        region_names={r.code: (r.name_zh, r.name_en) for r in regions},
        organizations=list(db.scalars(select(Organization).order_by(Organization.code))),
        kinds=[k.value for k in DeviceKind],
        statuses=[s.value for s in DeviceStatus],
        chosen={"kind": kind, "status": status, "region": region, "organization": organization},
    )


@router.get("/sensing/devices/{code}", response_class=HTMLResponse)
def device_page(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    try:
        device = devices.get_device(db, code)
    except CityHubError as exc:
        lang, _ = _lang(request, settings)
        return render(
            request,
            settings,
            "error.html",
            user=user,
            city=db.get(Region, settings.city_code),
            status=exc.status,
            message=t("sensing.no_device", lang, code=code[:64]),
        )
    detail = insights.device_detail(db, device)
    open_alarms = alarm_admin.list_alarms(db, limit=20, device=code, open_only=True)
    return render(
        request,
        settings,
        "sensing_device.html",
        user=user,
        city=db.get(Region, settings.city_code),
        device=detail,
        region=db.get(Region, detail.region_code) if detail.region_code else None,
        alarms=[alarm_admin.alarm_public(db, a) for a in open_alarms],
        rejections=insights.list_rejections(db, device=code),
    )


@router.get("/sensing/alarms", response_class=HTMLResponse)
def alarm_inbox(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    state: Annotated[str, Query(pattern="^(open|raised|acknowledged|cleared|all)$")] = "open",
) -> Response:
    rows = alarm_admin.list_alarms(
        db,
        limit=200,
        open_only=state == "open",
        state=state if state in {s.value for s in AlarmState} else None,
    )
    alarms = [alarm_admin.alarm_public(db, a) for a in rows]
    manageable = {
        a.id
        for a, row in zip(alarms, rows, strict=True)
        if devices.may_manage(user, row.device.organization_id)
    }
    return render(
        request,
        settings,
        "sensing_alarms.html",
        user=user,
        city=db.get(Region, settings.city_code),
        alarms=alarms,
        manageable=manageable,
        state=state,
        states=["open", "raised", "acknowledged", "cleared", "all"],
        notice=request.query_params.get("done", ""),
    )


@router.post("/sensing/alarms/{alarm_id}/acknowledge")
def acknowledge_form(
    alarm_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    lang, _ = _lang(request, settings)
    city = db.get(Region, settings.city_code)
    if not csrf_valid(request, settings, csrf_token):
        return render(
            request,
            settings,
            "error.html",
            user=user,
            city=city,
            status=403,
            message=t("csrf.failed", lang),
        )
    try:
        alarm_admin.acknowledge(db, alarm_admin.get_alarm(db, alarm_id), user)
    except CityHubError as exc:
        return render(
            request,
            settings,
            "error.html",
            user=user,
            city=city,
            status=exc.status,
            message=f"{t('sensing.ack_failed', lang)} {exc.detail}",
        )
    return RedirectResponse(f"/sensing/alarms?done={alarm_id}", status_code=303)
