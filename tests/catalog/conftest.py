"""Fixtures of the catalog tests: people in the right organizations, a valid resource body,
and a helper that registers and publishes a resource through the API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.directory.models import Organization, OrgKind
from cityhub.security import service
from cityhub.security.models import Role
from cityhub.settings import Settings

from .helpers import OFFICER_OF, USERNAMES, Headers

CAST: dict[str, tuple[Role, str]] = {
    "ga_officer": (Role.data_officer, "LYGA"),
    "ga_admin": (Role.dept_admin, "LYGA"),
    "ga_viewer": (Role.viewer, "LYGA"),
    "env_officer": (Role.data_officer, "LYSTHJ"),
    "sj_officer": (Role.data_officer, "LYSJ"),
    "admin": (Role.platform_admin, "LYZHYY"),
    "operator": (Role.operator, "LYZHYY"),
    "developer": (Role.developer, "LYDSJ"),
    "viewer": (Role.viewer, "LYDSJ"),
    "auditor": (Role.auditor, "LYDSJ"),
}
ORGS = {
    "LYZHYY": ("临沂新型智慧城市运营有限公司", OrgKind.operator),
    "LYGA": ("临沂市公安局", OrgKind.government),
    "LYSTHJ": ("临沂市生态环境局", OrgKind.government),
    "LYSJ": ("临沂市市场监督管理局", OrgKind.government),
    "LYDSJ": ("临沂市大数据局", OrgKind.government),
}


class People(dict[str, Headers]):
    """API-key headers of the cast, each person created on first use (key only, no
    password: hashing passwords would cost more than the tests themselves)."""

    def __init__(self, db: sessionmaker[Session]) -> None:
        super().__init__()
        self.db = db
        with transaction(db) as session:
            for code, (name, kind) in ORGS.items():
                session.add(Organization(code=code, name_zh=name, kind=kind, region_code="371300"))

    def __missing__(self, who: str) -> Headers:
        role, org_code = CAST[who]
        with transaction(self.db) as session:
            org_id = session.scalar(select(Organization.id).where(Organization.code == org_code))
            assert org_id is not None
            user = service.create_user(
                session,
                username=USERNAMES.get(who, who),
                organization_id=org_id,
                roles={role},
            )
            _, raw = service.create_api_key(session, user, "test")
        self[who] = {"Authorization": f"Bearer {raw}"}
        return self[who]


@pytest.fixture
def people(db: sessionmaker[Session]) -> People:
    """The cast: people["ga_officer"], people["admin"], ... (see CAST)."""
    return People(db)


@pytest.fixture
def publish(client: TestClient, people: dict[str, Headers]) -> Callable[..., dict[str, Any]]:
    """Register a resource as its provider's officer and carry it to `status`."""

    def make(data: dict[str, Any], status: str = "published") -> dict[str, Any]:
        provider = data["code"].split("-")[1]
        officer = people[OFFICER_OF[provider]]
        answer = client.post("/api/v1/resources", json=data, headers=officer)
        assert answer.status_code == 201, answer.text
        code = data["code"]
        if status in ("in_review", "published", "withdrawn"):
            ok = client.post(f"/api/v1/resources/{code}/submit", headers=officer)
            assert ok.status_code == 200, ok.text
        if status in ("published", "withdrawn"):
            ok = client.post(
                f"/api/v1/resources/{code}/approve",
                json={"comment": "同意发布"},
                headers=people["admin"],
            )
            assert ok.status_code == 200, ok.text
        if status == "withdrawn":
            ok = client.post(
                f"/api/v1/resources/{code}/withdraw",
                json={"comment": "数据迁移"},
                headers=officer,
            )
            assert ok.status_code == 200, ok.text
        result: dict[str, Any] = client.get(f"/api/v1/resources/{code}", headers=officer).json()
        return result

    return make


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn in a thread, on a loopback port the OS picked."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()
