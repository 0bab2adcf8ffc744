"""The audit log: every call recorded once, readable by auditors only, unalterable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.security import audit
from cityhub.security.models import AuditEvent, Role
from cityhub.settings import Settings

from .helpers import PASSWORD, problem

Auth = Callable[..., dict[str, str]]
Login = Callable[..., httpx.Response]
Events = Callable[..., list[AuditEvent]]
AUDIT = "/api/v1/audit"


def _prefix(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer chk_").split("_")[0]


def test_a_data_read_is_recorded_with_who_what_when_where_and_outcome(
    client: TestClient, auth: Auth, events: Events
) -> None:
    headers = auth(Role.developer, username="dev")
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = client.get("/api/v1/organizations", params={"kind": "government"}, headers=headers)
    assert response.status_code == 200
    [row] = events(action="GET /api/v1/organizations")
    assert row.actor == "dev" and row.organization_id is not None
    assert row.target == "/api/v1/organizations?kind=government"
    assert (row.outcome, row.status, row.ip) == ("success", 200, "testclient")
    assert row.request_id == response.headers["x-request-id"]
    assert before <= row.at.replace(tzinfo=row.at.tzinfo or UTC) <= datetime.now(UTC)
    assert f'"credential": "api_key:{_prefix(headers)}"' in row.detail


def test_a_write_is_recorded_with_what_changed(
    client: TestClient, auth: Auth, events: Events
) -> None:
    admin = auth(Role.platform_admin, username="root")
    auth(Role.viewer, username="vic")
    response = client.patch("/api/v1/users/vic", json={"roles": ["developer"]}, headers=admin)
    assert response.status_code == 200
    [row] = events(action="PATCH /api/v1/users/vic")
    assert (row.actor, row.outcome, row.status) == ("root", "success", 200)
    assert '"roles_granted": ["developer"]' in row.detail
    assert '"roles_removed": ["viewer"]' in row.detail


def test_a_session_user_is_recorded_too(
    client: TestClient, auth: Auth, login: Login, events: Events
) -> None:
    auth(Role.viewer, username="vic")
    login("vic")
    client.get("/api/v1/auth/me")
    [row] = events(action="GET /api/v1/auth/me")
    assert row.actor == "vic" and '"credential": "session"' in row.detail


def test_a_failed_write_is_recorded_against_its_author(
    client: TestClient, auth: Auth, events: Events
) -> None:
    # The request's transaction is rolled back, expiring the user: the row must still say who.
    admin = auth(Role.platform_admin, username="root")
    body = {"username": "root", "organization": "LYDSJ", "roles": ["viewer"]}
    problem(client.post("/api/v1/users", json=body, headers=admin), 409, "already exists")
    [row] = events(action="POST /api/v1/users")
    assert (row.actor, row.outcome, row.status) == ("root", "failed", 409)
    assert "user 'root' already exists" in row.detail


def test_refusals_are_recorded_with_their_reason(
    client: TestClient, auth: Auth, events: Events
) -> None:
    viewer = auth(Role.viewer, username="vic")
    client.get(AUDIT, headers=viewer)
    client.get("/api/v1/auth/me", headers={"Authorization": "Bearer chk_dead_beef"})
    client.post("/api/v1/apikeys", content=b"{oops", headers=viewer)
    denied, unknown, malformed = events()
    assert (denied.actor, denied.outcome, denied.status) == ("vic", "denied", 403)
    assert "only security auditors" in denied.detail
    assert (unknown.actor, unknown.outcome, unknown.status) == ("anonymous", "denied", 401)
    assert "unknown API key" in unknown.detail
    assert (malformed.outcome, malformed.status) == ("failed", 422)


def test_each_login_is_recorded_once(
    auth: Auth, login: Login, events: Events, client: TestClient
) -> None:
    auth(Role.viewer, username="vic")
    failed = login("vic", "wrong-password-1")
    ok = login("vic")
    rows = events()
    assert [(r.action, r.actor, r.outcome, r.status) for r in rows] == [
        ("auth.login", "vic", "denied", 401),
        ("auth.login", "vic", "success", 200),
    ]
    assert rows[0].request_id == failed.headers["x-request-id"]
    assert rows[1].request_id == ok.headers["x-request-id"]
    assert "wrong username or password" in rows[0].detail and PASSWORD not in rows[0].detail
    assert rows[0].ip == rows[1].ip == "testclient"
    # A login body that cannot be read never reached the login: the middleware records it.
    client.post("/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"})
    assert events(action="POST /api/v1/auth/login")[0].status == 422


@pytest.mark.parametrize("role", [Role.platform_admin, Role.operator, Role.dept_admin])
def test_only_auditors_read_the_log(client: TestClient, auth: Auth, role: Role) -> None:
    problem(
        client.get(AUDIT, headers=auth(role)),
        403,
        "only security auditors (role auditor) may read the audit log",
    )
    problem(client.get(AUDIT), 401, "log in")


def test_auditor_reads_newest_first_with_filters_and_cursor(
    client: TestClient, auth: Auth, login: Login
) -> None:
    auditor = auth(Role.auditor, username="audra")
    dev = auth(Role.developer, username="dev")
    for _ in range(3):
        client.get("/api/v1/organizations", headers=dev)
    client.get(AUDIT, headers=dev)  # denied
    login("dev", "wrong-password-1")

    page = client.get(AUDIT, params={"limit": 2}, headers=auditor).json()
    assert [e["action"] for e in page["items"]] == ["auth.login", "GET /api/v1/audit"]
    assert page["items"][0]["id"] > page["items"][1]["id"]
    assert page["items"][1]["detail"]["reason"].startswith("only security auditors")
    rest = client.get(AUDIT, params={"cursor": page["next"]}, headers=auditor).json()
    assert len(rest["items"]) == 3 and rest["next"] is None

    def actions(**params: str) -> list[str]:
        response = client.get(AUDIT, params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return [e["action"] for e in response.json()["items"]]

    assert actions(actor="dev", outcome="denied") == ["auth.login", "GET /api/v1/audit"]
    assert actions(action="GET /api/v1/org") == ["GET /api/v1/organizations"] * 3
    assert actions(action="auth.") == ["auth.login"]
    assert actions(action="GET_") == []  # a prefix, not a LIKE pattern
    assert actions(outcome="error") == []
    # The auditor's own reads are recorded as well.
    assert actions(actor="audra")[:2] == ["GET /api/v1/audit"] * 2


def test_time_filters_honour_time_zones(client: TestClient, auth: Auth) -> None:
    auditor = auth(Role.auditor)
    client.get("/api/v1/organizations", headers=auditor)
    beijing = timezone(timedelta(hours=8))
    now = datetime.now(beijing)
    hour = timedelta(hours=1)

    def count(**params: str) -> int:
        response = client.get(AUDIT, params=params, headers=auditor)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert count(**{"from": (now - hour).isoformat(), "to": (now + hour).isoformat()}) >= 1
    assert count(**{"from": (now + hour).isoformat()}) == 0
    assert count(**{"to": (now - hour).isoformat()}) == 0
    naive_utc = datetime.now(UTC).replace(tzinfo=None)
    assert count(**{"from": (naive_utc - hour).isoformat()}) >= 1
    problem(client.get(AUDIT, params={"from": "yesterday"}, headers=auditor), 422, "from")
    problem(client.get(AUDIT, params={"outcome": "maybe"}, headers=auditor), 422, "outcome")


def test_rows_cannot_be_updated_or_deleted_in_the_database(
    db: sessionmaker[Session], events: Events
) -> None:
    with transaction(db) as session:
        audit.record(session, actor="someone", action="test.write")
    statements = [
        update(AuditEvent).values(actor="nobody"),
        update(AuditEvent).values(outcome="success").where(AuditEvent.actor == "someone"),
        delete(AuditEvent),
        text("DELETE FROM audit_events WHERE actor = 'someone'"),
    ]
    for statement in statements:
        with pytest.raises(DBAPIError, match="append-only"), transaction(db) as session:
            session.execute(statement)
    [row] = events()
    assert row.actor == "someone"


def test_orm_changes_to_a_row_are_refused_too(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        audit.record(session, actor="someone", action="test.write")
    with pytest.raises(DBAPIError, match="append-only"), transaction(db) as session:
        row = session.query(AuditEvent).one()
        row.detail = '{"forged": true}'
    with pytest.raises(DBAPIError, match="append-only"), transaction(db) as session:
        session.delete(session.query(AuditEvent).one())


def test_reads_are_recorded_in_batches_and_changes_at_once(
    settings: Settings, auth: Auth, events: Events
) -> None:
    settings.audit_flush_seconds = 60  # no batch falls due during the test
    with TestClient(create_app(settings)) as batching:
        headers = auth(Role.platform_admin, username="root")
        assert batching.get("/api/v1/organizations", headers=headers).status_code == 200
        assert batching.get("/api/v1/organizations/0", headers=headers).status_code == 404
        assert events(action="GET /api/v1/organizations") == []  # still in the batch
        assert audit.writer_of(batching.app).pending() == 2
        created = batching.post(
            "/api/v1/organizations",
            json={"code": "LYBATCH", "name_zh": "批次局", "kind": "government"},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        [write] = events(action="POST /api/v1/organizations")  # a change: at once
        assert write.status == 201
    # The server's shutdown wrote the pending batch, refusals included.
    [read] = events(action="GET /api/v1/organizations")
    [missing] = events(action="GET /api/v1/organizations/0")
    assert (read.actor, read.status, missing.status, missing.outcome) == (
        "root",
        200,
        404,
        "failed",
    )
    assert "no organization" in missing.detail or "reason" in missing.detail
