"""Portal pages of the catalog for everyone: search with facets and the resource page.
(The data officers' pages are in `pages_edit.py`.) JSON twins:

    /catalog            GET /api/v1/resources (the same query parameters)
    /catalog/{code}     GET /api/v1/resources/{code} and /api/v1/resources/{code}/versions
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from cityhub.catalog import masking, present, service, versions
from cityhub.catalog.api import run_search
from cityhub.catalog.models import Resource
from cityhub.catalog.search import SORTS, SearchQuery, Sort
from cityhub.catalog.service import Actor, actor_of
from cityhub.catalog.vocab import (
    FACETS,
    Category,
    OpenType,
    ResourceFormat,
    ShareType,
    Status,
    UpdateCycle,
)
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.errors import BadRequest, CityHubError, Unauthorized
from cityhub.security.deps import OptionalUser
from cityhub.security.models import Role, User
from cityhub.settings import Settings
from cityhub.web.i18n import LANG_COOKIE, Lang, pick_language, t
from cityhub.web.pages import render

public_router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20
PAGE_FACETS = FACETS[:7]
MASK_EXAMPLE = ("371302198001011234", "keep:first6,last4")
# query parameter → (SearchQuery field, vocabulary or None for free codes)
FILTERS: dict[str, tuple[str, Any]] = {
    "provider": ("providers", None),
    "category": ("categories", Category),
    "share_type": ("share_types", ShareType),
    "open_type": ("open_types", OpenType),
    "update_cycle": ("update_cycles", UpdateCycle),
    "format": ("formats", ResourceFormat),
    "region": ("regions", None),
    "keyword": ("keywords", None),
    "status": ("statuses", Status),
}


# Panels other packages add to the resource page, in the block marked GATEWAY SLOT (the
# gateway: sample rows as the viewer may see them, "request access"). A panel is called
# with (request, session, resource, user) and returns (template name, context) to render
# there, or None to show nothing.
ResourcePanel = Callable[
    [Request, Session, Resource, User | None], tuple[str, dict[str, Any]] | None
]
RESOURCE_PANELS: list[ResourcePanel] = []


def add_resource_panel(panel: ResourcePanel) -> ResourcePanel:
    """Register a panel (usable as a decorator); registering twice adds it once."""
    if panel not in RESOURCE_PANELS:
        RESOURCE_PANELS.append(panel)
    return panel


def lang_of(request: Request, settings: Settings) -> Lang:
    query, cookie = request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)
    return pick_language(query, cookie, settings.default_language)[0]


def city_of(db: Session, settings: Settings) -> Region | None:
    return db.get(Region, settings.city_code)


def error_page(
    request: Request, db: Session, settings: Settings, user: User | None, message: str, status: int
) -> HTMLResponse:
    return render(
        request,
        settings,
        "error.html",
        user=user,
        city=city_of(db, settings),
        status=status,
        message=message,
    )


def is_catalog_staff(user: User | None) -> bool:
    """Who gets the "my resources" page: editors and platform admins."""
    return bool(user and user.roles & (service.EDITOR_ROLES | {Role.platform_admin}))


def query_from(request: Request) -> tuple[SearchQuery, dict[str, list[str]]]:
    """The search the query string asks for, and its active filters by parameter."""
    params = request.query_params
    active: dict[str, list[str]] = {}
    fields: dict[str, Any] = {}
    for name, (field, kind) in FILTERS.items():
        values = [v for v in params.getlist(name) if v][:20]
        if kind is not None:
            try:
                fields[field] = tuple(kind(v) for v in values)
            except ValueError:
                raise BadRequest(f"{name}: unknown value among {values}") from None
        else:
            fields[field] = tuple(values)
        if values:
            active[name] = values
    sort = params.get("sort") or None
    if sort is not None and sort not in SORTS:
        raise BadRequest(f"sort: use one of {', '.join(SORTS)}")
    chosen: Sort | None = next((s for s in SORTS if s == sort), None)
    query = SearchQuery(
        q=(params.get("q") or "").strip()[:200], sort=chosen, facets=PAGE_FACETS, **fields
    )
    return query, active


def catalog_url(
    active: dict[str, list[str]],
    q: str,
    sort: str | None,
    toggle: tuple[str, str] | None = None,
) -> str:
    """/catalog with the current search; `toggle` adds or removes one filter value."""
    params: list[tuple[str, str]] = [("q", q)] if q else []
    for name, values in active.items():
        params += [(name, v) for v in values if (name, v) != toggle]
    if toggle and toggle[1] not in active.get(toggle[0], []):
        params.append(toggle)
    if sort:
        params.append(("sort", sort))
    return "/catalog" + ("?" + urlencode(params) if params else "")


@public_router.get("/catalog", response_class=HTMLResponse)
def catalog_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    try:
        query, active = query_from(request)
        cursor = request.query_params.get("cursor") or None
        page = run_search(db, query, actor_of(user), PAGE_SIZE, cursor)
    except BadRequest as exc:
        return error_page(request, db, settings, user, exc.detail, 400)
    next_url = None
    if page.next:
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
        next_url = "/catalog?" + urlencode([*kept, ("cursor", page.next)])
    query_string = request.url.query
    return render(
        request,
        settings,
        "catalog/search.html",
        user=user,
        city=city_of(db, settings),
        page=page,
        q=query.q,
        active=active,
        toggle=lambda name, value: catalog_url(active, query.q, query.sort, (name, value)),
        sort_url=lambda s: catalog_url(active, query.q, s),
        sorts=SORTS,
        current_sort=query.effective_sort,
        next_url=next_url,
        first_url=catalog_url(active, query.q, query.sort) if cursor else None,
        clear_url=catalog_url({}, query.q, query.sort) if active else None,
        api_url="/api/v1/resources" + (f"?{query_string}" if query_string else ""),
        staff=is_catalog_staff(user),
    )


@public_router.get("/catalog/{code}", response_class=HTMLResponse)
def resource_page(
    code: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> Response:
    actor = actor_of(user)
    try:
        resource = service.get_visible(db, code, actor)
    except Unauthorized:
        message = t("catalog.login_to_see", lang_of(request, settings))
        return error_page(request, db, settings, user, message, 401)
    except CityHubError as exc:
        return error_page(request, db, settings, user, exc.detail, exc.status)
    data = present.to_public(db, resource)
    insider = actor is not None and (
        actor.sees_all or actor.organization_id == resource.provider_id
    )
    editable = actor is not None and actor.edits(resource.provider_id)
    example = masking.mask_value(*MASK_EXAMPLE)
    panels = [shown for panel in RESOURCE_PANELS if (shown := panel(request, db, resource, user))]
    done = request.query_params.get("done", "")
    flash = t(f"catalog.done.{done}", lang_of(request, settings), code=code) if done else ""
    return render(
        request,
        settings,
        "catalog/resource.html",
        user=user,
        city=city_of(db, settings),
        r=data,
        versions=versions.list_versions(db, resource),
        steps=present.steps_of(db, resource) if insider else [],
        insider=insider,
        editable=editable and resource.status in (Status.draft, Status.withdrawn),
        actions=actions_for(actor, resource.status, resource.provider_id),
        masked_items=[i for i in data.items if i.masking],
        mask_example=f"{MASK_EXAMPLE[0]} → {example}",
        panels=panels,
        flash=flash if done in ("submit", "approve", "reject", "withdraw", "saved") else "",
    )


def actions_for(actor: Actor | None, status: Status, provider_id: int) -> list[str]:
    """The workflow buttons `actor` gets for a resource in `status`."""
    if actor is None:
        return []
    editor, admin = actor.edits(provider_id), actor.is_admin
    wanted = {
        Status.draft: ["submit"] if editor else [],
        Status.withdrawn: ["submit"] if editor else [],
        Status.in_review: ["approve", "reject"] if admin else [],
        Status.published: ["withdraw"] if editor or admin else [],
    }
    return wanted[status]
