"""The operations console: system map, availability, incident board and incident, plan
library and plan, project board — in Chinese by default, English on request."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.ops import runner
from cityhub.ops.checks import CheckContext, CheckResult
from cityhub.ops.models import MonitoredSystem, Probe
from cityhub.ops.vocab import Outcome
from cityhub.security.models import Role

Auth = Callable[..., dict[str, str]]
PLAN = {
    "code": "YA-PA",
    "name": "智慧平安系统中断应急预案",
    "level": "II",
    "system": "APP-PA",
    "steps": [
        {"key": "confirm", "title": "确认告警"},
        {"key": "failover", "title": "切换备用链路", "depends_on": ["confirm"]},
    ],
    "contacts": [{"name": "值班室", "phone": "0539-8123100"}],
}


def test_the_console_pages_show_what_the_api_holds(
    client: TestClient,
    ctx: CheckContext,
    db: sessionmaker[Session],
    make_system: Callable[..., MonitoredSystem],
    make_probe: Callable[..., Probe],
    auth: Auth,
) -> None:
    system = make_system("APP-PA", criticality="critical")
    make_system("APP-OK", kind="industry_app")
    probe = make_probe(system, target="http://10.0.0.1/", failure_threshold=1)
    ops = auth(Role.operator, org_code="LYZHYY", username="duty")
    assert client.post("/api/v1/ops/plans", json=PLAN, headers=ops).status_code == 201
    runner.record(ctx, runner.spec_of(probe), CheckResult(Outcome.down, 5.0, "HTTP 502"))
    [incident] = client.get("/api/v1/ops/incidents", headers=ops).json()["items"]
    client.post(f"/api/v1/ops/incidents/{incident['id']}/steps/confirm", headers=ops)

    page = client.get("/ops", headers=ops)
    assert page.status_code == 200
    assert 'data-system="APP-PA" data-status="down"' in page.text
    assert "政务应用" in page.text and "产业应用" in page.text and "中断" in page.text
    assert 'data-count="open_incidents"><a href="/ops/incidents">1</a>' in page.text

    board = client.get("/ops/incidents", headers=ops).text
    assert f'data-incident="{incident["id"]}"' in board and "待响应" in board
    detail = client.get(f"/ops/incidents/{incident['id']}", headers=ops).text
    assert 'class="step done" data-step="confirm"' in detail
    assert 'class="step ready" data-step="failover"' in detail
    assert "HTTP 502" in detail
    assert client.get("/ops/incidents/424242", headers=ops).status_code == 404

    sla = client.get("/ops/availability", headers=ops).text
    assert 'data-testid="sla-table"' in sla and 'data-system="APP-PA"' in sla
    bad_month = client.get("/ops/availability?month=2026-99", headers=ops)
    assert bad_month.status_code == 400 and "YYYY-MM" in bad_month.text

    plans = client.get("/ops/plans", headers=ops).text
    assert 'data-plan="YA-PA"' in plans and "Ⅱ级" in plans
    plan = client.get("/ops/plans/YA-PA", headers=ops).text
    assert "切换备用链路" in plan and "0539-8123100" in plan
    assert client.get("/ops/projects", headers=ops).status_code == 200

    english = client.get("/ops?lang=en", headers=ops).text
    assert "Government applications" in english and "Systems at a glance" in english


def test_the_console_needs_a_login_and_a_fitting_role(client: TestClient, auth: Auth) -> None:
    anonymous = client.get("/ops/incidents?status=open", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=%2Fops%2Fincidents%3Fstatus%3Dopen"
    developer = client.get("/ops/incidents", headers=auth(Role.developer))
    assert developer.status_code == 403
