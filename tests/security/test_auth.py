"""Web login: the session cookie, wrong passwords, throttling, logout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.security.deps import SESSION_COOKIE
from cityhub.security.models import LoginFailure, Role, User, WebSession
from cityhub.settings import Settings

from .helpers import LOGIN, PASSWORD, problem

Login = Callable[..., httpx.Response]
Auth = Callable[..., dict[str, str]]


def test_login_sets_a_safe_session_cookie(client: TestClient, auth: Auth, login: Login) -> None:
    auth(Role.developer, Role.viewer, username="alice")
    response = login("alice")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["username"] == "alice"
    assert body["organization"] == "LYDSJ"
    assert body["roles"] == ["developer", "viewer"]
    assert body["last_login_at"] is not None
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Max-Age=43200" in cookie  # session_hours = 12
    me = client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice" and me.json()["organization"] == "LYDSJ"


def test_the_session_token_is_stored_only_as_a_digest(
    auth: Auth, login: Login, db: sessionmaker[Session]
) -> None:
    auth(Role.viewer, username="alice")
    token = login("alice").cookies[SESSION_COOKIE]
    with db() as session:
        stored = [row.token_hash for row in session.query(WebSession)]
    assert len(stored) == 1 and token not in stored[0] and len(stored[0]) == 64


def test_wrong_password_and_unknown_user_say_the_same(auth: Auth, login: Login) -> None:
    auth(Role.viewer, username="alice")
    problem(login("alice", "not-the-password1"), 401, "wrong username or password")
    problem(login("nobody", PASSWORD), 401, "wrong username or password")


def test_disabled_account_is_told_only_with_the_right_password(
    auth: Auth, login: Login, db: sessionmaker[Session]
) -> None:
    auth(Role.viewer, username="alice")
    with transaction(db) as session:
        session.execute(update(User).where(User.username == "alice").values(is_active=False))
    problem(login("alice"), 403, "this account is disabled")
    problem(login("alice", "wrong-password1"), 401, "wrong username or password")


def test_login_throttled_after_repeated_failures(
    auth: Auth, login: Login, settings: Settings, db: sessionmaker[Session]
) -> None:
    auth(Role.viewer, username="alice")
    for _ in range(settings.login_max_failures):
        problem(login("alice", "guess-number-1"), 401, "wrong username or password")
    throttled = login("alice")  # even the right password is refused now
    body = problem(throttled, 429, "too many failed logins for this account or address")
    assert "try again in 15 minutes" in body["detail"]
    wait = int(throttled.headers["retry-after"])
    assert 0 < wait <= settings.login_lockout_minutes * 60
    assert body["retry_after"] == wait

    # Once the failures are older than the lockout window, the account opens again.
    with transaction(db) as session:
        session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    assert login("alice").status_code == 200


def test_throttle_counts_the_address_too(auth: Auth, login: Login, settings: Settings) -> None:
    auth(Role.viewer, username="alice")
    for i in range(settings.login_max_failures):
        login(f"someone{i}", "guess-number-1")  # spraying many names from one address
    problem(login("alice"), 429, "too many failed logins")


def test_a_successful_login_forgets_earlier_typos(
    auth: Auth, login: Login, settings: Settings
) -> None:
    auth(Role.viewer, username="alice")
    for _ in range(settings.login_max_failures - 1):
        login("alice", "typo-password-1")
    assert login("alice").status_code == 200
    for _ in range(settings.login_max_failures - 1):
        login("alice", "typo-password-1")
    assert login("alice").status_code == 200


def test_logout_invalidates_the_cookie(client: TestClient, auth: Auth, login: Login) -> None:
    auth(Role.viewer, username="alice")
    token = login("alice").cookies[SESSION_COOKIE]
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    # Replaying the old token does not work: the session is gone on the server.
    client.cookies.set(SESSION_COOKIE, token)
    problem(client.get("/api/v1/auth/me"), 401, "your session has expired or was ended")


def test_expired_session_is_refused(
    client: TestClient, auth: Auth, login: Login, db: sessionmaker[Session]
) -> None:
    auth(Role.viewer, username="alice")
    login("alice")
    with transaction(db) as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    problem(client.get("/api/v1/auth/me"), 401, "your session has expired or was ended")


def test_logout_without_a_session_is_harmless(client: TestClient) -> None:
    assert client.post("/api/v1/auth/logout").status_code == 204


def test_anonymous_caller_is_told_how_to_authenticate(client: TestClient) -> None:
    problem(client.get("/api/v1/auth/me"), 401, "log in or send `Authorization: Bearer")


def test_me_with_an_api_key(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.auditor, org_code="LYGA", username="audra")
    body = client.get("/api/v1/auth/me", headers=headers).json()
    assert (body["username"], body["organization"], body["roles"]) == ("audra", "LYGA", ["auditor"])


def test_malformed_json_body_is_a_problem_not_a_traceback(client: TestClient) -> None:
    response = client.post(
        LOGIN, content=b'{"username": "alice", ', headers={"content-type": "application/json"}
    )
    problem(response, 422, "JSON")


def test_missing_field_names_the_field(client: TestClient) -> None:
    problem(client.post(LOGIN, json={"username": "alice"}), 422, "password: Field required")
