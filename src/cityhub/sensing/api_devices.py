"""Routes of /devices and /device-profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from cityhub.errors import BadRequest
from cityhub.security.deps import CurrentUser, require_roles
from cityhub.security.models import Role, User
from cityhub.sensing import csv_import, devices, insights, profiles
from cityhub.sensing.models import DeviceKind, DeviceStatus
from cityhub.sensing.schemas import (
    DeviceCreate,
    DeviceCreated,
    DeviceDetail,
    DevicePublic,
    DeviceSummary,
    DeviceUpdate,
    ImportResult,
    ProfileCreate,
    ProfilePublic,
    ProfileUpdate,
    RejectedSample,
    RejectionPublic,
    TokenIssued,
)

router = APIRouter(tags=["sensing: devices"])
Operator = Annotated[User, Depends(require_roles(Role.platform_admin, Role.operator))]
RegionParam = Annotated[str | None, Query(pattern=r"^\d{6}$", description="GB/T 2260 code")]
MAX_CSV_BYTES = 8 * 1024 * 1024


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"


def _page(db: SessionDep, rows: list[Any], limit: int) -> Page[DevicePublic]:
    orgs = devices.org_codes(db, {d.organization_id for d in rows[:limit]})
    items = [devices.public(d, orgs[d.organization_id]) for d in rows[:limit]]
    nxt = encode_cursor([items[-1].code]) if len(rows) > limit else None
    return Page(items=items, next=nxt)


@router.get("/devices", response_model=Page[DevicePublic], summary="List devices (感知设备)")
def list_devices(
    db: SessionDep,
    _user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    kind: DeviceKind | None = None,
    organization: str | None = None,
    region: RegionParam = None,
    status: DeviceStatus | None = None,
    profile: str | None = None,
    q: Annotated[str | None, Query(max_length=64, description="Code or name contains")] = None,
) -> Page[DevicePublic]:
    """Devices ordered by code, filtered by kind, owner organization, region (county or
    district), status (online, offline, fault, maintenance) and profile."""
    after = decode_cursor(cursor)
    rows = devices.list_devices(
        db,
        limit=limit + 1,
        after=str(after[0]) if after else None,
        kind=kind,
        organization=organization,
        region=region,
        status=status,
        profile=profile,
        q=q,
    )
    return _page(db, rows, limit)


@router.get(
    "/devices.geojson",
    response_class=GeoJSONResponse,
    summary="Devices as GeoJSON points (GCJ-02) with their status",
)
def devices_geojson(
    db: SessionDep,
    _user: CurrentUser,
    kind: DeviceKind | None = None,
    organization: str | None = None,
    region: RegionParam = None,
    status: DeviceStatus | None = None,
) -> dict[str, Any]:
    """Every matching device with a location, ready for a map layer over
    `/api/v1/regions.geojson` (same datum)."""
    rows = devices.list_devices(
        db, limit=100_000, kind=kind, organization=organization, region=region, status=status
    )
    return insights.device_features(db, rows)


@router.get(
    "/devices/summary", response_model=DeviceSummary, summary="Device counts and online rate"
)
def device_summary(db: SessionDep, _user: CurrentUser) -> DeviceSummary:
    return DeviceSummary.model_validate(devices.summary(db))


@router.post("/devices", response_model=DeviceCreated, status_code=201, summary="Register a device")
def create_device(
    data: DeviceCreate, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> DeviceCreated:
    """Registers a device; the answer carries its token, shown this once (stored hashed).
    The region is computed from the location (WGS-84 unless `crs` says gcj02)."""
    device, token = devices.create_device(db, settings, data, user)
    org_code = devices.org_codes(db, {device.organization_id})[device.organization_id]
    return DeviceCreated(**devices.public(device, org_code).model_dump(), token=token)


@router.post(
    "/devices/import", response_model=ImportResult, summary="Register devices from a CSV file"
)
async def import_devices(
    request: Request, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> ImportResult:
    """Send the CSV as the request body (`Content-Type: text/csv`). Columns: code, name,
    profile, organization, lon, lat, crs, address, install_date. Good rows are registered
    (their tokens are in `created`, shown once); bad rows are listed in `errors` with the
    line, field and reason."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_CSV_BYTES:
            raise BadRequest(f"the CSV file is larger than {MAX_CSV_BYTES // 1024 // 1024} MiB")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(csv_import.import_csv, db, settings, bytes(body), user)


