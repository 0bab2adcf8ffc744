"""The publication workflow: every step recorded, audited and announced; versions with
digests and diffs; and the permission matrix (each role × each action)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog.versions import canonical
from cityhub.core.db import transaction
from cityhub.core.events import OutboxEvent
from cityhub.security.models import AuditEvent

from .helpers import POPULATION, Headers, body

CODE = POPULATION["code"]


def _events(db: sessionmaker[Session], prefix: str = "catalog.") -> list[OutboxEvent]:
    with transaction(db) as session:
        stmt = select(OutboxEvent).where(OutboxEvent.topic.like(f"{prefix}%"))
        return list(session.scalars(stmt.order_by(OutboxEvent.id)))


def test_the_whole_lifecycle_is_recorded_versioned_and_notarizable(
    client: TestClient, people: dict[str, Headers], db: sessionmaker[Session]
) -> None:
    officer, admin = people["ga_officer"], people["admin"]
    assert client.post("/api/v1/resources", json=POPULATION, headers=officer).status_code == 201
    submitted = client.post(
        f"/api/v1/resources/{CODE}/submit", json={"comment": "请审核"}, headers=officer
    )
    assert submitted.json()["status"] == "in_review"
    rejected = client.post(f"/api/v1/resources/{CODE}/reject", headers=admin)
    assert rejected.status_code == 422
    assert rejected.json()["detail"] == "comment: a reason is required to reject"
    rejected = client.post(
        f"/api/v1/resources/{CODE}/reject", json={"comment": "摘要不完整"}, headers=admin
    )
    assert rejected.json()["status"] == "draft"
    client.patch(f"/api/v1/resources/{CODE}", json={"summary": "完整的摘要"}, headers=officer)
    client.post(f"/api/v1/resources/{CODE}/submit", headers=officer)
    approved = client.post(
        f"/api/v1/resources/{CODE}/approve", json={"comment": "同意"}, headers=admin
    ).json()
    assert approved["status"] == "published" and approved["version"] == 1
    assert approved["publish_date"] is not None and approved["published_at"] is not None

    history = client.get(f"/api/v1/resources/{CODE}/history", headers=officer).json()
    assert [(s["action"], s["from_status"], s["to_status"], s["actor"]) for s in history] == [
        ("create", None, "draft", "ga_data"),
        ("submit", "draft", "in_review", "ga_data"),
        ("reject", "in_review", "draft", "admin"),
        ("update", "draft", "draft", "ga_data"),
        ("submit", "draft", "in_review", "ga_data"),
        ("approve", "in_review", "published", "admin"),
    ]
    assert history[2]["comment"] == "摘要不完整"

    # Withdraw, change, publish again: version 2 with a diff from version 1.
    client.post(
        f"/api/v1/resources/{CODE}/withdraw", json={"comment": "补充信息项"}, headers=officer
    )
    items = [*POPULATION["items"], {"name": "民族", "code": "mz", "data_type": "string"}]
    items[1] = {**items[1], "masking": "hide"}
    client.patch(f"/api/v1/resources/{CODE}", json={"items": items[1:]}, headers=officer)
    client.post(f"/api/v1/resources/{CODE}/submit", headers=officer)
    again = client.post(f"/api/v1/resources/{CODE}/approve", headers=admin).json()
    assert again["version"] == 2
    assert again["publish_date"] == approved["publish_date"]  # the first publication's date

    versions = client.get(f"/api/v1/resources/{CODE}/versions", headers=officer).json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["diff"] == {"initial": True}
    diff = versions[0]["diff"]
    assert set(diff) == {"items"}  # the summary changed before version 1, not since
    assert diff["items"]["added"] == ["mz"] and diff["items"]["removed"] == ["gmsfhm"]
    assert diff["items"]["changed"] == {"xm": {"masking": {"from": "name", "to": "hide"}}}

    detail = client.get(f"/api/v1/resources/{CODE}/versions/2", headers=officer).json()
    snapshot = detail["snapshot"]
    assert snapshot["code"] == CODE and [i["code"] for i in snapshot["items"]][-1] == "mz"
    digest = hashlib.sha256(canonical(snapshot).encode()).hexdigest()
    assert detail["digest"] == digest
    missing = client.get(f"/api/v1/resources/{CODE}/versions/9", headers=officer)
    assert missing.status_code == 404

    published = [e for e in _events(db) if e.topic == "catalog.resource.published"]
    assert [json.loads(e.payload)["version"] for e in published] == [1, 2]
    payload = json.loads(published[-1].payload)
    assert payload["digest"] == digest and payload["algorithm"] == "sha256"
    assert payload["code"] == CODE and payload["provider"] == "LYGA"
    assert published[-1].actor == "admin"
    topics = [e.topic for e in _events(db)]
    for topic in ("created", "submitted", "rejected", "updated", "withdrawn"):
        assert f"catalog.resource.{topic}" in topics

    with transaction(db) as session:
        audited = session.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.target)
            .where(AuditEvent.action.like("catalog.resource.%"))
            .order_by(AuditEvent.id)
        ).all()
    assert ("catalog.resource.approve", "admin", f"resource:{CODE}") in audited
    assert ("catalog.resource.reject", "admin", f"resource:{CODE}") in audited
    assert len(audited) == len(
        client.get(f"/api/v1/resources/{CODE}/history", headers=officer).json()
    )


def test_steps_out_of_order_conflict(
    client: TestClient, people: dict[str, Headers], publish: Callable[..., dict[str, Any]]
) -> None:
    publish(POPULATION, "draft")
    officer, admin = people["ga_officer"], people["admin"]
    answer = client.post(f"/api/v1/resources/{CODE}/approve", headers=admin)
    assert answer.status_code == 409
    assert answer.json()["detail"] == (
        f"cannot approve resource {CODE}: it is draft, not in_review"
    )
    answer = client.post(
        f"/api/v1/resources/{CODE}/withdraw", json={"comment": "x"}, headers=officer
    )
    assert answer.status_code == 409
    client.post(f"/api/v1/resources/{CODE}/submit", headers=officer)
    assert client.post(f"/api/v1/resources/{CODE}/submit", headers=officer).status_code == 409
    unknown = client.post(f"/api/v1/resources/{CODE}/publish", headers=admin)
    assert unknown.status_code in (404, 405)
    assert (
        client.post("/api/v1/resources/101001-LYGA-000099/submit", headers=officer).status_code
        == 404
    )


# -- the permission matrix ---------------------------------------------------------------

EVERYONE = (
    "ga_officer",
    "ga_admin",
    "ga_viewer",
    "env_officer",
    "admin",
    "operator",
    "developer",
    "viewer",
    "auditor",
    None,  # anonymous
)
# action → (state before, roles allowed, status for each refused role)
MATRIX: dict[str, tuple[str | None, set[str], dict[str | None, int]]] = {
    "create": (
        None,
        {"ga_officer", "ga_admin"},
        {
            "ga_viewer": 403,
            "env_officer": 403,
            "admin": 403,
            "operator": 403,
            "developer": 403,
            "viewer": 403,
            "auditor": 403,
            None: 401,
        },
    ),
    "update": (
        "draft",
        {"ga_officer", "ga_admin"},
        {
            "ga_viewer": 403,
            "env_officer": 404,
            "admin": 403,
            "operator": 404,
            "developer": 404,
            "viewer": 404,
            "auditor": 403,
            None: 401,
        },
    ),
    "submit": (
        "draft",
        {"ga_officer", "ga_admin"},
        {
            "ga_viewer": 403,
            "env_officer": 404,
            "admin": 403,
            "operator": 404,
            "developer": 404,
            "viewer": 404,
            "auditor": 403,
            None: 401,
        },
    ),
    "approve": (
        "in_review",
        {"admin"},
        {
            "ga_officer": 403,
            "ga_admin": 403,
            "ga_viewer": 403,
            "env_officer": 404,
            "operator": 404,
            "developer": 404,
            "viewer": 404,
            "auditor": 403,
            None: 401,
        },
    ),
    "reject": (
        "in_review",
        {"admin"},
        {
            "ga_officer": 403,
            "ga_admin": 403,
            "ga_viewer": 403,
            "env_officer": 404,
            "operator": 404,
            "developer": 404,
            "viewer": 404,
            "auditor": 403,
            None: 401,
        },
    ),
    "withdraw": (
        "published",
        {"ga_officer", "ga_admin", "admin"},
        {
            "ga_viewer": 403,
            "env_officer": 403,
            "operator": 403,
            "developer": 403,
            "viewer": 403,
            "auditor": 403,
            None: 401,
        },
    ),
}
AFTER = {
    "update": None,
    "submit": "in_review",
    "approve": "published",
    "reject": "draft",
    "withdraw": "withdrawn",
}


def _do(client: TestClient, action: str, code: str, headers: Headers) -> Any:
    if action == "create":
        data = body(POPULATION, code=code, provider="LYGA")
        return client.post("/api/v1/resources", json=data, headers=headers)
    if action == "update":
        return client.patch(f"/api/v1/resources/{code}", json={"summary": "改"}, headers=headers)
    return client.post(
        f"/api/v1/resources/{code}/{action}", json={"comment": "理由"}, headers=headers
    )


@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix(
    action: str,
    client: TestClient,
    people: dict[str, Headers],
    publish: Callable[..., dict[str, Any]],
) -> None:
    before, allowed, refused = MATRIX[action]
    assert set(allowed) | set(refused) == set(EVERYONE)
    sequence = iter(range(1, 100))
    target = f"101001-LYGA-{next(sequence):06d}"
    if before is not None:
        publish(body(POPULATION, code=target), before)
    for who, status in refused.items():
        headers = people[who] if who else {}
        answer = _do(
            client, action, target if before else f"101001-LYGA-{next(sequence):06d}", headers
        )
        assert answer.status_code == status, (action, who, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    if before is not None:  # the refusals changed nothing
        state = client.get(f"/api/v1/resources/{target}", headers=people["admin"]).json()
        assert state["status"] == before
        assert state["summary"] == POPULATION["summary"]
    for who in sorted(allowed):
        code = f"101001-LYGA-{next(sequence):06d}"
        if before is not None:
            publish(body(POPULATION, code=code), before)
        answer = _do(client, action, code, people[who])
        assert answer.status_code in (200, 201), (action, who, answer.text)
        expected = AFTER.get(action)
        if expected:
            assert answer.json()["status"] == expected
