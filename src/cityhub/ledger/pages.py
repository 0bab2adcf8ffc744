"""The ledger console page, /ledger: size, latest head and cosignatures, witnesses,
search by resource or batch, and checking an uploaded receipt. JSON twins:
/api/v1/ledger, /api/v1/ledger/entries and /api/v1/ledger/receipts/verify."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.ledger import service
from cityhub.security.deps import OptionalUser
from cityhub.settings import Settings
from cityhub.web.i18n import LANG_COOKIE, Lang, pick_language, t
from cityhub.web.pages import csrf_valid, render

router = APIRouter(include_in_schema=False)
MAX_UPLOAD = 8 * 1024 * 1024  # a bundle of ~20,000 entries


def _lang(request: Request, settings: Settings) -> Lang:
    query, cookie = request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)
    return pick_language(query, cookie, settings.default_language)[0]


def when(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    *,
    resource: str = "",
    batch: str = "",
    verdict: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    summary = service.summary(db)
    entries = service.list_entries(
        db, limit=50, resource=resource.strip() or None, batch=batch.strip() or None
    )
    return render(
        request,
        settings,
        "ledger.html",
        user=user,
        city=db.get(Region, settings.city_code),
        status=status,
        summary=summary,
        entries=entries,
        resource=resource,
        batch=batch,
        verdict=verdict,
        when=when,
    )


@router.get("/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    resource: str = "",
    batch: str = "",
) -> HTMLResponse:
    return _page(request, db, settings, user, resource=resource[:64], batch=batch[:64])


@router.post("/ledger/verify", response_class=HTMLResponse)
def verify_upload(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    receipt: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> HTMLResponse:
    lang = _lang(request, settings)
    if not csrf_valid(request, settings, csrf_token):
        verdict = {"valid": False, "error": t("csrf.failed", lang)}
        return _page(request, db, settings, user, verdict=verdict, status=403)
    raw = receipt.file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        verdict = {"valid": False, "error": t("ledger.upload_too_big", lang)}
        return _page(request, db, settings, user, verdict=verdict, status=413)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        verdict = {"valid": False, "error": f"{t('ledger.not_json', lang)} ({exc})"}
        return _page(request, db, settings, user, verdict=verdict, status=400)
    verdict = service.verify_uploaded(db, document)
    verdict["filename"] = receipt.filename or ""
    return _page(request, db, settings, user, verdict=verdict)