@router.get(
    "/devices/{code}", response_model=DeviceDetail, summary="One device, with latest values"
)
def get_device(code: str, db: SessionDep, _user: CurrentUser) -> DeviceDetail:
    return insights.device_detail(db, devices.get_device(db, code))


@router.patch("/devices/{code}", response_model=DevicePublic, summary="Change a device")
def update_device(
    code: str, data: DeviceUpdate, db: SessionDep, settings: SettingsDep, user: CurrentUser
) -> DevicePublic:
    """Rename, move, set `mode` to maintenance (检修) or back to active, clear a fault."""
    device = devices.update_device(db, settings, devices.get_device(db, code), data, user)
    org_code = devices.org_codes(db, {device.organization_id})[device.organization_id]
    return devices.public(device, org_code)


@router.post(
    "/devices/{code}/token", response_model=TokenIssued, summary="Issue a new device token"
)
def rotate_token(code: str, db: SessionDep, user: CurrentUser) -> TokenIssued:
    """A new token, shown once; the old one stops working."""
    device = devices.get_device(db, code)
    devices.check_manage(user, device.organization_id, f"issue a token for device {code}")
    return TokenIssued(device=code, token=devices.rotate_token(db, device, user.username))


@router.get(
    "/devices/{code}/rejections",
    response_model=list[RejectionPublic],
    summary="What this device sent that was refused, counted per reason",
)
def device_rejections(code: str, db: SessionDep, _user: CurrentUser) -> list[RejectionPublic]:
    devices.get_device(db, code)
    return insights.list_rejections(db, device=code)


@router.get(
    "/devices/{code}/rejected-messages",
    response_model=list[RejectedSample],
    summary="Samples of refused messages with their reasons (newest first)",
)
def device_rejected_messages(
    code: str, db: SessionDep, _user: CurrentUser, limit: LimitParam = 100
) -> list[RejectedSample]:
    devices.get_device(db, code)
    return [
        RejectedSample.model_validate(r)
        for r in insights.rejected_samples(db, device=code, limit=limit)
    ]


# -- profiles -------------------------------------------------------------------------------


@router.get("/device-profiles", response_model=list[ProfilePublic], summary="Device profiles")
def list_profiles(db: SessionDep, _user: CurrentUser) -> list[ProfilePublic]:
    return [ProfilePublic.model_validate(p) for p in profiles.list_profiles(db)]


@router.get("/device-profiles/{code}", response_model=ProfilePublic, summary="One device profile")
def get_profile(code: str, db: SessionDep, _user: CurrentUser) -> ProfilePublic:
    return ProfilePublic.model_validate(profiles.get_profile(db, code))


@router.post(
    "/device-profiles",
    response_model=ProfilePublic,
    status_code=201,
    summary="Add a device profile",
)
def create_profile(data: ProfileCreate, db: SessionDep, user: Operator) -> ProfilePublic:
    return ProfilePublic.model_validate(profiles.create_profile(db, data, user.username))


@router.patch("/device-profiles/{code}", response_model=ProfilePublic, summary="Change a profile")
def update_profile(code: str, data: ProfileUpdate, db: SessionDep, user: Operator) -> ProfilePublic:
    """Intervals, offline limit, retention and flood limit; metrics are fixed once created."""
    profile = profiles.update_profile(db, profiles.get_profile(db, code), data, user.username)
    return ProfilePublic.model_validate(profile)
