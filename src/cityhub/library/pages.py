"""Pages of the public databases. JSON twins:

    /library                           GET /api/v1/library
    /library/{library}                 GET /api/v1/library/{library}
    /library/{library}/records?key=K   GET /api/v1/library/{library}/{key}/lineage
    /library/{library}/conflicts       GET /api/v1/library/{library}/conflicts

Records and conflicts are masked per the viewer's rights (as the API does); they need a
login with a grant, or being staff of the provider, a platform admin or an auditor.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cityhub.catalog.pages import city_of, error_page
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.errors import CityHubError
from cityhub.gateway.access import View
from cityhub.library import service
from cityhub.library.api import caller_from_user, view_of
from cityhub.library.specs import LibrarySpec
from cityhub.security.deps import OptionalUser
from cityhub.web.i18n import t
from cityhub.web.pages import _lang, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/library", response_class=HTMLResponse)
def overview_page(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> HTMLResponse:
    libraries = service.overview(db)
    codes = [lib.resource_code for lib in libraries]
    codes += [f.resource_code for lib in libraries for f in lib.feeds]
    merges = service.list_merges(db, codes, limit=10)
    return render(
        request, settings, "library/overview.html", user=user, city=city_of(db, settings),
        libraries=libraries, merges=merges,
    )  # fmt: skip


@router.get("/library/{library}", response_class=HTMLResponse)
def library_page(
    library: str, request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> HTMLResponse:
    try:
        lib = service.describe(db, service.library(library))
    except CityHubError as exc:
        return error_page(request, db, settings, user, exc.detail, exc.status)
    return render(
        request, settings, "library/library.html", user=user, city=city_of(db, settings), lib=lib
    )


def _guarded(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser, library: str
) -> tuple[LibrarySpec, View] | HTMLResponse:
    """The base library and the viewer's view of it, or the error page to show."""
    if user is None:
        lang, _ = _lang(request, settings)
        return error_page(request, db, settings, user, t("library.login_needed", lang), 401)
    try:
        spec = service.base_library(library)
        return spec, view_of(db, caller_from_user(user), spec.resource_code)
    except CityHubError as exc:
        return error_page(request, db, settings, user, exc.detail, exc.status)


@router.get("/library/{library}/records", response_class=HTMLResponse)
def record_page(
    library: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    key: str = "",
) -> HTMLResponse:
    guarded = _guarded(request, db, settings, user, library)
    if isinstance(guarded, HTMLResponse):
        return guarded
    spec, view = guarded
    try:
        record = service.record_lineage(db, spec, key[:64], view)
    except CityHubError as exc:
        return error_page(request, db, settings, user, exc.detail, exc.status)
    return render(
        request, settings, "library/record.html", user=user, city=city_of(db, settings),
        lib=service.describe(db, spec), record=record, key=key[:64],
    )  # fmt: skip


@router.get("/library/{library}/conflicts", response_class=HTMLResponse)
def conflicts_page(
    library: str,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    before: int | None = None,
) -> HTMLResponse:
    guarded = _guarded(request, db, settings, user, library)
    if isinstance(guarded, HTMLResponse):
        return guarded
    spec, view = guarded
    rows = service.list_conflicts(db, spec, view, limit=PAGE_SIZE + 1, before_id=before)
    older = rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None
    return render(
        request, settings, "library/conflicts.html", user=user, city=city_of(db, settings),
        lib=service.describe(db, spec), conflicts=rows[:PAGE_SIZE], older=older,
    )  # fmt: skip
