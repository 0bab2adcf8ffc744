"""Construction projects: requirement → approval → implementation → acceptance, each step by
its role; on acceptance the system joins the monitored systems and its data resources the
catalog (as drafts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]

RESOURCE: dict[str, Any] = {
    "code": "301901-LYJT-000901",
    "name": "城市公共停车场泊位信息",
    "category": "department",
    "format": "table",
    "share_type": "unconditional",
    "sharing_method": "api",
    "open_type": "open",
    "update_cycle": "realtime",
    "items": [
        {"name": "停车场编号", "code": "tccbh", "data_type": "string", "sensitivity": "public"},
        {"name": "空余泊位", "code": "kybw", "data_type": "integer", "sensitivity": "public"},
    ],
}


def body(**extra: Any) -> dict[str, Any]:
    project = {
        "code": "XM-2026-001",
        "name": "智慧停车建设项目",
        "requirement": "全市公共停车场泊位实时发布与诱导",
        "budget_wan": 860,
        "planned_finish": "2027-06-30",
        "system": {
            "code": "APP-ZHTC",
            "name_zh": "智慧停车",
            "kind": "livelihood_app",
            "criticality": "high",
        },
        "resources": [RESOURCE],
    }
    return {**project, **extra}


@pytest.fixture
def people(auth: Auth) -> dict[str, dict[str, str]]:
    return {
        "dept": auth(Role.dept_admin, org_code="LYJT"),
        "other_dept": auth(Role.dept_admin, org_code="LYMZ"),
        "admin": auth(Role.platform_admin, org_code="LYDSJ"),
        "operator": auth(Role.operator, org_code="LYZHYY"),
    }


def test_from_requirement_to_operation(
    client: TestClient, people: dict[str, dict[str, str]], db: sessionmaker[Session]
) -> None:
    made = client.post("/api/v1/ops/projects", json=body(), headers=people["dept"])
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "requirement" and made.json()["organization"] == "LYJT"
    url = "/api/v1/ops/projects/XM-2026-001"
    for action, who, status in (
        ("approve", "admin", "approved"),
        ("start", "operator", "implementing"),
        ("accept", "dept", "accepted"),
    ):
        moved = client.post(f"{url}/{action}", json={"note": action}, headers=people[who])
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status
    project = moved.json()
    assert project["monitored_system"] == "APP-ZHTC"
    assert project["catalog_codes"] == ["301901-LYJT-000901"]
    assert [s["action"] for s in project["steps"]] == [
        "requested",
        "approved",
        "started",
        "accepted",
    ]
    assert project["approved_at"] and project["started_at"] and project["accepted_at"]
    system = client.get("/api/v1/ops/systems/APP-ZHTC", headers=people["operator"]).json()
    assert system["organization"]["code"] == "LYJT" and system["criticality"] == "high"
    from cityhub.catalog.models import Resource

    with transaction(db) as session:
        resource = session.query(Resource).filter_by(code="301901-LYJT-000901").one()
        assert resource.status == "draft" and resource.provider.code == "LYJT"


def test_each_step_belongs_to_its_role_and_order(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    assert (
        client.post(
            "/api/v1/ops/projects", json=body(organization="LYJT"), headers=people["other_dept"]
        ).status_code
        == 403
    )
    client.post("/api/v1/ops/projects", json=body(), headers=people["dept"])
    url = "/api/v1/ops/projects/XM-2026-001"
    early = client.post(f"{url}/accept", headers=people["dept"])
    assert early.status_code == 409
    assert early.json()["detail"] == (
        "project XM-2026-001 is requirement; it can be accepted only when implementing"
    )
    self_approval = client.post(f"{url}/approve", headers=people["dept"])
    assert self_approval.status_code == 403 and "platform admin" in self_approval.json()["detail"]
    reject = client.post(f"{url}/reject", headers=people["admin"])
    assert reject.status_code == 422 and "the reason" in reject.json()["detail"]
    client.post(f"{url}/approve", headers=people["admin"])
    not_ops = client.post(f"{url}/start", headers=people["dept"])
    assert not_ops.status_code == 403 and "operating company" in not_ops.json()["detail"]
    client.post(f"{url}/start", headers=people["operator"])
    other = client.post(f"{url}/accept", headers=people["other_dept"])
    assert other.status_code == 403 and "department admin of LYJT" in other.json()["detail"]
    unknown = client.post(f"{url}/launch", headers=people["admin"])
    assert unknown.status_code == 422 and "unknown project action" in unknown.json()["detail"]


def test_bad_projects_are_refused_before_anything_is_stored(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    wrong_class = {**RESOURCE, "code": "101001-LYJT-000901"}  # class 1 is the basic library
    response = client.post(
        "/api/v1/ops/projects", json=body(resources=[wrong_class]), headers=people["dept"]
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("resource 101001-LYJT-000901:")
    no_items = {k: v for k, v in RESOURCE.items() if k != "update_cycle"}
    response = client.post(
        "/api/v1/ops/projects", json=body(resources=[no_items]), headers=people["dept"]
    )
    assert response.status_code == 422 and "update_cycle" in response.json()["detail"]
    twice = body(resources=[RESOURCE, RESOURCE])
    response = client.post("/api/v1/ops/projects", json=twice, headers=people["dept"])
    assert response.status_code == 422 and "listed twice" in response.json()["detail"]
    listed = client.get("/api/v1/ops/projects", headers=people["admin"]).json()
    assert listed["items"] == []
    client.post("/api/v1/ops/projects", json=body(), headers=people["dept"])
    again = client.post("/api/v1/ops/projects", json=body(), headers=people["dept"])
    assert again.status_code == 409


def test_cancelled_and_rejected_projects_end(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    client.post("/api/v1/ops/projects", json=body(resources=[]), headers=people["dept"])
    client.post(
        "/api/v1/ops/projects",
        json=body(
            code="XM-2", system={"code": "APP-2", "name_zh": "二", "kind": "network"}, resources=[]
        ),
        headers=people["dept"],
    )
    cancelled = client.post("/api/v1/ops/projects/XM-2026-001/cancel", headers=people["dept"])
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["ended_at"]
    rejected = client.post(
        "/api/v1/ops/projects/XM-2/reject", json={"note": "重复建设"}, headers=people["admin"]
    )
    assert rejected.json()["status"] == "rejected"
    done = client.post("/api/v1/ops/projects/XM-2/approve", headers=people["admin"])
    assert done.status_code == 409
    listed = client.get("/api/v1/ops/projects?status=rejected", headers=people["admin"]).json()
    assert [p["code"] for p in listed["items"]] == ["XM-2"]
