"""The incident lifecycle through the API, its clear refusals, and the arithmetic of
response and resolution times against the criticality's targets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.ops import incidents
from cityhub.ops.models import MonitoredSystem
from cityhub.ops.vocab import EventKind
from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]
MakeSystem = Callable[..., MonitoredSystem]


@pytest.fixture
def ops_headers(auth: Auth) -> dict[str, str]:
    return auth(Role.operator, org_code="LYZHYY", username="duty")


def _open(client: TestClient, headers: dict[str, str], **extra: object) -> dict[str, object]:
    body = {"system": "APP-PA", "title": "视频调阅中断", "description": "城区多路视频无法调阅"}
    response = client.post("/api/v1/ops/incidents", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()
    return data


def test_lifecycle_opened_to_closed_with_timeline(
    client: TestClient, make_system: MakeSystem, ops_headers: dict[str, str]
) -> None:
    make_system("APP-PA", criticality="critical")
    opened = _open(client, ops_headers, assignee="duty")
    url = f"/api/v1/ops/incidents/{opened['id']}"
    assert opened["status"] == "opened" and opened["assignee"] == "duty"
    assert opened["timing"]["response_target_s"] == 15 * 60  # type: ignore[index]
    assert opened["timing"]["resolution_target_s"] == 4 * 3600  # type: ignore[index]

    step = client.post(f"{url}/acknowledge", json={"note": "值班员已确认"}, headers=ops_headers)
    assert step.json()["status"] == "acknowledged"
    assert step.json()["timing"]["response_met"] is True
    assert client.post(f"{url}/start", headers=ops_headers).json()["status"] == "in_progress"
    refused = client.post(f"{url}/resolve", json={"cause": "交换机故障"}, headers=ops_headers)
    assert refused.status_code == 422
    assert refused.json()["detail"] == "resolving an incident needs the fix: say what was done"
    resolved = client.post(
        f"{url}/resolve",
        json={"cause": "核心交换机故障", "fix": "切换备用交换机"},
        headers=ops_headers,
    ).json()
    assert resolved["status"] == "resolved" and resolved["timing"]["resolution_met"] is True
    closed = client.post(f"{url}/close", headers=ops_headers).json()
    assert closed["status"] == "closed"
    actions = [e["action"] for e in closed["timeline"]]
    assert actions == ["opened", "assigned", "acknowledged", "started", "resolved", "closed"]
    assert closed["timeline"][2]["note"] == "值班员已确认"

    again = client.post(f"{url}/reopen", headers=ops_headers)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["detail"] == (
        f"incident #{opened['id']} is closed and cannot be reopened; open a new incident "
        f"and mention #{opened['id']}"
    )


def test_out_of_order_moves_and_bad_assignees_are_refused(
    client: TestClient, make_system: MakeSystem, ops_headers: dict[str, str]
) -> None:
    make_system("APP-PA")
    url = f"/api/v1/ops/incidents/{_open(client, ops_headers)['id']}"
    close = client.post(f"{url}/close", headers=ops_headers)
    assert close.status_code == 409
    assert "it can be closed only when resolved" in close.json()["detail"]
    bad = client.post(f"{url}/assign", json={"assignee": "nobody"}, headers=ops_headers)
    assert bad.status_code == 422 and "'nobody' is not an active user" in bad.json()["detail"]
    client.post(f"{url}/resolve", json={"fix": "重启服务"}, headers=ops_headers)
    ack = client.post(f"{url}/acknowledge", headers=ops_headers)
    assert ack.status_code == 409 and "is resolved" in ack.json()["detail"]
    no_cause = client.post(f"{url}/close", headers=ops_headers)
    assert no_cause.status_code == 422 and "cause and fix" in no_cause.json()["detail"]
    reopened = client.post(f"{url}/reopen", json={"note": "用户仍报障"}, headers=ops_headers)
    assert reopened.json()["status"] == "opened" and reopened.json()["resolved_at"] is None
    assert client.get("/api/v1/ops/incidents/999999", headers=ops_headers).status_code == 404
    unknown = client.post(
        "/api/v1/ops/incidents", json={"system": "NOPE", "title": "x y"}, headers=ops_headers
    )
    assert unknown.status_code == 404 and "no monitored system 'NOPE'" in unknown.json()["detail"]


def test_roles_decide_who_reads_and_who_acts(
    client: TestClient, make_system: MakeSystem, ops_headers: dict[str, str], auth: Auth
) -> None:
    make_system("APP-PA", org_code="LYGA")
    incident = _open(client, ops_headers)
    viewer, developer = auth(Role.viewer), auth(Role.developer)
    assert client.get("/api/v1/ops/incidents", headers=viewer).status_code == 200
    acting = client.post(f"/api/v1/ops/incidents/{incident['id']}/acknowledge", headers=viewer)
    assert acting.status_code == 403
    assert client.get("/api/v1/ops/incidents", headers=developer).status_code == 403
    assert client.get("/api/v1/ops/incidents").status_code == 401
    own_dept = auth(Role.dept_admin, org_code="LYGA")
    other_dept = auth(Role.dept_admin, org_code="LYMZ")
    body = {"system": "APP-PA", "title": "群众反映无法登录"}
    assert client.post("/api/v1/ops/incidents", json=body, headers=own_dept).status_code == 201
    assert client.post("/api/v1/ops/incidents", json=body, headers=other_dept).status_code == 403


def test_lists_filter_and_page(
    client: TestClient, make_system: MakeSystem, ops_headers: dict[str, str]
) -> None:
    make_system("APP-PA")
    ids = [_open(client, ops_headers, title=f"故障 {n}")["id"] for n in range(3)]
    client.post(f"/api/v1/ops/incidents/{ids[0]}/resolve", json={"fix": "ok"}, headers=ops_headers)
    page = client.get("/api/v1/ops/incidents?limit=2", headers=ops_headers).json()
    assert [i["id"] for i in page["items"]] == [ids[2], ids[1]]
    rest = client.get(f"/api/v1/ops/incidents?limit=2&cursor={page['next']}", headers=ops_headers)
    assert [i["id"] for i in rest.json()["items"]] == [ids[0]] and rest.json()["next"] is None
    open_only = client.get("/api/v1/ops/incidents?open=true", headers=ops_headers).json()
    assert sorted(i["id"] for i in open_only["items"]) == sorted(ids[1:])
    board = client.get("/api/v1/ops/incidents/board", headers=ops_headers).json()
    assert [i["id"] for i in board["resolved"]] == [ids[0]] and len(board["opened"]) == 2
    bad = client.get("/api/v1/ops/incidents?cursor=%%%", headers=ops_headers)
    assert bad.status_code == 400


def test_response_and_resolution_are_timed_against_the_targets(
    db: sessionmaker[Session], make_system: MakeSystem
) -> None:
    """critical: answer within 15 min, resolve within 4 h; medium: 2 h and 24 h."""
    critical = make_system("APP-C", criticality="critical")
    medium = make_system("APP-M", criticality="medium")
    t0 = utcnow() - timedelta(hours=10)
    with transaction(db) as session:
        sys_c = session.get(MonitoredSystem, critical.id)
        sys_m = session.get(MonitoredSystem, medium.id)
        assert sys_c is not None and sys_m is not None
        late = incidents.open_incident(session, sys_c, title="late", actor="t", at=t0)
        incidents.transition(session, late, "acknowledge", "t", at=t0 + timedelta(minutes=20))
        incidents.transition(session, late, "resolve", "t", fix="f", at=t0 + timedelta(hours=3))
        timing = incidents.timing(late)
        assert timing.response_s == 20 * 60 and timing.response_met is False
        assert timing.resolution_s == 3 * 3600 and timing.resolution_met is True
        assert not timing.response_breached and not timing.resolution_breached

        quick = incidents.open_incident(session, sys_c, title="quick", actor="t", at=t0)
        # Resolving straight away is also the first response.
        incidents.transition(session, quick, "resolve", "t", fix="f", at=t0 + timedelta(minutes=5))
        timing = incidents.timing(quick)
        assert timing.response_s == timing.resolution_s == 300 and timing.response_met

        waiting = incidents.open_incident(
            session, sys_m, title="waiting", actor="t", at=t0, event_kind=EventKind.network
        )
        timing = incidents.timing(waiting, now=t0 + timedelta(hours=3))
        assert timing.response_s is None and timing.response_breached  # 3 h > 2 h
        assert not timing.resolution_breached  # 3 h < 24 h
        timing = incidents.timing(waiting, now=t0 + timedelta(hours=25))
        assert timing.resolution_breached
        incidents.transition(session, waiting, "start", "t", at=t0 + timedelta(hours=1))
        timing = incidents.timing(waiting, now=t0 + timedelta(hours=3))
        assert timing.response_s == 3600 and timing.response_met and not timing.response_breached
        assert waiting.acknowledged_at == t0 + timedelta(hours=1)  # starting acknowledges
