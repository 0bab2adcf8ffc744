"""Users: who may see, create and change whom, and the separation of duties."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from cityhub.security.models import Role

from .helpers import PASSWORD, problem

Auth = Callable[..., dict[str, str]]
Login = Callable[..., httpx.Response]
USERS = "/api/v1/users"


def _new(username: str, *roles: str, org: str = "LYDSJ", **extra: Any) -> dict[str, Any]:
    return {
        "username": username,
        "organization": org,
        "roles": list(roles),
        "password": "Secret12345",
        **extra,
    }


def test_platform_admin_creates_a_user_who_can_log_in(
    client: TestClient, auth: Auth, login: Login
) -> None:
    admin = auth(Role.platform_admin)
    auth(Role.viewer, org_code="LYGA")  # makes the organization
    response = client.post(
        USERS,
        json=_new("zhang.wei", "data_officer", org="LYGA", display_name="张伟"),
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organization"] == "LYGA" and body["roles"] == ["data_officer"]
    assert body["display_name"] == "张伟" and body["is_active"] is True
    assert client.get(f"{USERS}/zhang.wei", headers=admin).json() == body
    assert login("zhang.wei", "Secret12345").status_code == 200


def test_an_account_without_password_cannot_log_in(
    client: TestClient, auth: Auth, login: Login
) -> None:
    admin = auth(Role.platform_admin)
    body = _new("etl-bot", "developer")
    del body["password"]
    assert client.post(USERS, json=body, headers=admin).status_code == 201
    problem(login("etl-bot", ""), 422, "password")
    problem(login("etl-bot", "anything-at-all1"), 401, "wrong username or password")


@pytest.mark.parametrize(
    ("password", "detail"),
    [
        ("Short1", "password: the password must have at least 10 characters"),
        ("onlyletters", "password: the password must contain both letters and digits"),
        ("1234567890", "password: the password must contain both letters and digits"),
    ],
)
def test_password_policy(client: TestClient, auth: Auth, password: str, detail: str) -> None:
    admin = auth(Role.platform_admin)
    problem(
        client.post(USERS, json=_new("u01", "viewer", password=password), headers=admin),
        422,
        detail,
    )


def test_bad_new_users_are_refused_precisely(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin, username="root")
    problem(
        client.post(USERS, json=_new("root", "viewer"), headers=admin),
        409,
        "user 'root' already exists",
    )
    problem(
        client.post(USERS, json=_new("u01", "viewer", org="NOPE"), headers=admin),
        404,
        "no organization with code 'NOPE'",
    )
    problem(
        client.post(USERS, json=_new("u01", "wizard"), headers=admin),
        422,
        "roles.0: Input should be",
    )
    problem(
        client.post(USERS, json=_new("u01"), headers=admin),
        422,
        "roles: List should have at least 1",
    )
    problem(
        client.post(USERS, json=_new("a b", "viewer"), headers=admin),
        422,
        "username: a username has 2-64 characters",
    )


def test_dept_admin_creates_only_plain_roles_in_their_own_organization(
    client: TestClient, auth: Auth
) -> None:
    boss = auth(Role.dept_admin, org_code="LYGA")
    auth(Role.viewer, org_code="LYDSJ")
    assert (
        client.post(
            USERS, json=_new("officer", "data_officer", org="LYGA"), headers=boss
        ).status_code
        == 201
    )
    problem(
        client.post(USERS, json=_new("x1", "viewer", org="LYDSJ"), headers=boss),
        403,
        "a department admin manages only the users of their own organization",
    )
    problem(
        client.post(USERS, json=_new("x2", "dept_admin", org="LYGA"), headers=boss),
        403,
        "a department admin may grant only data_officer, developer, viewer, not dept_admin",
    )
    problem(
        client.post(USERS, json=_new("x3", "auditor", org="LYGA"), headers=boss),
        403,
        "only a platform admin may grant the auditor role",
    )


@pytest.mark.parametrize("role", [Role.developer, Role.operator, Role.auditor, Role.viewer])
def test_other_roles_cannot_create_users(client: TestClient, auth: Auth, role: Role) -> None:
    problem(
        client.post(USERS, json=_new("xx", "viewer"), headers=auth(role)),
        403,
        "managing users needs the platform_admin or dept_admin role",
    )


@pytest.mark.parametrize("mixed", ["platform_admin", "operator"])
def test_separation_of_duties_on_create(client: TestClient, auth: Auth, mixed: str) -> None:
    admin = auth(Role.platform_admin)
    problem(
        client.post(USERS, json=_new("xx", "auditor", mixed), headers=admin),
        403,
        f"separation of duties: the auditor role cannot be held together with {mixed}",
    )
    assert client.post(USERS, json=_new("audra", "auditor"), headers=admin).status_code == 201


def test_separation_of_duties_on_update(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin)
    auth(Role.auditor, username="audra")
    auth(Role.operator, username="ops")
    problem(
        client.patch(f"{USERS}/audra", json={"roles": ["auditor", "operator"]}, headers=admin),
        403,
        "separation of duties",
    )
    problem(
        client.patch(f"{USERS}/ops", json={"roles": ["operator", "auditor"]}, headers=admin),
        403,
        "separation of duties",
    )
    # An auditor cannot promote anybody either, themself included.
    auditor = auth(Role.auditor)
    problem(
        client.patch(f"{USERS}/ops", json={"roles": ["platform_admin"]}, headers=auditor),
        403,
        "managing users needs the platform_admin or dept_admin role",
    )


def test_dept_admin_updates_plain_users_of_their_own_organization(
    client: TestClient, auth: Auth
) -> None:
    boss = auth(Role.dept_admin, org_code="LYGA", username="boss")
    viewer = auth(Role.viewer, org_code="LYGA", username="vic")
    auth(Role.dept_admin, org_code="LYGA", username="peer")
    auth(Role.viewer, org_code="LYDSJ", username="stranger")
    changed = client.patch(f"{USERS}/vic", json={"roles": ["developer"]}, headers=boss)
    assert changed.status_code == 200 and changed.json()["roles"] == ["developer"]
    problem(
        client.patch(f"{USERS}/peer", json={"is_active": False}, headers=boss),
        403,
        "the user holds dept_admin; only a platform admin may change them",
    )
    problem(
        client.patch(f"{USERS}/stranger", json={"roles": ["developer"]}, headers=boss),
        403,
        "own organization",
    )
    problem(
        client.patch(f"{USERS}/boss", json={"roles": ["dept_admin", "developer"]}, headers=boss),
        403,
        "only a platform admin may change them",
    )
    # Disabling a user stops their API keys at once.
    assert client.patch(f"{USERS}/vic", json={"is_active": False}, headers=boss).status_code == 200
    problem(client.get("/api/v1/auth/me", headers=viewer), 401, "the API key's user is disabled")


def test_admin_resets_a_password_and_ends_the_users_sessions(
    client: TestClient, auth: Auth, login: Login
) -> None:
    admin = auth(Role.platform_admin)
    auth(Role.viewer, username="vic")
    assert login("vic").status_code == 200
    reset = client.patch(f"{USERS}/vic", json={"password": "NewSecret99"}, headers=admin)
    assert reset.status_code == 200
    problem(client.get("/api/v1/auth/me"), 401, "your session has expired or was ended")
    problem(login("vic"), 401, "wrong username or password")
    assert login("vic", "NewSecret99").status_code == 200


def test_users_change_their_own_password_proving_the_old_one(
    client: TestClient, auth: Auth, login: Login
) -> None:
    auth(Role.viewer, username="vic")
    login("vic")
    problem(
        client.patch(f"{USERS}/vic", json={"password": "NewSecret99"}),
        422,
        "current_password is required to change your own password",
    )
    problem(
        client.patch(
            f"{USERS}/vic", json={"password": "NewSecret99", "current_password": "wrong-one-1"}
        ),
        403,
        "current_password is wrong",
    )
    done = client.patch(
        f"{USERS}/vic",
        json={"password": "NewSecret99", "current_password": PASSWORD, "display_name": "Vic"},
    )
    assert done.status_code == 200 and done.json()["display_name"] == "Vic"
    assert client.get("/api/v1/auth/me").status_code == 200  # this session stays
    # ...but nobody may grant themself roles.
    problem(client.patch(f"{USERS}/vic", json={"roles": ["platform_admin"]}), 403, "managing users")


def test_the_last_platform_admin_cannot_step_down(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin, username="root")
    problem(
        client.patch(f"{USERS}/root", json={"roles": ["viewer"]}, headers=admin),
        409,
        "this is the last active platform admin; appoint another one first",
    )
    problem(client.patch(f"{USERS}/root", json={"is_active": False}, headers=admin), 409, "last")
    auth(Role.platform_admin, username="root2")
    assert (
        client.patch(f"{USERS}/root", json={"roles": ["viewer"]}, headers=admin).status_code == 200
    )


def test_empty_update_is_refused(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin, username="root")
    problem(client.patch(f"{USERS}/root", json={}, headers=admin), 422, "nothing to change")
    problem(
        client.patch(f"{USERS}/ghost", json={"is_active": True}, headers=admin),
        404,
        "no user named 'ghost'",
    )


def test_list_users_with_filters_and_cursor(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin, username="root")
    for name in ("ann", "bob", "cai"):
        auth(Role.developer, org_code="LYGA", username=name)
    auth(Role.viewer, org_code="LYGA", username="dan")
    first = client.get(USERS, params={"organization": "LYGA", "limit": 2}, headers=admin).json()
    rest = client.get(
        USERS, params={"organization": "LYGA", "limit": 2, "cursor": first["next"]}, headers=admin
    ).json()
    assert [u["username"] for u in first["items"] + rest["items"]] == ["ann", "bob", "cai", "dan"]
    assert rest["next"] is None
    devs = client.get(USERS, params={"role": "developer"}, headers=admin).json()["items"]
    assert [u["username"] for u in devs] == ["ann", "bob", "cai"]
    everyone = client.get(USERS, headers=admin).json()["items"]
    assert {u["username"] for u in everyone} == {"root", "ann", "bob", "cai", "dan"}
    problem(client.get(USERS, params={"cursor": "%%%"}, headers=admin), 400, "cursor")
    problem(client.get(USERS, params={"role": "wizard"}, headers=admin), 422, "role")


def test_who_may_list_and_see_users(client: TestClient, auth: Auth) -> None:
    boss = auth(Role.dept_admin, org_code="LYGA", username="boss")
    auth(Role.viewer, org_code="LYGA", username="vic")
    dev = auth(Role.developer, org_code="LYDSJ", username="dev")
    auditor = auth(Role.auditor, org_code="LYDSJ", username="audra")
    own = client.get(USERS, headers=boss).json()["items"]
    assert [u["username"] for u in own] == ["boss", "vic"]
    problem(
        client.get(USERS, params={"organization": "LYDSJ"}, headers=boss), 403, "own organization"
    )
    problem(client.get(f"{USERS}/dev", headers=boss), 403, "you may not see user 'dev'")
    assert len(client.get(USERS, headers=auditor).json()["items"]) == 4
    problem(client.get(USERS, headers=dev), 403, "listing users needs one of the roles")
    assert client.get(f"{USERS}/dev", headers=dev).json()["username"] == "dev"  # oneself
