"""Dependencies of the pages: `PageUser` sends an anonymous visitor to the login form."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response

from cityhub.security.deps import OptionalUser
from cityhub.security.models import User
from cityhub.web.pages import login_redirect


class LoginRequired(Exception):
    """An anonymous visitor asked for a page that needs a login (never an API error: the
    JSON API answers 401 problem+json through `CurrentUser` instead)."""


def page_user(user: OptionalUser) -> User:
    if user is None:
        raise LoginRequired
    return user


PageUser = Annotated[User, Depends(page_user)]


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, _: LoginRequired) -> Response:
        return login_redirect(request)
