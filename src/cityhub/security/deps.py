"""Who is calling: a Bearer API key (machines) or a session cookie (people)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from cityhub.core.deps import SessionDep
from cityhub.errors import Forbidden, Unauthorized
from cityhub.security import service
from cityhub.security.models import Role, User

SESSION_COOKIE = "cityhub_session"


def optional_user(request: Request, db: SessionDep) -> User | None:
    """The caller, or None when anonymous; a bad credential is an error, never anonymous."""
    header = request.headers.get("authorization", "")
    user: User | None = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use `Authorization: Bearer <api key>`")
        user = service.user_for_api_key(db, value.strip())
    elif token := request.cookies.get(SESSION_COOKIE):
        user = service.user_for_session(db, token)
    if user is not None:
        # Plain values, not the ORM object: the audit trail is written after the session closed.
        request.state.actor = (user.username, user.organization_id)
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthorized("log in or send `Authorization: Bearer <api key>`")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], User]:
    """A dependency admitting only users holding one of `roles`."""
    wanted = set(roles)

    def check(user: CurrentUser) -> User:
        if not user.roles & wanted:
            names = ", ".join(sorted(r.value for r in wanted))
            raise Forbidden(f"this needs one of the roles: {names}")
        return user

    return check
