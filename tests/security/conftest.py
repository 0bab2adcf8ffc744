"""Fixtures of the security tests: reading the audit trail, logging in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.security.models import AuditEvent

from .helpers import LOGIN, PASSWORD


@pytest.fixture
def events(db: sessionmaker[Session]) -> Callable[..., list[AuditEvent]]:
    """Audit rows matching column values, oldest first: events(actor="alice")."""

    def rows(**where: Any) -> list[AuditEvent]:
        with db() as session:
            stmt = select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)
            return list(session.scalars(stmt))

    return rows


@pytest.fixture
def login(client: TestClient) -> Callable[..., httpx.Response]:
    """POST the login form as JSON; the client keeps the cookie it gets."""

    def post(username: str, password: str = PASSWORD) -> httpx.Response:
        return client.post(LOGIN, json={"username": username, "password": password})

    return post
