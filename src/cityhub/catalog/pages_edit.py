"""Portal pages of the catalog for data officers and platform admins. JSON twins:

/catalog/mine                 GET /api/v1/resources?provider=<your org>
                              (platform admins: ?status=in_review, the review queue)
/catalog/new                  POST /api/v1/resources
/catalog/{code}/edit          PATCH /api/v1/resources/{code}
POST /catalog/{code}/action   POST /api/v1/resources/{code}/{submit|approve|reject|withdraw}
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cityhub.catalog import present, service, workflow
from cityhub.catalog.api import run_search
from cityhub.catalog.pages import actions_for, city_of, error_page, is_catalog_staff, lang_of
from cityhub.catalog.schemas import ResourceCreate, ResourceUpdate
from cityhub.catalog.search import SearchQuery
from cityhub.catalog.service import Actor
from cityhub.catalog.vocab import VOCABULARIES, Status
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Organization, Region
from cityhub.errors import CityHubError
from cityhub.security.deps import OptionalUser
from cityhub.security.models import User
from cityhub.settings import Settings
from cityhub.web.i18n import t
from cityhub.web.pages import csrf_valid, login_redirect, render

router = APIRouter(include_in_schema=False)

MINE_PAGE = 50
EMPTY_ITEM_ROWS = 3  # when editing; a new resource gets NEW_ITEM_ROWS
NEW_ITEM_ROWS = 8
MAX_ITEM_ROWS = 500
_SPLIT = re.compile(r"[\s,，、;；]+")
_ITEM_FIELDS = ("name", "code", "data_type", "length", "element_ref", "sensitivity", "masking")


def _refuse(request: Request, db: Session, settings: Settings, user: User | None) -> Response:
    if user is None:
        return login_redirect(request)
    lang = lang_of(request, settings)
    return error_page(request, db, settings, user, t("catalog.not_editor", lang), 403)


def _safe_next(value: str) -> str:
    """Only our own catalog pages are followed after a form (no open redirect)."""
    return value if value.startswith("/catalog") and "//" not in value else "/catalog/mine"


# -- my resources / the review queue -----------------------------------------------------


@router.get("/catalog/mine", response_class=HTMLResponse)
def mine_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if user is None or not is_catalog_staff(user):
        return _refuse(request, db, settings, user)
    actor = Actor.of(user)
    wanted = request.query_params.get("status") or ""
    try:
        statuses = (Status(wanted),) if wanted else ()
    except ValueError:
        return error_page(request, db, settings, user, f"status: unknown value {wanted!r}", 400)
    if actor.is_admin and not actor.roles & service.EDITOR_ROLES:
        queue = True
        statuses = statuses or (() if "status" in request.query_params else (Status.in_review,))
        query = SearchQuery(statuses=statuses, sort="updated", facets=())
        api = {"status": [s.value for s in statuses]}
    else:
        queue = False
        org = user.organization
        query = SearchQuery(providers=(org.code,), statuses=statuses, sort="updated", facets=())
        api = {"provider": [org.code], "status": [s.value for s in statuses]}
    page = run_search(db, query, actor, MINE_PAGE, request.query_params.get("cursor") or None)
    done, code = request.query_params.get("done", ""), request.query_params.get("code", "")
    lang = lang_of(request, settings)
    known = ("submit", "approve", "reject", "withdraw", "saved")
    flash = t(f"catalog.done.{done}", lang, code=code) if done in known and code else ""
    rows = [
        (r, actions_for(actor, r.status, _provider_id(db, r.provider.code))) for r in page.items
    ]
    return render(
        request,
        settings,
        "catalog/mine.html",
        user=user,
        city=city_of(db, settings),
        queue=queue,
        rows=rows,
        total=page.total,
        statuses=list(Status),
        current_status=wanted
        if "status" in request.query_params
        else ("in_review" if queue else ""),
        flash=flash,
        next_url=("/catalog/mine?" + urlencode({"status": wanted, "cursor": page.next}))
        if page.next
        else None,
        api_url="/api/v1/resources?" + urlencode(api, doseq=True),
        can_create=bool(actor.roles & service.EDITOR_ROLES),
        here=str(request.url.path) + (f"?status={wanted}" if wanted else ""),
    )


def _provider_id(db: Session, code: str) -> int:
    return db.scalar(select(Organization.id).where(Organization.code == code)) or 0


@router.post("/catalog/{code}/action")
async def action_submit(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    form = await request.form()
    if not csrf_valid(request, settings, str(form.get("csrf_token", ""))):
        lang = lang_of(request, settings)
        return error_page(request, db, settings, user, t("csrf.failed", lang), 403)
    if user is None:
        return login_redirect(request)
    action = str(form.get("action", ""))
    comment = str(form.get("comment", ""))[:1000]
    try:
        actor = Actor.of(user)
        resource = service.get_visible(db, code, actor)
        workflow.act(db, resource, action, actor, comment)
    except CityHubError as exc:  # every check runs before the first write: nothing to undo
        lang = lang_of(request, settings)
        message = t("catalog.action_failed", lang, reason=exc.detail)
        return error_page(request, db, settings, user, message, exc.status)
    target = _safe_next(str(form.get("next", "/catalog/mine")))
    sep = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{sep}{urlencode({'done': action, 'code': code})}", 303)


# -- the metadata form -------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [v for v in _SPLIT.split(value.strip()) if v]


def form_payload(form: FormData, *, with_code: bool) -> dict[str, Any]:
    """The JSON body the API would get, from the form's fields."""

    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    payload: dict[str, Any] = {
        name: text(name)
        for name in (
            "name",
            "summary",
            "category",
            "format",
            "share_type",
            "share_condition",
            "open_type",
            "open_condition",
            "update_cycle",
        )
    }
    payload["sharing_method"] = text("sharing_method") or None
    payload["regions"] = [str(v) for v in form.getlist("regions")]
    payload["keywords"] = _split(text("keywords"))
    payload["related_codes"] = _split(text("related_codes"))
    items = []
    for n in range(min(int(text("item_rows") or 0), MAX_ITEM_ROWS)):
        row = {f: text(f"items-{n}-{f}") for f in _ITEM_FIELDS}
        if not row["name"] and not row["code"]:
            continue
        item: dict[str, Any] = dict(row)
        item["length"] = row["length"] or None
        items.append(item)
    payload["items"] = items
    if with_code:
        payload["code"] = text("code")
    return payload


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _regions(db: Session, settings: Settings) -> list[Region]:
    return list(
        db.scalars(
            select(Region)
            .where(or_(Region.code == settings.city_code, Region.parent_code == settings.city_code))
            .order_by(Region.code)
        )
    )


