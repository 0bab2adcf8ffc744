"""Applications and their keys: registration, details, limits, issue, rotation, revocation."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from cityhub.core.db import transaction, utcnow
from cityhub.security.models import ApiKey, Role

from .conftest import Gw
from .helpers import PEOPLE, problem

ROWS = f"/api/v1/resources/{PEOPLE}/rows?limit=1"


def test_a_developer_registers_an_application_for_their_organization(gw: Gw) -> None:
    dev = gw.person(Role.developer, org="LYJT", username="jt_dev")
    made = gw.client.post(
        "/api/v1/applications",
        json={
            "name": "智慧交通出行服务",
            "purpose": "公交到站预测",
            "description": "市交通运输局的出行服务",
            "contact_name": "张工",
            "contact_phone": "+86 138-1234-5678",
            "contact_email": "zhang@example.cn",
        },
        headers=dev,
    )
    assert made.status_code == 201, made.text
    app = made.json()
    assert (app["organization"], app["owner"], app["status"]) == ("LYJT", "jt_dev", "active")
    assert app["contact_phone"] == "13812345678"  # normalized
    assert app["rate_limit"] == gw.settings.app_rate_limit
    assert app["daily_calls"] == gw.settings.app_daily_calls
    same_org = gw.person(Role.viewer, org="LYJT")
    assert [
        a["id"] for a in gw.client.get("/api/v1/applications", headers=same_org).json()["items"]
    ] == [app["id"]]
    stranger = gw.person(Role.developer, org="LYMZ")
    assert gw.client.get("/api/v1/applications", headers=stranger).json()["items"] == []
    problem(
        gw.client.get(f"/api/v1/applications/{app['id']}", headers=stranger), 404, "no application"
    )
    renamed = gw.client.patch(
        f"/api/v1/applications/{app['id']}", json={"description": "新说明"}, headers=dev
    )
    assert renamed.json()["description"] == "新说明"


def test_registration_input_is_checked(gw: Gw) -> None:
    dev = gw.person(Role.developer)
    base = {"name": "应用", "purpose": "用途"}
    post = gw.client.post
    problem(
        post("/api/v1/applications", json={**base, "contact_phone": "12345"}, headers=dev),
        422,
        "contact_phone",
    )
    problem(
        post("/api/v1/applications", json={**base, "contact_email": "nobody"}, headers=dev),
        422,
        "contact_email",
    )
    problem(
        post("/api/v1/applications", json={**base, "name": "x" * 129}, headers=dev), 422, "name"
    )
    problem(post("/api/v1/applications", json={**base, "owner": "me"}, headers=dev), 422, "owner")
    problem(post("/api/v1/applications", json={"name": "应用"}, headers=dev), 422, "purpose")
    assert post("/api/v1/applications", json=base, headers=dev).status_code == 201
    problem(post("/api/v1/applications", json=base, headers=dev), 409, "already has an application")


def test_limits_are_set_by_admins_and_operators_only(gw: Gw) -> None:
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    url = f"/api/v1/applications/{app_id}/limits"
    problem(gw.client.put(url, json={"rate_limit": 1000}, headers=dev), 403, "platform admins")
    ops = gw.person(Role.operator, org="LYZHYY")
    changed = gw.client.put(
        url, json={"rate_limit": 5, "burst": 10, "daily_rows": 500}, headers=ops
    )
    assert changed.status_code == 200
    assert (changed.json()["rate_limit"], changed.json()["burst"]) == (5, 10)
    problem(gw.client.put(url, json={"burst": 1}, headers=ops), 422, "burst (1) must be at least")
    problem(gw.client.put(url, json={"rate_limit": 0}, headers=ops), 422, "rate_limit")
    problem(gw.client.put(url, json={}, headers=ops), 422, "at least one")


def test_keys_are_shown_once_and_stored_as_digests(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    issued = gw.client.post(
        f"/api/v1/applications/{app_id}/keys", json={"name": "prod"}, headers=dev
    )
    assert issued.status_code == 201
    raw = issued.json()["key"]
    listed = gw.client.get(f"/api/v1/applications/{app_id}/keys", headers=dev).json()
    assert [k["prefix"] for k in listed] == [issued.json()["prefix"]]
    assert "key" not in listed[0]
    with gw.db() as session:
        stored = session.scalars(select(ApiKey).where(ApiKey.prefix == listed[0]["prefix"])).one()
        assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in (stored.key_hash, stored.name)


def test_rotation_keeps_the_old_key_for_the_grace_period(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    dev_headers = _owner_headers(gw, app_id)
    keys = gw.client.get(f"/api/v1/applications/{app_id}/keys", headers=dev_headers).json()
    rotated = gw.client.post(
        f"/api/v1/applications/{app_id}/keys/{keys[0]['id']}/rotate", headers=dev_headers
    )
    assert rotated.status_code == 201, rotated.text
    body = rotated.json()
    assert body["replaces_id"] == keys[0]["id"]
    assert body["replaced"]["status"] == "expiring"
    new_key = {"Authorization": f"Bearer {body['key']}"}
    assert gw.client.get(ROWS, headers=key).status_code == 200  # old key: still in grace
    assert gw.client.get(ROWS, headers=new_key).status_code == 200
    problem(
        gw.client.post(
            f"/api/v1/applications/{app_id}/keys/{keys[0]['id']}/rotate", headers=dev_headers
        ),
        409,
        "already rotated",
    )
    with transaction(gw.db) as session:  # the grace period is over
        old = session.get(ApiKey, keys[0]["id"])
        assert old is not None and old.expires_at is not None
        old.expires_at = utcnow() - timedelta(seconds=1)
    problem(gw.client.get(ROWS, headers=key), 401, "expired")
    assert gw.client.get(ROWS, headers=new_key).status_code == 200


def test_a_revoked_key_is_refused_at_once(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    dev_headers = _owner_headers(gw, app_id)
    key_id = gw.client.get(f"/api/v1/applications/{app_id}/keys", headers=dev_headers).json()[0][
        "id"
    ]
    revoked = gw.client.delete(f"/api/v1/applications/{app_id}/keys/{key_id}", headers=dev_headers)
    assert revoked.json()["status"] == "revoked"
    problem(gw.client.get(ROWS, headers=key), 401, "revoked")
    problem(
        gw.client.get(ROWS, headers={"Authorization": "Bearer chk_nope_nope"}),
        401,
        "unknown API key",
    )
    problem(gw.client.get(ROWS, headers={"Authorization": "Basic abc"}), 401, "malformed")
    problem(gw.client.get(ROWS), 401, "Authorization")


def test_a_suspended_application_is_refused(people: Gw) -> None:
    gw = people
    key, app_id = gw.granted_key(PEOPLE)
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    gw.client.put(
        f"/api/v1/applications/{app_id}/limits", json={"status": "suspended"}, headers=admin
    )
    problem(gw.client.get(ROWS, headers=key), 403, "is suspended")


def _owner_headers(gw: Gw, app_id: int) -> dict[str, str]:
    """A fresh key of the application's owner, as a user credential for the management API."""
    from cityhub.gateway.models import Application
    from cityhub.security import service
    from cityhub.security.models import User

    with transaction(gw.db) as session:
        app = session.get(Application, app_id)
        assert app is not None
        owner = session.get(User, app.owner_id)
        assert owner is not None
        _, raw = service.create_api_key(session, owner, "owner")
    return {"Authorization": f"Bearer {raw}"}
