"""Server-rendered pages: home, login, logout. Each page's data has a JSON twin in web/api.py."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cityhub import __version__
from cityhub.core.db import transaction
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Region
from cityhub.errors import Forbidden, TooManyRequests, Unauthorized
from cityhub.security import audit, service
from cityhub.security.deps import SESSION_COOKIE, OptionalUser, client_ip
from cityhub.security.models import Role, User
from cityhub.settings import Settings
from cityhub.web import TEMPLATES_DIR
from cityhub.web.api import API_DOCS, GUIDELINE, build_overview
from cityhub.web.i18n import LANG_COOKIE, Lang, pick_language, t

router = APIRouter(include_in_schema=False)

CSRF_COOKIE = "cityhub_csrf"
CSRF_FIELD = "csrf_token"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_YEAR = 365 * 24 * 3600
# Pages load nothing from elsewhere: every asset is local, and no inline script runs.
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages carry a CSRF token and who is logged in
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


# -- CSRF: a double-submit cookie, the form's copy signed with the secret key -------------


def _csrf_sig(settings: Settings, nonce: str, session_token: str) -> str:
    # Bound to the login session too, so a token seen before login is useless after it.
    key = settings.secret_key.get_secret_value().encode()
    bound = hashlib.sha256(session_token.encode()).hexdigest()
    return hmac.new(key, f"csrf|{nonce}|{bound}".encode(), hashlib.sha256).hexdigest()


def csrf_token(settings: Settings, nonce: str, session_token: str) -> str:
    return f"{nonce}.{_csrf_sig(settings, nonce, session_token)}"


def csrf_valid(request: Request, settings: Settings, submitted: str) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE, "")
    sent_nonce, _, sig = submitted.partition(".")
    if not _NONCE.match(nonce) or not hmac.compare_digest(sent_nonce, nonce):
        return False
    expected = _csrf_sig(settings, nonce, request.cookies.get(SESSION_COOKIE, ""))
    return hmac.compare_digest(sig, expected)


# -- rendering ----------------------------------------------------------------------------


def _lang(request: Request, settings: Settings) -> tuple[Lang, bool]:
    return pick_language(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        settings.default_language,
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _translator(lang: Lang) -> Callable[..., str]:
    def translate(key: str, **params: object) -> str:
        return t(key, lang, **params)

    return translate


def render(
    request: Request,
    settings: Settings,
    template: str,
    *,
    user: User | None,
    city: Region | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in the caller's language, with the CSRF and language cookies it needs."""
    lang, remember = _lang(request, settings)
    nonce = request.cookies.get(CSRF_COOKIE, "")
    fresh = not _NONCE.match(nonce)
    if fresh:
        nonce = secrets.token_urlsafe(24)
    session_token = request.cookies.get(SESSION_COOKIE, "")
    tr = _translator(lang)
    html = (
        _env()
        .get_template(template)
        .render(
            lang=lang,
            t=tr,
            user=user,
            roles=[tr(f"role.{r.value}") for r in sorted(user.roles)] if user else [],
            city_name=(city.name_zh if lang == "zh-CN" else city.name_en) if city else "",
            csrf_field=CSRF_FIELD,
            csrf_token=csrf_token(settings, nonce, session_token),
            path=request.url.path,
            version=__version__,
            guideline=GUIDELINE,
            api_docs=API_DOCS,
            role_count=len(Role),
            **context,
        )
    )
    response = HTMLResponse(
        html, status_code=status, headers={**_SECURITY_HEADERS, **(headers or {})}
    )
    if fresh:
        response.set_cookie(
            CSRF_COOKIE, nonce, httponly=True, samesite="lax", secure=_secure(request), path="/"
        )
    if remember:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=_YEAR, samesite="lax", secure=_secure(request), path="/"
        )
    return response


def _csrf_rejected(
    request: Request, settings: Settings, city: Region | None, user: User | None = None
) -> HTMLResponse:
    lang, _ = _lang(request, settings)
    return render(
        request,
        settings,
        "error.html",
        user=user,
        city=city,
        status=403,
        message=t("csrf.failed", lang),
    )


def _local_path(target: str) -> str:
    """Where to go after logging in: a path of this site only (never `//host` or a URL)."""
    if target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) <= 2048:
        return target
    return "/"


def login_redirect(request: Request) -> RedirectResponse:
    """Send an anonymous visitor of a page to the login form, and back here after it."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?{urlencode({'next': here})}", status_code=303)


# -- routes -------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request, db: SessionDep, settings: SettingsDep, user: OptionalUser
) -> HTMLResponse:
    data = build_overview(db, settings)
    city = db.get(Region, settings.city_code)
    return render(request, settings, "home.html", user=user, city=city, overview=data)


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    next: Annotated[str, Query(max_length=2048)] = "/",
) -> HTMLResponse:
    city = db.get(Region, settings.city_code)
    return render(
        request,
        settings,
        "login.html",
        user=user,
        city=city,
        username="",
        error="",
        next=_local_path(next),
    )


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    city = db.get(Region, settings.city_code)
    if not csrf_valid(request, settings, csrf_token):
        return _csrf_rejected(request, settings, city)
    audit.mark_recorded(request)  # `service.login` audits success and failure itself
    lang, _ = _lang(request, settings)
    try:
        _user, token = service.login(
            request.app.state.sessions,
            username.strip(),
            password,
            settings,
            client_ip(request),
            request.headers.get("user-agent", ""),
        )
    except (Unauthorized, Forbidden, TooManyRequests) as exc:
        headers = None
        if isinstance(exc, TooManyRequests):
            wait = int(exc.extra.get("retry_after", 60))
            message = t("login.throttled", lang, minutes=max(1, math.ceil(wait / 60)))
            headers = {"Retry-After": str(wait)}
        else:
            message = t("login.disabled" if isinstance(exc, Forbidden) else "login.failed", lang)
        return render(
            request,
            settings,
            "login.html",
            user=None,
            city=city,
            status=exc.status,
            headers=headers,
            username=username.strip(),
            error=message,
            next=_local_path(next),
        )
    response = RedirectResponse(_local_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    return response


@router.post("/logout")
def logout(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: OptionalUser,
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    if not csrf_valid(request, settings, csrf_token):
        return _csrf_rejected(request, settings, db.get(Region, settings.city_code), user)
    audit.mark_recorded(request)  # one auth.logout row, written here with the session end
    if token := request.cookies.get(SESSION_COOKIE):
        with transaction(request.app.state.sessions) as session:
            service.end_session(session, token)
            audit.record(
                session,
                actor=user.username if user else "anonymous",
                organization_id=user.organization_id if user else None,
                action="auth.logout",
                target=f"user:{user.username}" if user else "",
                ip=client_ip(request),
                status=303,
            )
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response
