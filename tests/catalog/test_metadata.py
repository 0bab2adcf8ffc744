"""Registering and changing resources: every field kept, and bad input refused precisely
(problem+json with the reason) with nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog.models import Resource, ResourceItem, WorkflowStep
from cityhub.core.db import transaction

from .helpers import AIR, POPULATION, Headers, body


def _count(db: sessionmaker[Session], model: Any) -> int:
    with transaction(db) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_resource_keeps_all_its_core_metadata(
    client: TestClient, people: dict[str, Headers]
) -> None:
    answer = client.post("/api/v1/resources", json=POPULATION, headers=people["ga_officer"])
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["code"] == "101001-LYGA-000001"
    assert data["provider"] == {"code": "LYGA", "name_zh": "临沂市公安局", "name_en": ""}
    assert data["status"] == "draft" and data["version"] == 0 and data["publish_date"] is None
    assert data["subject"] == "人口"
    assert (data["category"], data["format"], data["update_cycle"]) == ("basic", "table", "daily")
    assert (data["share_type"], data["sharing_method"], data["open_type"]) == (
        "conditional",
        "api",
        "closed",
    )
    assert data["share_condition"] == "仅限政务部门履行法定职责使用"
    assert [r["code"] for r in data["regions"]] == ["371300", "371302"]
    assert data["regions"][1]["name_zh"] == "兰山区"
    assert data["keywords"] == ["人口", "户籍"]
    assert [i["code"] for i in data["items"]] == ["gmsfhm", "xm", "xb", "csrq", "hjdz", "lxdh"]
    first = data["items"][0]
    assert first == {
        "name": "公民身份号码",
        "code": "gmsfhm",
        "data_type": "string",
        "length": 18,
        "element_ref": "DE00001",
        "sensitivity": "sensitive",
        "masking": "keep:first6,last4",
    }
    assert data["items"][2]["sensitivity"] == "internal"  # the default grading
    assert data["created_by"] == "ga_data" and data["created_at"].endswith(("Z", "+00:00"))


BAD_BODIES: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "unknown field",
        body(POPULATION, colour="red"),
        422,
        "colour: Extra inputs are not permitted",
    ),
    (
        "unknown item field",
        body(POPULATION, items=[{**POPULATION["items"][0], "x": 1}]),
        422,
        "items.0.x: Extra inputs are not permitted",
    ),
    ("wrong type", body(POPULATION, name=123), 422, "name: Input should be a valid string"),
    (
        "wrong list type",
        body(POPULATION, keywords="人口"),
        422,
        "keywords: Input should be a valid list",
    ),
    ("wrong enum", body(POPULATION, update_cycle="hourly"), 422, "update_cycle: Input should be"),
    (
        "over-long name",
        body(POPULATION, name="人" * 129),
        422,
        "name: String should have at most 128 characters",
    ),
    (
        "over-long summary",
        body(POPULATION, summary="x" * 2001),
        422,
        "summary: String should have at most 2000 characters",
    ),
    (
        "over-long keyword",
        body(POPULATION, keywords=["k" * 33]),
        422,
        "keywords.0: String should have at most 32 characters",
    ),
    ("bad code", body(POPULATION, code="101001/LYGA/000001"), 422, "is not a resource code"),
    (
        "bad item code",
        body(POPULATION, items=[{**POPULATION["items"][0], "code": "GMSFHM"}]),
        422,
        "items.0.code: String should match pattern",
    ),
    (
        "bad masking rule",
        body(POPULATION, items=[{**POPULATION["items"][0], "masking": "blur"}]),
        422,
        "unknown masking rule 'blur'",
    ),
    (
        "duplicate item",
        body(POPULATION, items=POPULATION["items"][:1] * 2),
        422,
        "item code 'gmsfhm' is listed twice",
    ),
    (
        "duplicate region",
        body(POPULATION, regions=["371300", "371300"]),
        422,
        "region '371300' is listed twice",
    ),
    (
        "malformed region",
        body(POPULATION, regions=["3713"]),
        422,
        "regions.0: String should match pattern",
    ),
    (
        "unknown region",
        body(POPULATION, regions=["371300", "110101"]),
        422,
        "regions 110101 are not regions of this platform",
    ),
    (
        "unknown provider",
        body(POPULATION, provider="NOPE"),
        422,
        "provider 'NOPE' is not an organization",
    ),
    (
        "class mismatch",
        body(POPULATION, category="theme"),
        422,
        "has class (类) 1 (basic) but the category is theme",
    ),
    (
        "provider mismatch",
        body(POPULATION, code="101001-LYMZ-000001"),
        422,
        "names provider 'LYMZ' but the resource is provided by 'LYGA'",
    ),
    (
        "conditional without condition",
        body(POPULATION, share_condition=""),
        422,
        "share_condition is required for conditional sharing",
    ),
    (
        "not shared without basis",
        body(POPULATION, share_type="none", share_condition=None, sharing_method=None),
        422,
        "cite the legal basis",
    ),
    (
        "not shared but opened",
        body(
            POPULATION,
            share_type="none",
            share_condition="依据",
            sharing_method=None,
            open_type="conditional",
            open_condition="x",
        ),
        422,
        "cannot be opened",
    ),
    (
        "unconditional with condition",
        body(AIR, code="402001-LYGA-000001", share_condition="x"),
        422,
        "share_condition must be empty for unconditional sharing",
    ),
    (
        "conditional opening without condition",
        body(POPULATION, open_type="conditional"),
        422,
        "open_condition is required for conditional opening",
    ),
    (
        "missing sharing method",
        body(POPULATION, sharing_method=None),
        422,
        "sharing_method is required",
    ),
    (
        "table without items",
        body(POPULATION, items=[]),
        422,
        "a table resource needs at least one information item",
    ),
    (
        "open with bare sensitive items",
        body(
            POPULATION,
            share_type="unconditional",
            share_condition="",
            open_type="open",
            items=[{**POPULATION["items"][0], "masking": ""}],
        ),
        422,
        "cannot carry sensitive items without a masking rule: gmsfhm",
    ),
    (
        "unknown related code",
        body(POPULATION, related_codes=["102001-LYSJ-000001"]),
        422,
        "related resources 102001-LYSJ-000001 do not exist",
    ),
    (
        "self-related",
        body(POPULATION, related_codes=["101001-LYGA-000001"]),
        422,
        "cannot be related to itself",
    ),
]


def test_bad_input_is_refused_precisely_and_nothing_is_written(
    client: TestClient, people: dict[str, Headers], db: sessionmaker[Session]
) -> None:
    # One app for all cases: starting an app per case would cost more than the checks.
    for case, data, status, reason in BAD_BODIES:
        answer = client.post("/api/v1/resources", json=data, headers=people["ga_officer"])
        assert answer.status_code == status, (case, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", case
        assert reason in answer.json()["detail"], (case, answer.json()["detail"])
    assert _count(db, Resource) == 0
    assert _count(db, ResourceItem) == 0
    assert _count(db, WorkflowStep) == 0


def test_malformed_json_is_a_precise_422(client: TestClient, people: dict[str, Headers]) -> None:
    answer = client.post(
        "/api/v1/resources",
        content=b'{"code": "101001-LYGA-000001",',
        headers={**people["ga_officer"], "content-type": "application/json"},
    )
    assert answer.status_code == 422
    assert "not valid JSON" in answer.json()["detail"]


def test_duplicate_codes_conflict(
    client: TestClient, people: dict[str, Headers], db: sessionmaker[Session]
) -> None:
    assert client.post(
        "/api/v1/resources", json=POPULATION, headers=people["ga_officer"]
    ).is_success
    again = client.post(
        "/api/v1/resources", json=body(POPULATION, name="另一个名称"), headers=people["ga_officer"]
    )
    assert again.status_code == 409
    assert again.json()["detail"] == "resource code '101001-LYGA-000001' is already registered"
    assert _count(db, Resource) == 1


def test_patch_changes_only_what_is_sent_and_replaces_lists(
    client: TestClient, people: dict[str, Headers]
) -> None:
    client.post("/api/v1/resources", json=POPULATION, headers=people["ga_officer"])
    code = POPULATION["code"]
    answer = client.patch(
        f"/api/v1/resources/{code}",
        json={
            "summary": "新的摘要",
            "keywords": ["人口", "常住人口", "流动人口"],
            "items": POPULATION["items"][:2],
        },
        headers=people["ga_officer"],
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["summary"] == "新的摘要"
    assert data["name"] == "人口基础信息"  # untouched
    assert data["keywords"] == ["人口", "常住人口", "流动人口"]
    assert [i["code"] for i in data["items"]] == ["gmsfhm", "xm"]
    assert data["updated_by"] == "ga_data"
    # A change is checked against the whole resource, not just the patch.
    refused = client.patch(
        f"/api/v1/resources/{code}", json={"share_condition": ""}, headers=people["ga_officer"]
    )
    assert refused.status_code == 422
    assert "share_condition is required" in refused.json()["detail"]
    assert (
        client.patch(
            f"/api/v1/resources/{code}", json={"name": None}, headers=people["ga_officer"]
        ).json()["detail"]
        == "name cannot be empty"
    )
    unknown = client.patch(
        f"/api/v1/resources/{code}",
        json={"code": "101001-LYGA-000002"},
        headers=people["ga_officer"],
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "code: Extra inputs are not permitted"
    history = client.get(f"/api/v1/resources/{code}/history", headers=people["ga_officer"]).json()
    assert [s["action"] for s in history] == ["create", "update"]
    assert history[1]["comment"] == "items, keywords, summary"


def test_published_and_in_review_resources_do_not_change_in_place(
    client: TestClient, people: dict[str, Headers], publish: Callable[..., dict[str, Any]]
) -> None:
    publish(POPULATION, "in_review")
    code = POPULATION["code"]
    officer = people["ga_officer"]
    in_review = client.patch(f"/api/v1/resources/{code}", json={"summary": "x"}, headers=officer)
    assert in_review.status_code == 409
    assert "is in review" in in_review.json()["detail"]
    client.post(f"/api/v1/resources/{code}/approve", headers=people["admin"])
    published = client.patch(f"/api/v1/resources/{code}", json={"summary": "x"}, headers=officer)
    assert published.status_code == 409
    assert "withdraw it first" in published.json()["detail"]
    client.post(f"/api/v1/resources/{code}/withdraw", json={"comment": "更正"}, headers=officer)
    reopened = client.patch(
        f"/api/v1/resources/{code}", json={"summary": "更正后"}, headers=officer
    )
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "draft"
    assert reopened.json()["version"] == 1  # the published version stays on record


def test_the_provider_defaults_to_the_callers_organization(
    client: TestClient, people: dict[str, Headers]
) -> None:
    answer = client.post(
        "/api/v1/resources", json=body(AIR, provider=None), headers=people["env_officer"]
    )
    assert answer.status_code == 201
    assert answer.json()["provider"]["code"] == "LYSTHJ"
