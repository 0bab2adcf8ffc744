"""Alarm rules: thresholds, rate of change, no data; per profile or device; lifecycle and
de-duplication; events on the bus; signed webhooks with retries."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.core.events import OutboxEvent
from cityhub.security.models import Role
from cityhub.sensing import alarms, webhooks
from cityhub.sensing.models import Webhook, WebhookDelivery
from cityhub.settings import Settings

from .helpers import now_ms, problem, register, send

Auth = Callable[..., dict[str, str]]


def _rule(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post("/api/v1/alarm-rules", json={"name": "rule", **body}, headers=headers)
    assert answer.status_code == 201, answer.text
    rule: dict[str, Any] = answer.json()
    return rule


def _alarms(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/alarms", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def _topics(db: sessionmaker[Session]) -> list[tuple[str, dict[str, Any]]]:
    with db() as session:
        rows = session.execute(
            select(OutboxEvent.topic, OutboxEvent.payload)
            .where(OutboxEvent.topic.like("sensing.alarm.%"))
            .order_by(OutboxEvent.id)
        ).all()
    return [(topic, json.loads(payload)) for topic, payload in rows]


def test_threshold_lifecycle_with_deduplication_and_events(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    _rule(
        client,
        operator,
        profile="air-quality-station",
        kind="threshold",
        metric="pm25",
        op=">",
        value=150,
        clear_value=115,
        severity="major",
    )
    token = register(client, operator, "AQ-A")
    t = now_ms()

    def reading(offset_s: int, value: float) -> None:
        send(client, token, {"ts": t + offset_s * 1000 - 600_000, "values": {"pm25": value}})

    reading(0, 80)
    assert _alarms(client, operator) == []
    reading(60, 180)
    reading(120, 210)
    reading(180, 130)  # below the threshold but above clear_value: still open
    (alarm,) = _alarms(client, operator)
    assert alarm["state"] == "raised" and alarm["occurrences"] == 2 and alarm["value"] == 210
    assert alarm["device"] == "AQ-A" and alarm["region"] == "371302"
    acked = client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=operator).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "ops"
    reading(240, 100)  # recovered
    assert _alarms(client, operator, open=True) == []
    assert _alarms(client, operator)[0]["state"] == "cleared"
    reading(300, 400)  # a new episode is a new alarm
    assert [a["state"] for a in _alarms(client, operator)] == ["raised", "cleared"]
    events = _topics(db)
    assert [topic for topic, _ in events] == [
        "sensing.alarm.raised",
        "sensing.alarm.acknowledged",
        "sensing.alarm.cleared",
        "sensing.alarm.raised",
    ]
    assert events[0][1]["message"] == "pm25 180 > 150" and events[0][1]["organization"] == "LYZHYY"
    problem(
        client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=operator),
        409,
        "already cleared",
    )


def test_rate_of_change_and_device_rules_override_profile_rules(
    client: TestClient, operator: dict[str, str]
) -> None:
    _rule(
        client,
        operator,
        profile="water-level-gauge",
        kind="rate_of_change",
        metric="level_m",
        value=0.5,
        severity="major",
    )
    _rule(
        client,
        operator,
        profile="water-level-gauge",
        kind="threshold",
        metric="level_m",
        op=">",
        value=4.5,
    )
    steady = register(client, operator, "WL-1", profile="water-level-gauge")
    calm = register(client, operator, "WL-2", profile="water-level-gauge")
    _rule(client, operator, device="WL-2", kind="threshold", metric="level_m", op=">", value=9)
    t = now_ms() - 600_000
    send(client, steady, {"points": [{"ts": t, "values": {"level_m": 2.0}}]})
    send(client, steady, {"points": [{"ts": t + 60_000, "values": {"level_m": 2.3}}]})
    assert _alarms(client, operator) == []  # 0.3 m/min is within the limit
    send(client, steady, {"points": [{"ts": t + 120_000, "values": {"level_m": 4.8}}]})
    kinds = sorted(a["kind"] for a in _alarms(client, operator, device="WL-1"))
    assert kinds == ["rate_of_change", "threshold"]
    send(client, calm, {"ts": t, "values": {"level_m": 5.0}})  # above 4.5; its own rule: 9
    assert _alarms(client, operator, device="WL-2") == []
    send(client, calm, {"ts": t + 600_000, "values": {"level_m": 9.5}})  # 0.45 m/min
    (own,) = _alarms(client, operator, device="WL-2")
    assert own["message"] == "level_m 9.5 > 9"


def test_no_data_alarm_raised_by_the_sweep_and_cleared_by_data(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    _rule(client, operator, profile="camera", kind="no_data", window_s=120, severity="major")
    token = register(client, operator, "CAM-1", profile="camera")
    register(client, operator, "CAM-2", profile="camera")
    client.patch("/api/v1/devices/CAM-2", json={"mode": "maintenance"}, headers=operator)
    send(client, token, {"values": {"online": 1, "fps": 25}})
    with transaction(db) as session:
        assert alarms.sweep_no_data(session) == 0  # just reported
    later = datetime.now(UTC) + timedelta(minutes=5)
    with transaction(db) as session:
        assert alarms.sweep_no_data(session, later) == 1  # CAM-2 is in maintenance
    with transaction(db) as session:
        assert alarms.sweep_no_data(session, later) == 0  # de-duplicated
    (alarm,) = _alarms(client, operator, open=True)
    assert alarm["device"] == "CAM-1" and alarm["message"].startswith("no any data for 120 s")
    send(client, token, {"values": {"online": 1}})
    assert _alarms(client, operator, open=True) == []


def test_permissions_and_manual_clear(
    client: TestClient, auth: Auth, operator: dict[str, str], env_officer: dict[str, str]
) -> None:
    police = auth(Role.dept_admin, org_code="LYGA")
    problem(
        client.post(
            "/api/v1/alarm-rules",
            json={"name": "x", "profile": "camera", "kind": "no_data", "window_s": 60},
            headers=env_officer,
        ),
        403,
        "profile-wide rules",
    )
    token = register(client, env_officer, "AQ-P")
    _rule(client, env_officer, device="AQ-P", kind="threshold", metric="pm25", op=">", value=1)
    send(client, token, {"values": {"pm25": 5}})
    (alarm,) = _alarms(client, police)  # everyone logged in may read
    problem(
        client.post(f"/api/v1/alarms/{alarm['id']}/acknowledge", headers=police), 403, "may not"
    )
    cleared = client.post(f"/api/v1/alarms/{alarm['id']}/clear", headers=env_officer).json()
    assert cleared["state"] == "cleared"
    bad = {
        "name": "x",
        "device": "AQ-P",
        "kind": "threshold",
        "metric": "voltage_v",
        "op": ">",
        "value": 1,
    }
    problem(client.post("/api/v1/alarm-rules", json=bad, headers=env_officer), 422, "voltage_v")
    both = {"name": "x", "device": "AQ-P", "profile": "camera", "kind": "no_data", "window_s": 60}
    problem(client.post("/api/v1/alarm-rules", json=both, headers=operator), 422, "exactly one")
    problem(client.get("/api/v1/alarms/999", headers=operator), 404, "no alarm with id 999")


class _Receiver(BaseHTTPRequestHandler):
    fail_first = 1
    seen: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).seen.append((dict(self.headers), body))
        failing = len(type(self).seen) <= type(self).fail_first
        self.send_response(500 if failing else 204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"seen": [], "fail_first": 1})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()
    server.server_close()


def test_signed_webhooks_are_retried_with_backoff(
    client: TestClient,
    operator: dict[str, str],
    db: sessionmaker[Session],
    settings: Settings,
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    created = client.post(
        "/api/v1/alarm-webhooks", json={"url": url, "name": "值班系统"}, headers=operator
    ).json()
    secret = created["secret"]
    assert "secret" not in client.get("/api/v1/alarm-webhooks", headers=operator).json()[0]
    with db() as session:  # kept SM4-encrypted, never in clear
        stored = session.scalars(select(Webhook.secret)).one()
    assert stored.startswith("sm4:1:") and secret not in stored
    assert webhooks.unseal(settings, stored) == secret
    _rule(
        client,
        operator,
        profile="smart-meter",
        kind="threshold",
        metric="voltage_v",
        op="<",
        value=198,
    )
    token = register(client, operator, "EM-1", profile="smart-meter")
    send(client, token, {"values": {"voltage_v": 185}})

    now = datetime.now(UTC)
    assert (
        webhooks.deliver_due(db, settings, max_attempts=5, now=now) == 0
    )  # the receiver fails once
    with db() as session:
        row = session.scalars(select(WebhookDelivery)).one()
        assert (row.status, row.attempts, row.last_status) == ("pending", 1, 500)
        due = (
            row.next_attempt_at.replace(tzinfo=UTC)
            if row.next_attempt_at.tzinfo is None
            else row.next_attempt_at
        )
    assert due - now == webhooks.backoff(1) == timedelta(seconds=5)
    assert webhooks.deliver_due(db, settings, max_attempts=5, now=now) == 0  # not yet due
    assert webhooks.deliver_due(db, settings, max_attempts=5, now=due) == 1
    (first_headers, first_body), (headers, body) = handler.seen
    assert (
        first_body == body and first_headers["X-CityHub-Delivery"] == headers["X-CityHub-Delivery"]
    )
    assert headers["X-CityHub-Event"] == "sensing.alarm.raised"
    assert webhooks.verify(
        secret, headers["X-CityHub-Timestamp"], body, headers["X-CityHub-Signature"]
    )
    assert not webhooks.verify(
        "wrong", headers["X-CityHub-Timestamp"], body, headers["X-CityHub-Signature"]
    )
    doc = json.loads(body)
    assert doc["event"] == "sensing.alarm.raised" and doc["data"]["device"] == "EM-1"
    deliveries = client.get(
        f"/api/v1/alarm-webhooks/{created['id']}/deliveries", headers=operator
    ).json()
    assert deliveries[0]["status"] == "delivered" and deliveries[0]["attempts"] == 2
    assert [webhooks.backoff(n).total_seconds() for n in (1, 2, 3, 12)] == [5, 10, 20, 3600]


def test_webhook_gives_up_after_the_last_attempt(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session], settings: Settings
) -> None:
    client.post("/api/v1/alarm-webhooks", json={"url": "http://127.0.0.1:9/none"}, headers=operator)
    _rule(
        client,
        operator,
        profile="smart-meter",
        kind="threshold",
        metric="voltage_v",
        op="<",
        value=198,
    )
    token = register(client, operator, "EM-2", profile="smart-meter")
    send(client, token, {"values": {"voltage_v": 150}})
    moment = datetime.now(UTC)
    for _ in range(2):
        webhooks.deliver_due(db, settings, max_attempts=2, now=moment)
        moment += timedelta(hours=2)
    with db() as session:
        row = session.scalars(select(WebhookDelivery)).one()
    assert (row.status, row.attempts, row.last_status) == ("failed", 2, None)
    assert "ConnectError" in row.last_error