def _values_of(db: Session, code: str, actor: Actor) -> dict[str, Any]:
    data = present.to_public(db, service.get_visible(db, code, actor))
    values = data.model_dump(mode="json")
    values["regions"] = [r["code"] for r in values["regions"]]
    return values


def _form(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    values: dict[str, Any],
    *,
    code: str | None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    items = list(values.get("items") or [])
    rows = items + [{}] * (EMPTY_ITEM_ROWS if items else NEW_ITEM_ROWS)
    sequence = service.next_sequence(db, user.organization)
    example = f"101001-{user.organization.code}-{sequence:06d}"
    return render(
        request,
        settings,
        "catalog/form.html",
        user=user,
        city=city_of(db, settings),
        status=status,
        v=values,
        code=code,
        item_rows=rows,
        vocab={k: [e.value for e in enum] for k, enum in VOCABULARIES.items()},
        regions=_regions(db, settings),
        error=error,
        example_code=example,
    )


@router.get("/catalog/new", response_class=HTMLResponse)
def new_form(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if user is None or not user.roles & service.EDITOR_ROLES:
        return _refuse(request, db, settings, user)
    defaults = {"regions": [settings.city_code], "share_type": "conditional", "open_type": "closed"}
    return _form(request, db, settings, user, defaults, code=None)


@router.post("/catalog/new", response_class=HTMLResponse)
async def new_submit(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    form = await request.form()
    return await _save(request, db, settings, user, form, code=None)


@router.get("/catalog/{code}/edit", response_class=HTMLResponse)
def edit_form(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    if user is None or not user.roles & service.EDITOR_ROLES:
        return _refuse(request, db, settings, user)
    try:
        values = _values_of(db, code, Actor.of(user))
    except CityHubError as exc:
        return error_page(request, db, settings, user, exc.detail, exc.status)
    return _form(request, db, settings, user, values, code=code)


@router.post("/catalog/{code}/edit", response_class=HTMLResponse)
async def edit_submit(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    form = await request.form()
    return await _save(request, db, settings, user, form, code=code)


async def _save(
    request: Request,
    db: Session,
    settings: Settings,
    user: User | None,
    form: FormData,
    *,
    code: str | None,
) -> Response:
    lang = lang_of(request, settings)
    if not csrf_valid(request, settings, str(form.get("csrf_token", ""))):
        return error_page(request, db, settings, user, t("csrf.failed", lang), 403)
    if user is None or not user.roles & service.EDITOR_ROLES:
        return _refuse(request, db, settings, user)
    payload = form_payload(form, with_code=code is None)
    actor = Actor.of(user)
    try:
        if code is None:
            resource = service.create_resource(db, ResourceCreate.model_validate(payload), actor)
        else:
            current = service.get_visible(db, code, actor)
            change = ResourceUpdate.model_validate(payload)
            resource = service.update_resource(db, current, change, actor)
    except ValidationError as exc:
        reason, status = _first_error(exc), 422
    except CityHubError as exc:
        reason, status = exc.detail, exc.status
    else:
        query = urlencode({"done": "saved", "code": resource.code})
        return RedirectResponse(f"/catalog/mine?{query}", status_code=303)
    # The service checks everything before it writes, so a refusal leaves nothing behind.
    values = {**payload, "code": payload.get("code", code)}
    message = t("catalog.form_failed", lang, reason=reason)
    return _form(request, db, settings, user, values, code=code, error=message, status=status)
