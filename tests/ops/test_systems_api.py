"""Monitored systems and probes through the API: registration, precise refusals of bad
schedules and targets, running a probe now, its results, passwords never shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def operator(auth: Auth, org: Callable[..., object]) -> dict[str, str]:
    org("LYJT", "临沂市交通运输局")
    return auth(Role.operator, org_code="LYZHYY", username="duty")


def system_body(**extra: Any) -> dict[str, Any]:
    body = {
        "code": "APP-ZHJT",
        "name_zh": "智慧交通",
        "name_en": "Smart transport",
        "organization": "LYJT",
        "kind": "livelihood_app",
        "criticality": "critical",
    }
    return {**body, **extra}


def test_register_list_and_change_systems(
    client: TestClient, operator: dict[str, str], auth: Auth
) -> None:
    made = client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    assert made.status_code == 201, made.text
    system = made.json()
    assert system["status"] == "unknown" and system["connection"] == "standard"
    assert system["targets"] == {
        "availability": 0.999,
        "response_minutes": 15,
        "resolution_minutes": 240,
    }
    client.post(
        "/api/v1/ops/systems",
        json=system_body(code="LYJT-YW", kind="government_app", name_zh="交通业务系统"),
        headers=operator,
    )
    viewer = auth(Role.viewer)
    page = client.get("/api/v1/ops/systems?limit=1", headers=viewer).json()
    assert [s["code"] for s in page["items"]] == ["APP-ZHJT"] and page["next"]
    kinds = client.get("/api/v1/ops/systems?kind=government_app", headers=viewer).json()
    assert [s["code"] for s in kinds["items"]] == ["LYJT-YW"]
    found = client.get("/api/v1/ops/systems?q=交通业务", headers=viewer).json()
    assert [s["code"] for s in found["items"]] == ["LYJT-YW"]
    changed = client.patch(
        "/api/v1/ops/systems/APP-ZHJT",
        json={"criticality": "low", "active": False},
        headers=operator,
    )
    assert changed.json()["criticality"] == "low" and changed.json()["status"] == "inactive"
    overview = client.get("/api/v1/ops/overview", headers=viewer).json()
    assert overview["statuses"]["inactive"] == 1 and overview["statuses"]["unknown"] == 1
    assert [t["code"] for t in overview["groups"]["government_app"]] == ["LYJT-YW"]


def test_bad_systems_are_refused(client: TestClient, operator: dict[str, str], auth: Auth) -> None:
    unknown = client.post(
        "/api/v1/ops/systems", json=system_body(organization="NOPE"), headers=operator
    )
    assert unknown.status_code == 422 and "organization 'NOPE' does not exist" in unknown.text
    assert (
        client.post(
            "/api/v1/ops/systems", json=system_body(kind="spaceship"), headers=operator
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/ops/systems", json=system_body(typo=1), headers=operator).status_code
        == 422
    )
    client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    again = client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    assert again.status_code == 409
    viewer = client.post(
        "/api/v1/ops/systems", json=system_body(code="X1"), headers=auth(Role.viewer)
    )
    assert viewer.status_code == 403


BAD_PROBES: list[tuple[dict[str, Any], str]] = [
    ({"interval": "5x"}, "interval: '5x' is not a duration such as 30s, 5m"),
    ({"interval": "0.5s"}, "interval 0.5s is out of range"),
    ({"interval": "8d"}, "interval 691200s is out of range"),
    (
        {"interval": "10s", "timeout": "30s"},
        "timeout 30s must be shorter than the interval 10s",
    ),
    ({"timeout": "0"}, "timeout 0s is out of range"),
    ({"kind": "tcp", "target": "db.example"}, "'db.example' is not host:port"),
    (
        {"kind": "tcp", "target": "db.example:99999"},
        "port '99999' of 'db.example:99999' is not 1-65535",
    ),
    ({"target": "ftp://x/"}, "is not an http:// or https:// URL"),
    ({"kind": "database", "target": "mysql://u@h/db"}, "support postgresql:// and sqlite://"),
    (
        {
            "kind": "database",
            "target": "sqlite:////tmp/x.db",
            "params": {"query": "DELETE FROM t"},
        },
        "a probe query only reads",
    ),
    (
        {
            "kind": "database",
            "target": "sqlite:////tmp/x.db",
            "params": {"query": "SELECT 1; DROP TABLE t"},
        },
        "a probe query is one statement",
    ),
    ({"kind": "mqtt", "target": "tcp://broker:1883"}, "is not an mqtt:// or mqtts:// URL"),
    ({"kind": "platform", "target": "kettle"}, "'kettle' is not a part of the platform"),
    ({"params": {"expected_status": [700]}}, "700 is not an HTTP status code"),
    ({"params": {"colour": "red"}}, "params.colour (http probe)"),
    (
        {"kind": "device_online", "target": "*", "params": {"threshold": 2}},
        "params.threshold (device_online probe)",
    ),
]


def test_bad_probes_are_refused_precisely(client: TestClient, operator: dict[str, str]) -> None:
    client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    for probe, message in BAD_PROBES:
        body = {"name": "健康检查", "kind": "http", "target": "http://10.1.1.1/health", **probe}
        response = client.post("/api/v1/ops/systems/APP-ZHJT/probes", json=body, headers=operator)
        assert response.status_code == 422, (probe, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert message in response.text, (probe, response.text)
    listed = client.get("/api/v1/ops/systems/APP-ZHJT/probes", headers=operator).json()
    assert listed == []  # nothing half-written


def test_probe_targets_naming_platform_things_must_exist(
    client: TestClient, operator: dict[str, str]
) -> None:
    client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    url = "/api/v1/ops/systems/APP-ZHJT/probes"
    fresh = {"name": "时效", "kind": "freshness", "target": "101001-LYGA-000001"}
    missing = client.post(url, json=fresh, headers=operator)
    assert missing.status_code == 422 and "is not in the catalog" in missing.json()["detail"]
    devices = {"name": "在线率", "kind": "device_online", "target": "NOPE"}
    missing = client.post(url, json=devices, headers=operator)
    assert missing.status_code == 422 and "organization 'NOPE'" in missing.json()["detail"]


def test_run_a_probe_now_and_read_its_results(
    client: TestClient, operator: dict[str, str], http_server: str
) -> None:
    client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    body = {
        "name": "健康检查",
        "kind": "http",
        "target": f"{http_server}/ok",
        "params": {"expected_text": "ok"},
        "interval": "1m",
        "timeout": "2s",
    }
    probe = client.post("/api/v1/ops/systems/APP-ZHJT/probes", json=body, headers=operator).json()
    assert probe["interval_seconds"] == 60 and probe["timeout_seconds"] == 2
    assert probe["params"]["expected_text"] == "ok" and probe["failure_threshold"] == 3
    result = client.post(f"/api/v1/ops/probes/{probe['id']}/run", headers=operator)
    assert result.status_code == 200 and result.json()["outcome"] == "up"
    client.patch(
        f"/api/v1/ops/probes/{probe['id']}",
        json={"target": f"{http_server}/status/500"},
        headers=operator,
    )
    failed = client.post(f"/api/v1/ops/probes/{probe['id']}/run", headers=operator).json()
    assert failed["outcome"] == "down" and "HTTP 500" in failed["message"]
    system = client.get("/api/v1/ops/systems/APP-ZHJT", headers=operator).json()
    assert system["status"] == "down" and system["probes"][0]["consecutive_failures"] == 1
    page = client.get(f"/api/v1/ops/probes/{probe['id']}/results?limit=1", headers=operator).json()
    assert [r["outcome"] for r in page["items"]] == ["down"]
    older = client.get(
        f"/api/v1/ops/probes/{probe['id']}/results?cursor={page['next']}", headers=operator
    ).json()
    assert [r["outcome"] for r in older["items"]] == ["up"]
    slow = client.patch(
        f"/api/v1/ops/probes/{probe['id']}", json={"timeout": "2m"}, headers=operator
    )
    assert slow.status_code == 422 and "must be shorter than the interval" in slow.text
    assert client.delete(f"/api/v1/ops/probes/{probe['id']}", headers=operator).status_code == 204
    assert client.get(f"/api/v1/ops/probes/{probe['id']}", headers=operator).status_code == 404
    after = client.get("/api/v1/ops/systems/APP-ZHJT", headers=operator).json()
    assert after["status"] == "unknown" and after["probes"] == []


def test_passwords_in_targets_are_never_shown(client: TestClient, operator: dict[str, str]) -> None:
    client.post("/api/v1/ops/systems", json=system_body(), headers=operator)
    body = {
        "name": "库",
        "kind": "database",
        "target": "postgresql://probe:s3cret@10.1.1.5:5432/hr",
    }
    made = client.post("/api/v1/ops/systems/APP-ZHJT/probes", json=body, headers=operator)
    assert made.json()["target"] == "postgresql://probe:***@10.1.1.5:5432/hr"
    listed = client.get("/api/v1/ops/systems/APP-ZHJT/probes", headers=operator).text
    assert "s3cret" not in listed


def test_scheduler_status_is_visible(client: TestClient, operator: dict[str, str]) -> None:
    body = client.get("/api/v1/ops/scheduler", headers=operator).json()
    assert body["running"] is False  # switched off in these tests
    assert {j["name"] for j in body["jobs"]} >= {"ops.dispatch", "ops.upkeep"}
