"""Who is calling: a Bearer API key (machines) or a session cookie (people)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from cityhub.core.deps import SessionDep
from cityhub.errors import Forbidden, Unauthorized
from cityhub.security import audit, service
from cityhub.security.models import Role, User

SESSION_COOKIE = "cityhub_session"
_STALE_SESSION = "stale_session"


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def optional_user(request: Request, db: SessionDep) -> User | None:
    """The caller, or None when anonymous; a bad API key is an error, never anonymous.

    A stale session cookie is not an error here (browsers keep cookies after logout, and
    public pages must still answer), but `current_user` then says why it refuses.
    """
    header = request.headers.get("authorization", "")
    user: User | None = None
    credential = ""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized(
                "malformed Authorization header; use `Authorization: Bearer <api key>`"
            )
        user, key = service.user_and_key_for_api_key(db, value.strip())
        credential = f"api_key:{key.prefix}"
    elif token := request.cookies.get(SESSION_COOKIE):
        user = service.user_for_session(db, token)
        credential = "session"
        if user is None:
            setattr(request.state, _STALE_SESSION, True)
    if user is not None:
        request.state.user = user
        audit.set_actor(request, audit.AuditActor(user.username, user.organization_id, credential))
    return user


def signed_in(request: Request, user: User | None) -> User:
    """`user`, or the reason there is none."""
    if user is None:
        if getattr(request.state, _STALE_SESSION, False):
            raise Unauthorized("your session has expired or was ended; log in again")
        raise Unauthorized("log in or send `Authorization: Bearer <api key>`")
    return user


async def current_user(
    request: Request, user: Annotated[User | None, Depends(optional_user)]
) -> User:
    """Async, as other trivial dependencies: a sync one costs each request a thread hop."""
    return signed_in(request, user)


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency admitting only users holding one of `roles`."""
    wanted = set(roles)

    async def check(user: CurrentUser) -> User:
        if not user.roles & wanted:
            names = ", ".join(sorted(r.value for r in wanted))
            raise Forbidden(f"this needs one of the roles: {names}")
        return user

    return check
