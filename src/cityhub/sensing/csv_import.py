"""Bulk registration from CSV: each good row is registered, each bad row reported with its
line, field and reason (the good rows still land; re-sending the file is safe, as rows
already registered are reported, not registered twice).

Columns (header required, UTF-8, optional BOM): code, name, profile, organization, lon, lat,
crs, address, install_date. Only code, name and profile are required; `organization`
defaults to the caller's; `crs` is wgs84 (default) or gcj02.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.errors import BadRequest, CityHubError
from cityhub.security.models import User
from cityhub.sensing import devices
from cityhub.sensing.models import Device, DeviceProfile
from cityhub.sensing.schemas import DeviceCreate, DeviceCreated, ImportError_, ImportResult
from cityhub.settings import Settings

COLUMNS = (
    "code",
    "name",
    "profile",
    "organization",
    "lon",
    "lat",
    "crs",
    "address",
    "install_date",
)
REQUIRED = ("code", "name", "profile")
MAX_ROWS = 10_000


def _rows(text: str) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise BadRequest("the CSV file is empty; the first line must name the columns")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise BadRequest(f"unknown column {unknown[0]!r}; the columns are {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadRequest(f"the CSV file has no {missing[0]!r} column")
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    for row in reader:
        if len(rows) >= MAX_ROWS:
            raise BadRequest(f"more than {MAX_ROWS} rows; split the file")
        if None in row:
            rows.append({"__extra__": "1", **{k: v for k, v in row.items() if k}})
        else:
            rows.append({k: (v or "").strip() for k, v in row.items()})
    return header, rows


def _field_of(exc: ValidationError) -> tuple[str, str]:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err.get("loc", ()))
    return loc, err.get("msg", "invalid").removeprefix("Value error, ")


def import_csv(session: Session, settings: Settings, raw: bytes, user: User) -> ImportResult:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the CSV file is not UTF-8 text") from None
    try:
        _header, rows = _rows(text)
    except csv.Error as exc:
        raise BadRequest(f"the CSV file cannot be read: {exc}") from None
    errors: list[ImportError_] = []
    candidates: list[tuple[int, DeviceCreate]] = []
    seen: dict[str, int] = {}
    for offset, row in enumerate(rows):
        line = offset + 2
        code = str(row.get("code", ""))
        if "__extra__" in row:
            errors.append(
                ImportError_(row=line, code=code, field="", message="more values than columns")
            )
            continue
        values: dict[str, Any] = {k: v for k, v in row.items() if v != ""}
        try:
            data = DeviceCreate.model_validate(values)
        except ValidationError as exc:
            field, message = _field_of(exc)
            errors.append(ImportError_(row=line, code=code, field=field, message=message))
            continue
        if data.code in seen:
            errors.append(
                ImportError_(
                    row=line, code=code, field="code", message=f"repeats line {seen[data.code]}"
                )
            )
            continue
        seen[data.code] = line
        candidates.append((line, data))
    created = _register(session, settings, candidates, user, errors)
    errors.sort(key=lambda e: e.row)
    return ImportResult(created=created, errors=errors)


def _register(
    session: Session,
    settings: Settings,
    candidates: list[tuple[int, DeviceCreate]],
    user: User,
    errors: list[ImportError_],
) -> list[DeviceCreated]:
    codes = [d.code for _, d in candidates]
    existing = (
        set(session.scalars(select(Device.code).where(Device.code.in_(codes)))) if codes else set()
    )
    profiles = {p.code: p for p in session.scalars(select(DeviceProfile))}
    orgs = {o.code: o for o in session.scalars(select(Organization))}
    ok: list[tuple[int, DeviceCreate, Organization, DeviceProfile]] = []
    for line, data in candidates:
        org = orgs.get(data.organization) if data.organization else user.organization
        problem: tuple[str, str] | None = None
        if data.code in existing:
            problem = ("code", f"device {data.code!r} is already registered")
        elif data.profile not in profiles:
            problem = ("profile", f"no device profile with code {data.profile!r}")
        elif org is None:
            problem = ("organization", f"organization {data.organization!r} does not exist")
        elif not devices.may_manage(user, org.id):
            problem = ("organization", f"you may not register devices of organization {org.code}")
        if problem:
            errors.append(
                ImportError_(row=line, code=data.code, field=problem[0], message=problem[1])
            )
        else:
            assert org is not None
            ok.append((line, data, org, profiles[data.profile]))
    located = [
        (i, d) for i, (_, d, _, _) in enumerate(ok) if d.lon is not None and d.lat is not None
    ]
    places = (
        devices.place_many(
            settings,
            [d.lon for _, d in located],  # type: ignore[misc]
            [d.lat for _, d in located],  # type: ignore[misc]
            [d.crs for _, d in located],
        )
        if located
        else []
    )
    where = {i: p for (i, _), p in zip(located, places, strict=True)}
    created = []
    for i, (line, data, org, profile) in enumerate(ok):
        try:
            with session.begin_nested():
                device, token = devices.register(
                    session,
                    settings,
                    data,
                    org,
                    actor=user.username,
                    profile=profile,
                    where=where.get(i, devices.Place(None, None, None, None, None)),
                )
        except CityHubError as exc:
            errors.append(ImportError_(row=line, code=data.code, field="", message=exc.detail))
            continue
        created.append(DeviceCreated(**devices.public(device, org.code).model_dump(), token=token))
    return created
