"""Routes of identity: login, users, API keys, audit log (mounted under /api/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, page_of
from cityhub.errors import BadRequest, CityHubError, Forbidden
from cityhub.security import accounts, audit, service
from cityhub.security.deps import SESSION_COOKIE, CurrentUser, OptionalUser, client_ip
from cityhub.security.models import Role, User
from cityhub.security.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    AuditEventPublic,
    LoginRequest,
    Outcome,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter()
auth = APIRouter(prefix="/auth", tags=["auth"])
users = APIRouter(prefix="/users", tags=["users"])
apikeys = APIRouter(prefix="/apikeys", tags=["apikeys"])
audit_log = APIRouter(prefix="/audit", tags=["audit"])


def _auditor(user: CurrentUser) -> User:
    if Role.auditor not in user.roles:  # not even a platform admin: separate duties
        raise Forbidden("only security auditors (role auditor) may read the audit log")
    return user


Auditor = Annotated[User, Depends(_auditor)]


def _int_cursor(cursor: str | None) -> int | None:
    after = decode_cursor(cursor)
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], int):
        raise BadRequest("cursor is not one this server issued")
    return after[0]


# -- login and logout ---------------------------------------------------------


@auth.post("/login", response_model=UserPublic, summary="Log in: sets the session cookie")
def login(
    data: LoginRequest, request: Request, response: Response, settings: SettingsDep
) -> UserPublic:
    try:
        user, token = service.login(
            request.app.state.sessions,
            data.username,
            data.password,
            settings,
            ip=client_ip(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except CityHubError:
        audit.mark_recorded(request)  # service.login wrote the denied auth.login row
        raise
    audit.mark_recorded(request)  # ...and the successful one: one row per attempt
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return UserPublic.of(user)


@auth.post("/logout", status_code=204, summary="Log out: ends the session")
def logout(request: Request, db: SessionDep, _user: OptionalUser) -> Response:
    if token := request.cookies.get(SESSION_COOKIE):
        service.end_session(db, token)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


@auth.get("/me", response_model=UserPublic, summary="Who am I: user, organization, roles")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.of(user)


# -- users --------------------------------------------------------------------


@users.get("", response_model=Page[UserPublic], summary="List users")
def list_users(
    db: SessionDep,
    user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    organization: Annotated[str | None, Query(description="Organization code")] = None,
    role: Role | None = None,
) -> Page[UserPublic]:
    after = decode_cursor(cursor)
    rows = accounts.list_users(
        db,
        user,
        limit=limit + 1,
        after=str(after[0]) if after else None,
        organization=organization,
        role=role,
    )
    return page_of(rows, limit, UserPublic.of, lambda u: [u.username])


@users.post("", response_model=UserPublic, status_code=201, summary="Create a user")
def create_user(
    data: UserCreate, request: Request, db: SessionDep, user: CurrentUser
) -> UserPublic:
    created = accounts.admin_create_user(db, user, data)
    audit.annotate(request, roles=sorted(created.roles), organization=data.organization)
    return UserPublic.of(created)


@users.get("/{username}", response_model=UserPublic, summary="One user")
def get_user(username: str, db: SessionDep, user: CurrentUser) -> UserPublic:
    return UserPublic.of(accounts.visible_user(db, user, username))


@users.patch("/{username}", response_model=UserPublic, summary="Change roles, state, password")
def update_user(
    username: str, data: UserUpdate, request: Request, db: SessionDep, user: CurrentUser
) -> UserPublic:
    target = service.get_user(db, username)
    changes = accounts.update_user(
        db, user, target, data, current_token=request.cookies.get(SESSION_COOKIE)
    )
    audit.annotate(request, **changes)
    return UserPublic.of(target)


# -- API keys -----------------------------------------------------------------


@apikeys.get("", response_model=Page[ApiKeyPublic], summary="List your API keys")
def list_keys(
    db: SessionDep,
    user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    of: Annotated[
        str | None, Query(alias="user", description="Another user's keys (platform admin)")
    ] = None,
) -> Page[ApiKeyPublic]:
    owner = user
    if of is not None and of != user.username:
        if Role.platform_admin not in user.roles:
            raise Forbidden("only a platform admin may list another user's API keys")
        owner = service.get_user(db, of)
    rows = service.list_api_keys(db, owner, limit=limit + 1, after_id=_int_cursor(cursor))
    return page_of(rows, limit, lambda k: ApiKeyPublic.of(k, owner.username), lambda k: [k.id])


@apikeys.post(
    "",
    response_model=ApiKeyCreated,
    status_code=201,
    summary="Create an API key (the key is shown in this answer only)",
)
def create_key(
    data: ApiKeyCreate, request: Request, db: SessionDep, user: CurrentUser
) -> ApiKeyCreated:
    key, raw = service.create_api_key(db, user, data.name, data.expires_at)
    audit.annotate(request, key_id=key.id, prefix=key.prefix, name=key.name)
    return ApiKeyCreated.with_secret(key, user.username, raw)


@apikeys.delete("/{key_id}", response_model=ApiKeyPublic, summary="Revoke an API key")
def revoke_key(key_id: int, request: Request, db: SessionDep, user: CurrentUser) -> ApiKeyPublic:
    key = service.revoke_api_key(db, key_id, by=user)
    owner = user if key.user_id == user.id else db.get(User, key.user_id)
    audit.annotate(request, key_id=key.id, prefix=key.prefix)
    return ApiKeyPublic.of(key, owner.username if owner else "")


# -- audit log ----------------------------------------------------------------


@audit_log.get("", response_model=Page[AuditEventPublic], summary="Audit log (auditors only)")
def list_audit_events(
    db: SessionDep,
    _auditor: Auditor,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    actor: Annotated[str | None, Query(max_length=64, description="Username")] = None,
    action: Annotated[
        str | None, Query(max_length=128, description='Prefix, e.g. "auth." or "POST "')
    ] = None,
    outcome: Outcome | None = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="At or after (ISO 8601; UTC if naive)")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="Before (ISO 8601; UTC if naive)")
    ] = None,
) -> Page[AuditEventPublic]:
    rows = audit.list_events(
        db,
        limit=limit + 1,
        before_id=_int_cursor(cursor),
        actor=actor,
        action=action,
        outcome=outcome,
        since=since,
        until=until,
    )
    return page_of(rows, limit, AuditEventPublic.of, lambda e: [e.id])


router.include_router(auth)
router.include_router(users)
router.include_router(apikeys)
router.include_router(audit_log)
