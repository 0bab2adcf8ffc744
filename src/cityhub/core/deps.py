"""FastAPI dependency aliases shared by every router."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from cityhub.core.events import attach
from cityhub.settings import Settings


async def get_settings(request: Request) -> Settings:
    """Async, as other trivial dependencies: a sync one costs each request a thread hop."""
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    """One session per request, committed when the handler returns, rolled back on error.

    Its events reach the in-process bus once the commit succeeded.
    """
    factory = request.app.state.sessions
    with factory() as session, session.begin():
        attach(session, request.app.state.bus)
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the answer leaves, so a failed commit is never a 2xx.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
