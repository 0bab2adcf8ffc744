"""Every data call is metered, batched, kept on a clean shutdown, and reported by scope."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from cityhub.app import create_app
from cityhub.gateway.models import UsageRecord
from cityhub.security.models import AuditEvent, Role

from .conftest import Gw
from .helpers import LICENCE_ITEMS, LICENCES, PEOPLE, problem

URL = f"/api/v1/resources/{PEOPLE}/rows"


def _usage(gw: Gw) -> list[UsageRecord]:
    with gw.db() as session:
        return list(session.scalars(select(UsageRecord).order_by(UsageRecord.id)))


def test_every_call_is_metered_with_its_outcome(people: Gw) -> None:
    gw = people
    gw.settings.meter_flush_seconds = 0
    key, app_id = gw.granted_key(PEOPLE, items=["xm", "xb"])
    ok = gw.client.get(f"{URL}?limit=7", headers=key)
    refused = gw.client.get(f"{URL}?fields=gmsfhm", headers=key)
    export = gw.client.get(f"{URL}?format=csv", headers=key)
    anonymous = gw.client.get(URL)
    records = _usage(gw)
    assert [(r.status, r.rows, r.endpoint) for r in records] == [
        (200, 7, "rows"),
        (403, 0, "rows"),
        (200, 250, "rows"),
        (401, 0, "rows"),
    ]
    assert records[0].bytes == len(ok.content)
    assert records[2].bytes == len(export.content)
    assert refused.status_code == 403 and anonymous.status_code == 401
    assert {r.application_id for r in records[:3]} == {app_id}
    assert records[3].application_id is None
    assert all(r.resource_code == PEOPLE and r.latency_ms > 0 for r in records)
    assert records[0].provider_id is not None
    # One audit row per call (written with the usage batch, not twice by the middleware).
    with gw.db() as session:
        audited = session.scalars(
            select(AuditEvent).where(AuditEvent.action == f"GET {URL}").order_by(AuditEvent.id)
        ).all()
    assert [(a.status, a.outcome) for a in audited] == [
        (200, "success"),
        (403, "denied"),
        (200, "success"),
        (401, "denied"),
    ]
    assert audited[0].actor != "anonymous" and audited[3].actor == "anonymous"
    assert "公民身份号码" in json.loads(audited[1].detail)["reason"]
    assert json.loads(audited[0].detail)["application_id"] == app_id


def test_batched_records_are_written_on_a_clean_shutdown(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    gw.settings.meter_flush_seconds = 60  # nothing written while serving
    with TestClient(create_app(gw.settings)) as other:
        for _ in range(5):
            assert other.get(f"{URL}?limit=2", headers=key).status_code == 200
        assert len([r for r in _usage(gw) if r.rows == 2]) < 5
    assert len([r for r in _usage(gw) if r.rows == 2]) == 5


def test_usage_is_reported_to_whom_it_concerns(people: Gw) -> None:
    gw = people
    gw.settings.meter_flush_seconds = 0
    gw.publish(LICENCES, share_type="unconditional", items=LICENCE_ITEMS, rows=5)
    people_key, people_app = gw.granted_key(PEOPLE)
    dev = gw.person(Role.developer, org="LYWL")
    licence_key, licence_app = gw.granted_key(LICENCES, dev=dev)
    gw.client.get(f"{URL}?limit=3", headers=people_key)
    gw.client.get(f"{URL}?limit=4", headers=people_key)
    gw.client.get(f"/api/v1/resources/{LICENCES}/rows", headers=licence_key)

    admin = gw.person(Role.platform_admin, org="LYZHYY")
    report = gw.client.get("/api/v1/usage?group_by=application,resource", headers=admin).json()
    assert [(i["application_id"], i["calls"], i["rows"]) for i in report["items"]] == [
        (people_app, 2, 7),
        (licence_app, 1, 5),
    ]
    assert report["totals"]["calls"] == 3
    assert report["items"][0]["application"] == "智慧交通出行服务"

    provider = gw.officer("LYGA")  # sees calls on its own resources only
    mine = gw.client.get("/api/v1/usage?group_by=resource", headers=provider).json()
    assert [(i["resource_code"], i["calls"]) for i in mine["items"]] == [(PEOPLE, 2)]
    developer = gw.client.get("/api/v1/usage?group_by=application", headers=dev).json()
    assert [i["application_id"] for i in developer["items"]] == [licence_app]
    by_day = gw.client.get("/api/v1/usage", headers=admin).json()
    assert len(by_day["items"]) == 1 and by_day["items"][0]["calls"] == 3

    viewer = gw.person(Role.viewer, org="LYGA")
    problem(gw.client.get("/api/v1/usage", headers=viewer), 403, "usage is shown to")
    problem(gw.client.get("/api/v1/usage?group_by=week", headers=admin), 422, "group_by")
    problem(
        gw.client.get("/api/v1/usage?since=2026-02-01&until=2026-01-01", headers=admin),
        422,
        "is after",
    )
