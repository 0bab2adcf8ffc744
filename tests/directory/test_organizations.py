from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]
GA = {
    "code": "LYGA",
    "name_zh": "临沂市公安局",
    "name_en": "Linyi Public Security Bureau",
    "kind": "government",
    "region_code": "371300",
}


def test_admin_creates_and_anyone_signed_in_reads(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin)
    created = client.post("/api/v1/organizations", json=GA, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["name_zh"] == "临沂市公安局"
    viewer = auth(Role.viewer)
    got = client.get("/api/v1/organizations/LYGA", headers=viewer)
    assert got.status_code == 200 and got.json()["kind"] == "government"


def test_reading_needs_a_login(client: TestClient) -> None:
    answer = client.get("/api/v1/organizations")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"


def test_list_filters_and_paginates(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin)
    for i in range(5):
        body = {
            **GA,
            "code": f"LYX{i}",
            "name_zh": f"临沂市测试局{i}",
            "region_code": "371302" if i % 2 else "371300",
        }
        assert client.post("/api/v1/organizations", json=body, headers=admin).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, "q": "测试局"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/organizations", params=params, headers=admin).json()
        seen += [o["code"] for o in page["items"]]
        if not (cursor := page["next"]):
            break
    assert seen == [f"LYX{i}" for i in range(5)]
    lanshan = client.get("/api/v1/organizations", params={"region_code": "371302"}, headers=admin)
    assert [o["code"] for o in lanshan.json()["items"]] == ["LYX1", "LYX3"]


def test_children_and_parent(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin)
    client.post("/api/v1/organizations", json=GA, headers=admin)
    child = {
        **GA,
        "code": "LSGA",
        "name_zh": "兰山区公安分局",
        "parent_code": "LYGA",
        "region_code": "371302",
    }
    assert (
        client.post("/api/v1/organizations", json=child, headers=admin).json()["parent_code"]
        == "LYGA"
    )
    kids = client.get("/api/v1/organizations", params={"parent": "LYGA"}, headers=admin).json()
    assert [o["code"] for o in kids["items"]] == ["LSGA"]
    cycle = client.patch("/api/v1/organizations/LYGA", json={"parent_code": "LSGA"}, headers=admin)
    assert cycle.status_code == 422 and "cycle" in cycle.json()["detail"]


def test_only_admins_create(client: TestClient, auth: Auth) -> None:
    answer = client.post("/api/v1/organizations", json=GA, headers=auth(Role.developer))
    assert answer.status_code == 403
    assert "platform_admin" in answer.json()["detail"]


def test_dept_admin_edits_own_org_names_only(client: TestClient, auth: Auth) -> None:
    client.post("/api/v1/organizations", json=GA, headers=auth(Role.platform_admin))
    own = auth(Role.dept_admin, org_code="LYGA")
    renamed = client.patch("/api/v1/organizations/LYGA", json={"name_en": "Linyi PSB"}, headers=own)
    assert renamed.status_code == 200 and renamed.json()["name_en"] == "Linyi PSB"
    kind = client.patch("/api/v1/organizations/LYGA", json={"kind": "enterprise"}, headers=own)
    assert kind.status_code == 403
    other = auth(Role.dept_admin, org_code="LYMZ")
    assert (
        client.patch("/api/v1/organizations/LYGA", json={"name_en": "x"}, headers=other).status_code
        == 403
    )


def test_bad_input_gets_precise_problems(client: TestClient, auth: Auth) -> None:
    admin = auth(Role.platform_admin)
    bad_credit = client.post(
        "/api/v1/organizations", json={**GA, "credit_code": "11371300ABCDEFGHIJ"}, headers=admin
    )
    assert bad_credit.status_code == 422
    assert "credit_code" in bad_credit.json()["detail"]
    unknown_region = client.post(
        "/api/v1/organizations", json={**GA, "region_code": "110101"}, headers=admin
    )
    assert unknown_region.status_code == 422 and "110101" in unknown_region.json()["detail"]
    bad_kind = client.post("/api/v1/organizations", json={**GA, "kind": "club"}, headers=admin)
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["field"] == "kind"
    broken = client.post(
        "/api/v1/organizations",
        content=b'{"code": ',
        headers=admin | {"content-type": "application/json"},
    )
    assert (
        broken.status_code == 422 and broken.headers["content-type"] == "application/problem+json"
    )
    client.post("/api/v1/organizations", json=GA, headers=admin)
    again = client.post("/api/v1/organizations", json=GA, headers=admin)
    assert again.status_code == 409 and "LYGA" in again.json()["detail"]
    missing = client.get("/api/v1/organizations/NOPE", headers=admin)
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]
