"""Portal pages of the interface service: my applications and keys (/apps). The requests,
inbox, usage and sample pages are in `pages_sharing`. Every page's data is also served
by the JSON API (/api/v1/applications, /requests, /usage, /resources/{code}/sample)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.catalog.pages import add_resource_panel
from cityhub.catalog.vocab import ResourceFormat, Status
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.errors import CityHubError, Forbidden
from cityhub.gateway import apps, sample
from cityhub.gateway.schemas import ApplicationCreate, KeyIssued
from cityhub.gateway.workdays import Calendar
from cityhub.security.models import Role, User
from cityhub.settings import Settings
from cityhub.web.deps import PageUser
from cityhub.web.i18n import t
from cityhub.web.pages import _lang, csrf_valid, render

__all__ = ["csrf_valid"]

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]


class PageError(Exception):
    """A form's problem, shown on the page it came from."""


@contextmanager
def attempt(db: Session) -> Iterator[None]:
    """Run a form's change in a savepoint: a refused change leaves nothing behind."""
    savepoint = db.begin_nested()
    try:
        yield
    except CityHubError:
        savepoint.rollback()
        raise
    savepoint.commit()


def page(
    request: Request,
    db: Session,
    settings: Settings,
    user: User | None,
    template: str,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang, _ = _lang(request, settings)
    return render(
        request,
        settings,
        template,
        user=user,
        city=db.get(Region, settings.city_code),
        status=status,
        tr_status=lambda value: t(f"gateway.status.{value}", lang),
        **context,
    )


def refused(request: Request, db: Session, settings: Settings, user: User | None) -> Response:
    lang, _ = _lang(request, settings)
    return page(
        request, db, settings, user, "error.html", status=403, message=t("csrf.failed", lang)
    )


def _apps_page(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    *,
    error: str = "",
    status: int = 200,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    today = Calendar.from_settings(settings).today()
    mine = apps.list_for(db, user, limit=200, mine=True)
    return page(
        request,
        db,
        settings,
        user,
        "gateway/apps.html",
        status=status,
        apps=[apps.public(db, a, today) for a in mine],
        can_register=Role.developer in user.roles,
        error=error,
        form=form or {},
        tab="apps",
    )


@router.get("/apps", response_class=HTMLResponse)
def apps_page(request: Request, db: SessionDep, settings: SettingsDep, user: PageUser) -> Response:
    return _apps_page(request, db, settings, user)


@router.post("/apps", response_class=HTMLResponse)
def register_app(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    name: Text = "",
    purpose: Text = "",
    description: Text = "",
    contact_name: Text = "",
    contact_phone: Text = "",
    contact_email: Text = "",
    csrf_token: Text = "",
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return refused(request, db, settings, user)
    form = {
        "name": name,
        "purpose": purpose,
        "description": description,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "contact_email": contact_email,
    }
    try:
        data = ApplicationCreate.model_validate(form)
        with attempt(db):
            app = apps.create(db, user, data, settings)
    except CityHubError as exc:
        return _apps_page(
            request, db, settings, user, error=exc.detail, status=exc.status, form=form
        )
    except ValueError as exc:  # pydantic's ValidationError: the first field's reason
        return _apps_page(request, db, settings, user, error=_first(exc), status=422, form=form)
    return RedirectResponse(f"/apps/{app.id}", status_code=303)


def _first(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', '')}"
    return str(exc)


def _app_page(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    app_id: int,
    *,
    issued: KeyIssued | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    app = apps.get(db, app_id, user)
    manage = Role.developer in user.roles and user.organization_id == app.organization_id
    keys = apps.list_keys(db, user, app) if manage or Role.platform_admin in user.roles else []
    today = Calendar.from_settings(settings).today()
    return page(
        request,
        db,
        settings,
        user,
        "gateway/app.html",
        status=status,
        app=apps.public(db, app, today),
        keys=keys,
        manage=manage,
        issued=issued,
        error=error,
        tab="apps",
    )


@router.get("/apps/{app_id}", response_class=HTMLResponse)
def app_page(
    app_id: int, request: Request, db: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    try:
        return _app_page(request, db, settings, user, app_id)
    except CityHubError as exc:
        return page(
            request, db, settings, user, "error.html", status=exc.status, message=exc.detail
        )


def _key_action(
    request: Request,
    db: Session,
    settings: Settings,
    user: User,
    app_id: int,
    csrf_token: str,
    action: Callable[[User], KeyIssued | None],
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return refused(request, db, settings, user)
    try:
        with attempt(db):
            issued = action(user)
    except CityHubError as exc:
        try:
            return _app_page(
                request, db, settings, user, app_id, error=exc.detail, status=exc.status
            )
        except (CityHubError, Forbidden):
            return page(
                request, db, settings, user, "error.html", status=exc.status, message=exc.detail
            )
    if issued is None:
        return RedirectResponse(f"/apps/{app_id}", status_code=303)
    # Rendered, not redirected: the key is shown this once and never stored.
    return _app_page(request, db, settings, user, app_id, issued=issued, status=201)


@router.post("/apps/{app_id}/keys", response_class=HTMLResponse)
def issue_key(
    app_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    name: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Text = "",
) -> Response:
    return _key_action(
        request,
        db,
        settings,
        user,
        app_id,
        csrf_token,
        lambda who: apps.issue_key(db, who, apps.get(db, app_id, who), name.strip()),
    )


@router.post("/apps/{app_id}/keys/{key_id}/rotate", response_class=HTMLResponse)
def rotate_key(
    app_id: int,
    key_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    csrf_token: Text = "",
) -> Response:
    return _key_action(
        request,
        db,
        settings,
        user,
        app_id,
        csrf_token,
        lambda who: apps.rotate_key(db, who, apps.get(db, app_id, who), key_id, settings),
    )


@router.post("/apps/{app_id}/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_key(
    app_id: int,
    key_id: int,
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    csrf_token: Text = "",
) -> Response:
    def revoke(who: User) -> None:
        apps.revoke_key(db, who, apps.get(db, app_id, who), key_id)

    return _key_action(request, db, settings, user, app_id, csrf_token, revoke)


# -- the panel on the catalog's resource page -----------------------------------------------


@add_resource_panel
def resource_panel(
    request: Request, db: Session, resource: Resource, user: User | None
) -> tuple[str, dict[str, Any]] | None:
    """Sample rows as the viewer may see them, and the way to request access."""
    tabular = resource.status is Status.published and resource.format is ResourceFormat.table
    found = None
    if user is not None and tabular and resource.items:
        try:
            found = sample.metered(request.app, db, user, resource.code, "sample_page")
        except CityHubError:
            found = None  # the page still shows how to ask
    context = {
        "code": resource.code,
        "share_type": str(resource.share_type),
        "condition": resource.share_condition,
        "tabular": tabular,
        "sample": found,
    }
    return "gateway/resource_panel.html", context
