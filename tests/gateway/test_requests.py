"""The whole life of a sharing request: 无条件 granted at once, 有条件 approved or rejected
before a deadline of working days, overdue, expiry, revocation, 不予共享 refused."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select, update

from cityhub.core.db import transaction
from cityhub.core.events import OutboxEvent
from cityhub.gateway import grants
from cityhub.gateway.models import Grant, SharingRequest
from cityhub.gateway.workdays import Calendar
from cityhub.security.models import AuditEvent, Role

from .conftest import Gw
from .helpers import LICENCE_ITEMS, LICENCES, PEOPLE, SECRET, problem


def _events(gw: Gw, prefix: str = "gateway.") -> list[tuple[str, dict[str, object]]]:
    with gw.db() as session:
        rows = session.scalars(
            select(OutboxEvent).where(OutboxEvent.topic.like(f"{prefix}%")).order_by(OutboxEvent.id)
        )
        return [(r.topic, json.loads(r.payload)) for r in rows]


def _audited(gw: Gw, action: str) -> list[AuditEvent]:
    with gw.db() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_unconditional_is_granted_at_once_and_recorded(gw: Gw) -> None:
    gw.publish(LICENCES, share_type="unconditional", items=LICENCE_ITEMS, rows=20)
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    made = gw.request(dev, app_id, LICENCES, items=["qymc", "tyshxydm"])
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["status"] == "granted"
    assert body["deadline"] is None
    assert body["grant"]["status"] == "active"
    assert body["grant"]["items"] == ["qymc", "tyshxydm"]
    assert body["ledger"]["event_id"] > 0  # the ledger's receipt of the creation event
    topics = [t for t, _ in _events(gw)]
    assert topics[-2:] == ["gateway.request.created", "gateway.grant.created"]
    assert _audited(gw, "gateway.request.create") and _audited(gw, "gateway.grant.create")
    rows = gw.client.get(f"/api/v1/resources/{LICENCES}/rows", headers=gw.key(dev, app_id))
    assert rows.status_code == 200
    assert len(rows.json()["items"]) == 20
    assert set(rows.json()["items"][0]) == {"qymc", "tyshxydm"}


def test_conditional_goes_to_the_providers_officers_who_approve(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    made = gw.request(dev, app_id, PEOPLE, items=["xm", "xzqh"])
    assert made.status_code == 201
    req = made.json()
    assert req["status"] == "pending"
    assert req["grant"] is None
    calendar = Calendar.from_settings(gw.settings)
    assert req["deadline"] == calendar.add_working_days(calendar.today(), 10).isoformat()
    assert req["working_days_left"] == 10
    key = gw.key(dev, app_id)
    problem(gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=key), 403, "has no grant")

    officer = gw.officer("LYGA")
    inbox = gw.client.get("/api/v1/requests?role=provider&status=pending", headers=officer)
    assert [r["id"] for r in inbox.json()["items"]] == [req["id"]]
    other = gw.person(Role.data_officer, org="LYMZ")
    assert gw.client.get("/api/v1/requests?role=provider", headers=other).json()["items"] == []

    approved = gw.client.post(
        f"/api/v1/requests/{req['id']}/approve", json={"reason": "符合条件"}, headers=officer
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["reason"] == "符合条件"
    assert body["decided_late"] is False
    assert body["grant"]["items"] == ["xm", "xzqh"]
    assert body["ledger"]["status"] in ("pending", "sequenced", "proven")
    topics = [t for t, _ in _events(gw)]
    assert topics[-3:] == [
        "gateway.request.created",
        "gateway.request.approved",
        "gateway.grant.created",
    ]
    assert _audited(gw, "gateway.request.approve")[0].actor != ""
    rows = gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=key)
    assert rows.status_code == 200
    assert rows.json()["fields"] == ["xm", "xzqh"]
    again = gw.client.post(f"/api/v1/requests/{req['id']}/approve", headers=officer)
    problem(again, 409, "already approved")


def test_rejection_needs_a_reason_and_grants_nothing(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    req = gw.request(dev, app_id, PEOPLE).json()
    officer = gw.officer("LYGA")
    no_reason = gw.client.post(f"/api/v1/requests/{req['id']}/reject", json={}, headers=officer)
    problem(no_reason, 422, "reason")
    rejected = gw.client.post(
        f"/api/v1/requests/{req['id']}/reject", json={"reason": "用途不明确"}, headers=officer
    )
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["grant"] is None
    assert _events(gw)[-1][0] == "gateway.request.rejected"
    assert _events(gw)[-1][1]["reason"] == "用途不明确"
    mine = gw.client.get("/api/v1/requests?role=applicant", headers=dev).json()["items"]
    assert mine[0]["reason"] == "用途不明确"


def test_not_shared_cannot_be_requested_and_says_the_legal_basis(gw: Gw) -> None:
    basis = "《中华人民共和国保守国家秘密法》第九条"
    gw.publish(SECRET, share_type="none", condition=basis, items=LICENCE_ITEMS)
    dev = gw.person(Role.developer)
    body = problem(gw.request(dev, gw.app(dev), SECRET), 422, "不予共享")
    assert body["legal_basis"] == basis
    assert basis in body["detail"]
    with gw.db() as session:
        assert session.scalar(select(SharingRequest.id)) is None  # nothing half-written


def test_overdue_requests_are_listed_and_counted_against_the_provider(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    late = gw.request(dev, app_id, PEOPLE).json()
    other_app = gw.app(dev, name="第二个应用")
    on_time = gw.request(dev, other_app, PEOPLE).json()
    with transaction(gw.db) as session:  # eleven working days ago: past its deadline
        calendar = Calendar.from_settings(gw.settings)
        past = calendar.add_working_days(calendar.today() - timedelta(days=30), 5)
        session.execute(
            update(SharingRequest).where(SharingRequest.id == late["id"]).values(deadline=past)
        )
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    overdue = gw.client.get("/api/v1/requests?overdue=true", headers=admin).json()["items"]
    assert [r["id"] for r in overdue] == [late["id"]]
    assert overdue[0]["overdue"] is True
    assert overdue[0]["working_days_left"] < 0
    not_overdue = gw.client.get("/api/v1/requests?overdue=false", headers=admin).json()
    assert [r["id"] for r in not_overdue["items"]] == [on_time["id"]]
    counts = gw.client.get("/api/v1/requests/overdue-by-provider", headers=admin).json()
    assert counts == [
        {
            "provider": "LYGA",
            "provider_name": "测试单位 LYGA",
            "pending": 2,
            "overdue": 1,
            "decided_late": 0,
        }
    ]
    officer = gw.officer("LYGA")
    decided = gw.client.post(f"/api/v1/requests/{late['id']}/approve", headers=officer).json()
    assert decided["decided_late"] is True
    counts = gw.client.get("/api/v1/requests/overdue-by-provider", headers=admin).json()
    assert (counts[0]["pending"], counts[0]["overdue"], counts[0]["decided_late"]) == (1, 0, 1)


def test_deadline_follows_the_working_days_setting(people: Gw) -> None:
    gw = people
    gw.settings.approval_working_days = 3
    calendar = Calendar.from_settings(gw.settings)
    dev = gw.person(Role.developer)
    req = gw.request(dev, gw.app(dev), PEOPLE).json()
    assert req["deadline"] == calendar.add_working_days(calendar.today(), 3).isoformat()


def test_grants_expire_once_and_access_ends(people: Gw) -> None:
    gw = people
    key, _app_id = gw.granted_key(PEOPLE)
    assert gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=key).status_code == 200
    with transaction(gw.db) as session:
        grant = session.scalars(select(Grant)).one()
        grant.expires_at = grant.starts_at  # its period is over
        grant_id = grant.id
    problem(gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=key), 403, "expired at")
    with transaction(gw.db) as session:
        assert grants.expire_due(session) == 1
    with transaction(gw.db) as session:
        assert grants.expire_due(session) == 0  # noted once
    expired = [p for t, p in _events(gw) if t == "gateway.grant.expired"]
    assert [p["grant_id"] for p in expired] == [grant_id]
    officer = gw.officer("LYGA")
    view = gw.client.get(f"/api/v1/grants/{grant_id}", headers=officer).json()
    assert view["status"] == "expired"
    listed = gw.client.get("/api/v1/grants?active=false", headers=officer).json()["items"]
    assert [g["id"] for g in listed] == [grant_id]
    assert gw.client.get("/api/v1/grants?active=true", headers=officer).json()["items"] == []
    stranger = gw.person(Role.data_officer, org="LYMZ")
    assert gw.client.get("/api/v1/grants", headers=stranger).json()["items"] == []


def test_revocation_ends_access_with_the_reason(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    officer = gw.officer("LYGA")
    with gw.db() as session:
        grant_id = session.scalars(select(Grant.id)).one()
    problem(
        gw.client.post(f"/api/v1/grants/{grant_id}/revoke", json={}, headers=officer), 422, "reason"
    )
    revoked = gw.client.post(
        f"/api/v1/grants/{grant_id}/revoke", json={"reason": "超范围使用"}, headers=officer
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert _events(gw)[-1][0] == "gateway.grant.revoked"
    with gw.db() as session:
        revoke_event = session.scalar(
            select(OutboxEvent.id).where(OutboxEvent.topic == "gateway.grant.revoked")
        )
    assert revoked.json()["ledger"]["event_id"] == revoke_event  # the ledger's receipt
    problem(
        gw.client.get(f"/api/v1/resources/{PEOPLE}/rows", headers=key), 403, "revoked (超范围使用)"
    )
    again = gw.client.post(
        f"/api/v1/grants/{grant_id}/revoke", json={"reason": "再次"}, headers=officer
    )
    problem(again, 409, "already revoked")
    assert len(_audited(gw, "gateway.grant.revoke")) == 1


def test_a_pending_request_can_be_withdrawn_but_not_duplicated(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    first = gw.request(dev, app_id, PEOPLE).json()
    problem(gw.request(dev, app_id, PEOPLE), 409, "still pending")
    withdrawn = gw.client.post(f"/api/v1/requests/{first['id']}/withdraw", headers=dev)
    assert withdrawn.json()["status"] == "withdrawn"
    assert gw.request(dev, app_id, PEOPLE).status_code == 201


def test_request_input_is_checked_precisely(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    problem(gw.request(dev, app_id, PEOPLE, items=["xm", "nope"]), 422, "no item 'nope'")
    problem(
        gw.request(dev, app_id, PEOPLE, items=["xm"], clear_items=["gmsfhm"]),
        422,
        "not among the requested",
    )
    problem(gw.request(dev, app_id, PEOPLE, items=["xb"], clear_items=["xb"]), 422, "is not masked")
    past = (date.today() - timedelta(days=400)).isoformat()
    problem(gw.request(dev, app_id, PEOPLE, period_start=past), 422, "in the past")
    problem(gw.request(dev, app_id, PEOPLE, period_end="2020-01-01"), 422, "period_end")
    problem(gw.request(dev, app_id, PEOPLE, colour="red"), 422, "colour")
    problem(gw.request(dev, app_id, "101001-LYGA-999999"), 404, "no resource")
    problem(gw.request(dev, 999, PEOPLE), 404, "no application")
    with gw.db() as session:
        assert session.scalar(select(SharingRequest.id)) is None


def test_clear_text_is_decided_by_the_provider(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    req = gw.request(dev, app_id, PEOPLE, clear_items=["gmsfhm", "xm"]).json()
    officer = gw.officer("LYGA")
    problem(
        gw.client.post(
            f"/api/v1/requests/{req['id']}/approve",
            json={"clear_items": ["lxdh"]},
            headers=officer,
        ),
        422,
        "were not asked",
    )
    approved = gw.client.post(
        f"/api/v1/requests/{req['id']}/approve", json={"clear_items": ["xm"]}, headers=officer
    ).json()
    assert approved["grant"]["clear_items"] == ["xm"]
    key = gw.key(dev, app_id)
    page = gw.client.get(f"/api/v1/resources/{PEOPLE}/rows?fields=xm,gmsfhm", headers=key).json()
    assert page["masked"] == ["gmsfhm"]
    assert "*" not in page["items"][0]["xm"]
    assert "********" in page["items"][0]["gmsfhm"]
