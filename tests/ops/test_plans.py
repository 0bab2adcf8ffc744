"""Emergency plans: steps form a DAG (cycles refused, naming the cycle), the best plan is
attached to a matching incident, its steps are recorded in dependency order, drills kept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.ops import runner
from cityhub.ops.checks import CheckContext, CheckResult
from cityhub.ops.dag import order_keys
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.ops.vocab import Outcome
from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]
MakeSystem = Callable[..., MonitoredSystem]


def steps(*pairs: tuple[str, list[str]]) -> list[dict[str, Any]]:
    return [{"key": k, "title": f"步骤 {k}", "depends_on": deps} for k, deps in pairs]


def plan_body(code: str = "YA-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": "系统中断应急预案",
        "level": "II",
        "event_kinds": ["outage"],
        "steps": steps(
            ("review", ["verify", "notify"]),
            ("confirm", []),
            ("notify", ["confirm"]),
            ("failover", ["confirm"]),
            ("verify", ["failover"]),
        ),
        "contacts": [
            {"name": "值班室", "phone": "0539-8123100"},
            {"name": "王工", "phone": "+86 138 0539 1234", "role": "指挥长"},
        ],
    }
    return {**body, **extra}


@pytest.fixture
def ops_headers(auth: Auth) -> dict[str, str]:
    return auth(Role.operator, org_code="LYZHYY", username="duty")


def test_steps_come_back_in_dependency_order(
    client: TestClient, ops_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/ops/plans", json=plan_body(), headers=ops_headers)
    assert response.status_code == 201, response.text
    keys = [s["key"] for s in response.json()["steps"]]
    assert keys == ["confirm", "notify", "failover", "verify", "review"]
    assert response.json()["contacts"][1]["phone"] == "+86 138 0539 1234"


@pytest.mark.parametrize(
    ("plan_steps", "message"),
    [
        (steps(("a", ["b"]), ("b", ["c"]), ("c", ["a"])), "steps form a cycle: a → b → c → a"),
        (
            steps(("start", []), ("a", ["start", "b"]), ("b", ["a"])),
            "steps form a cycle: a → b → a",
        ),
        (steps(("a", ["a"])), "step 'a' depends on itself"),
        (steps(("a", ["ghost"])), "step 'a' depends on 'ghost', which is not a step"),
        (steps(("a", []), ("a", [])), "step key 'a' is used twice"),
    ],
)
def test_bad_step_graphs_are_refused_precisely(
    client: TestClient, ops_headers: dict[str, str], plan_steps: list[dict[str, Any]], message: str
) -> None:
    response = client.post(
        "/api/v1/ops/plans", json=plan_body(steps=plan_steps), headers=ops_headers
    )
    assert response.status_code == 422
    assert message in response.text


def test_other_bad_plans(client: TestClient, ops_headers: dict[str, str]) -> None:
    no_scope = plan_body(event_kinds=[])
    response = client.post("/api/v1/ops/plans", json=no_scope, headers=ops_headers)
    assert response.status_code == 422 and "a plan covers one system" in response.text
    bad_phone = plan_body(contacts=[{"name": "x", "phone": "1234"}])
    response = client.post("/api/v1/ops/plans", json=bad_phone, headers=ops_headers)
    assert response.status_code == 422 and "'1234' is not a phone number" in response.text
    bad_level = plan_body(level="V")
    assert client.post("/api/v1/ops/plans", json=bad_level, headers=ops_headers).status_code == 422
    client.post("/api/v1/ops/plans", json=plan_body(), headers=ops_headers)
    again = client.post("/api/v1/ops/plans", json=plan_body(), headers=ops_headers)
    assert again.status_code == 409
    cycle = {"steps": steps(("a", ["b"]), ("b", ["a"]))}
    patch = client.patch("/api/v1/ops/plans/YA-1", json=cycle, headers=ops_headers)
    assert patch.status_code == 422 and "cycle" in patch.text
    renamed = client.patch("/api/v1/ops/plans/YA-1", json={"name": "新名称"}, headers=ops_headers)
    assert renamed.json()["version"] == 2 and renamed.json()["name"] == "新名称"


def test_order_keys_is_stable_for_independent_steps() -> None:
    assert order_keys([("c", []), ("a", []), ("b", ["c"])]) == ["c", "a", "b"]


def test_a_matching_incident_follows_the_plan_step_by_step(
    client: TestClient, make_system: MakeSystem, ops_headers: dict[str, str]
) -> None:
    make_system("APP-PA", criticality="critical")
    make_system("APP-NY", criticality="low")
    # A general plan for outages of critical systems, and one for APP-PA itself.
    general = plan_body("YA-CORE", level="I", min_criticality="critical")
    client.post("/api/v1/ops/plans", json=general, headers=ops_headers)
    own = plan_body("YA-PA", level="III", system="APP-PA", event_kinds=[])
    client.post("/api/v1/ops/plans", json=own, headers=ops_headers)

    pa = client.post(
        "/api/v1/ops/incidents",
        json={"system": "APP-PA", "title": "中断 中断"},
        headers=ops_headers,
    ).json()
    assert pa["plan"]["code"] == "YA-PA"  # the system's own plan comes first
    ny = client.post(
        "/api/v1/ops/incidents",
        json={"system": "APP-NY", "title": "中断 中断"},
        headers=ops_headers,
    ).json()
    assert ny["plan"] is None and ny["steps"] == []  # low criticality: no plan applies

    url = f"/api/v1/ops/incidents/{pa['id']}/steps"
    early = client.post(f"{url}/verify", headers=ops_headers)
    assert (
        early.status_code == 409 and early.json()["detail"] == "step 'verify' waits for: failover"
    )
    done = client.post(f"{url}/confirm", json={"note": "已确认"}, headers=ops_headers).json()
    assert done["done_by"] == "duty" and done["note"] == "已确认"
    twice = client.post(f"{url}/confirm", headers=ops_headers)
    assert twice.status_code == 409 and "already done by duty" in twice.json()["detail"]
    assert client.post(f"{url}/nope", headers=ops_headers).status_code == 404
    detail = client.get(f"/api/v1/ops/incidents/{pa['id']}", headers=ops_headers).json()
    state = {s["key"]: (s["done_at"] is not None, s["ready"]) for s in detail["steps"]}
    assert state == {
        "confirm": (True, True),
        "notify": (False, True),
        "failover": (False, True),
        "verify": (False, False),
        "review": (False, False),
    }
    assert detail["timeline"][-1]["action"] == "step_done"
    none = client.post(f"/api/v1/ops/incidents/{ny['id']}/steps/confirm", headers=ops_headers)
    assert none.status_code == 409 and "follows no emergency plan" in none.json()["detail"]
    attached = client.put(
        f"/api/v1/ops/incidents/{ny['id']}/plan", json={"plan": "YA-CORE"}, headers=ops_headers
    )
    assert attached.json()["plan"]["code"] == "YA-CORE" and len(attached.json()["steps"]) == 5


def test_an_incident_from_a_probe_gets_the_plan_for_its_kind_of_event(
    ctx: CheckContext,
    db: sessionmaker[Session],
    client: TestClient,
    make_system: MakeSystem,
    ops_headers: dict[str, str],
) -> None:
    system = make_system("IOT-NET", kind="sensing")
    stale = plan_body(
        "YA-IOT", level="III", event_kinds=["device_offline"], system_kinds=["sensing"]
    )
    assert client.post("/api/v1/ops/plans", json=stale, headers=ops_headers).status_code == 201
    with transaction(db) as session:
        probe = Probe(
            system_id=system.id,
            name="在线率",
            kind="device_online",
            target="*",
            params={},
            interval_seconds=60,
            timeout_seconds=5,
            failure_threshold=1,
            next_run_at=system.created_at,
        )
        session.add(probe)
        session.flush()
        probe.system = session.get(MonitoredSystem, system.id)  # type: ignore[assignment]
        spec = runner.spec_of(probe)
    runner.record(ctx, spec, CheckResult(Outcome.down, None, "10 of 100 devices online"))
    [incident] = client.get("/api/v1/ops/incidents", headers=ops_headers).json()["items"]
    assert incident["event_kind"] == "device_offline" and incident["plan"]["code"] == "YA-IOT"


def test_drills_are_recorded_never_in_the_future(
    client: TestClient, ops_headers: dict[str, str], auth: Auth
) -> None:
    client.post("/api/v1/ops/plans", json=plan_body(), headers=ops_headers)
    drill = {
        "held_on": str(date.today() - timedelta(days=3)),
        "scenario": "模拟核心交换机故障",
        "participants": 12,
        "duration_minutes": 40,
        "outcome": "partial",
        "findings": "切换耗时超出目标",
    }
    made = client.post("/api/v1/ops/plans/YA-1/drills", json=drill, headers=ops_headers)
    assert made.status_code == 201 and made.json()["recorded_by"] == "duty"
    future = {**drill, "held_on": str(date.today() + timedelta(days=30))}
    refused = client.post("/api/v1/ops/plans/YA-1/drills", json=future, headers=ops_headers)
    assert refused.status_code == 422 and "is in the future" in refused.json()["detail"]
    plan = client.get("/api/v1/ops/plans/YA-1", headers=ops_headers).json()
    assert plan["drills"] == 1 and plan["last_drill_on"] == drill["held_on"]
    listed = client.get("/api/v1/ops/plans?event_kind=outage", headers=auth(Role.viewer)).json()
    assert [p["code"] for p in listed["items"]] == ["YA-1"]
    assert (
        client.get("/api/v1/ops/plans?event_kind=security", headers=ops_headers).json()["items"]
        == []
    )
