"""API keys: shown once, stored hashed, revocable, and every refusal says why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.security import service
from cityhub.security.models import ApiKey, Role, User

from .helpers import problem

Auth = Callable[..., dict[str, str]]
ME = "/api/v1/auth/me"


def _create(client: TestClient, headers: dict[str, str], name: str = "etl") -> dict[str, str]:
    response = client.post("/api/v1/apikeys", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


def test_a_new_key_is_shown_once_and_stored_hashed(
    client: TestClient, auth: Auth, db: sessionmaker[Session]
) -> None:
    headers = auth(Role.developer, username="dev")
    created = _create(client, headers, "nightly sync")
    raw = created["key"]
    assert raw.startswith(f"chk_{created['prefix']}_")
    assert (created["name"], created["user"], created["status"]) == (
        "nightly sync",
        "dev",
        "active",
    )
    # The new key works on its own.
    assert client.get(ME, headers={"Authorization": f"Bearer {raw}"}).json()["username"] == "dev"
    # Lists never show it again, and the database holds only its digest.
    listed = client.get("/api/v1/apikeys", headers=headers).json()["items"]
    assert [k["name"] for k in listed] == ["test", "nightly sync"]
    assert all("key" not in k for k in listed)
    with db() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert service.sha256_hex(raw) in stored
    assert not any(raw in value or created["key"][4:] in value for value in stored)


def test_list_is_paginated_and_own_keys_only(client: TestClient, auth: Auth) -> None:
    mine = auth(Role.developer, username="dev")
    auth(Role.developer, username="other")
    for i in range(3):
        _create(client, mine, f"k{i}")
    first = client.get("/api/v1/apikeys", params={"limit": 2}, headers=mine).json()
    second = client.get(
        "/api/v1/apikeys", params={"limit": 2, "cursor": first["next"]}, headers=mine
    ).json()
    names = [k["name"] for k in first["items"] + second["items"]]
    assert names == ["test", "k0", "k1", "k2"] and second["next"] is None
    assert {k["user"] for k in first["items"]} == {"dev"}


def test_only_a_platform_admin_lists_another_users_keys(client: TestClient, auth: Auth) -> None:
    dev = auth(Role.developer, username="dev")
    admin = auth(Role.platform_admin, username="root")
    problem(
        client.get("/api/v1/apikeys", params={"user": "root"}, headers=dev),
        403,
        "only a platform admin may list another user's API keys",
    )
    listed = client.get("/api/v1/apikeys", params={"user": "dev"}, headers=admin).json()
    assert [k["user"] for k in listed["items"]] == ["dev"]


def test_revoked_key_is_refused(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.developer, username="dev")
    created = _create(client, headers)
    bearer = {"Authorization": f"Bearer {created['key']}"}
    revoked = client.delete(f"/api/v1/apikeys/{created['id']}", headers=headers)
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    problem(client.get(ME, headers=bearer), 401, "the API key was revoked")
    # Revoking twice is harmless.
    assert client.delete(f"/api/v1/apikeys/{created['id']}", headers=headers).status_code == 200


def test_only_the_owner_or_a_platform_admin_revokes(client: TestClient, auth: Auth) -> None:
    owner = auth(Role.developer, username="dev")
    intruder = auth(Role.dept_admin, username="boss")
    admin = auth(Role.platform_admin, username="root")
    key_id = _create(client, owner)["id"]
    problem(
        client.delete(f"/api/v1/apikeys/{key_id}", headers=intruder),
        403,
        f"API key {key_id} belongs to another user; only a platform admin may revoke it",
    )
    response = client.delete(f"/api/v1/apikeys/{key_id}", headers=admin)
    assert response.status_code == 200 and response.json()["user"] == "dev"
    problem(client.delete("/api/v1/apikeys/999", headers=admin), 404, "no API key with id 999")


def test_expired_key_is_refused(client: TestClient, auth: Auth, db: sessionmaker[Session]) -> None:
    headers = auth(Role.developer, username="dev")
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = client.post(
        "/api/v1/apikeys", json={"name": "short", "expires_at": soon}, headers=headers
    ).json()
    bearer = {"Authorization": f"Bearer {created['key']}"}
    assert client.get(ME, headers=bearer).status_code == 200
    with transaction(db) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == created["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    problem(client.get(ME, headers=bearer), 401, "the API key has expired")
    listed = client.get("/api/v1/apikeys", headers=headers).json()["items"]
    assert [k["status"] for k in listed] == ["active", "expired"]


def test_expiry_must_be_in_the_future_and_carry_a_time_zone(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.developer)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    problem(
        client.post("/api/v1/apikeys", json={"expires_at": past}, headers=headers),
        422,
        "expires_at must be in the future",
    )
    problem(
        client.post("/api/v1/apikeys", json={"expires_at": "2030-01-01T00:00:00"}, headers=headers),
        422,
        "expires_at: Input should have timezone info",
    )


def test_key_of_a_disabled_user_is_refused(
    client: TestClient, auth: Auth, db: sessionmaker[Session]
) -> None:
    headers = auth(Role.developer, username="dev")
    with transaction(db) as session:
        session.execute(update(User).where(User.username == "dev").values(is_active=False))
    problem(client.get(ME, headers=headers), 401, "the API key's user is disabled")


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Basic ZGV2OnB3", "malformed Authorization header; use `Authorization: Bearer"),
        ("Bearer", "malformed Authorization header"),
        ("Bearer    ", "malformed Authorization header"),
        ("Bearer not-a-key", "the API key is malformed (expected chk_<prefix>_<secret>)"),
        ("Bearer chk_nounderscore", "the API key is malformed"),
        ("Bearer chk_deadbeef_" + "x" * 43, "unknown API key"),
    ],
)
def test_bad_credentials_are_refused_precisely(
    client: TestClient, auth: Auth, header: str, detail: str
) -> None:
    auth(Role.developer)
    problem(client.get(ME, headers={"Authorization": header}), 401, detail)


def test_a_right_prefix_with_a_wrong_secret_is_unknown(client: TestClient, auth: Auth) -> None:
    headers = auth(Role.developer)
    raw = headers["Authorization"].removeprefix("Bearer ")
    forged = raw[: raw.rindex("_") + 1] + "A" * 43
    problem(client.get(ME, headers={"Authorization": f"Bearer {forged}"}), 401, "unknown API key")


def test_a_bad_key_is_an_error_even_where_anonymous_is_allowed(client: TestClient) -> None:
    # The logout route accepts anonymous callers, yet a wrong key is never taken as anonymous.
    response = client.post("/api/v1/auth/logout", headers={"Authorization": "Bearer chk_x_y"})
    problem(response, 401, "unknown API key")
