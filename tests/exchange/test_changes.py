"""Change delivery: the pull feed (ordered, at least once, masked by the grant) and signed
webhooks with retries and a dead-letter list, against a local HTTP server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from cityhub.exchange import webhooks
from cityhub.exchange.models import WebhookDelivery
from cityhub.security.models import Role

from .conftest import HEADER, PEOPLE, World, id_number, people_csv, person_row
from .helpers import problem


def granted_key(world: World, items: list[str] | None = None) -> tuple[dict[str, str], int]:
    dev = world.auth(Role.developer, org_code="LYJT")
    made = world.client.post(
        "/api/v1/applications",
        json={"name": "出行服务", "purpose": "出行", "contact_phone": "13812345678"},
        headers=dev,
    )
    assert made.status_code == 201, made.text
    app_id = made.json()["id"]
    body: dict[str, Any] = {
        "application_id": app_id,
        "resource_code": PEOPLE,
        "purpose": "交通出行分析",
        "period_end": (date.today() + timedelta(days=90)).isoformat(),
    }
    if items is not None:
        body["items"] = items
    request = world.client.post("/api/v1/requests", json=body, headers=dev)
    assert request.status_code == 201, request.text
    if request.json()["status"] == "pending":
        decided = world.client.post(
            f"/api/v1/requests/{request.json()['id']}/approve", json={}, headers=world.officer()
        )
        assert decided.status_code == 200, decided.text
    key = world.client.post(f"/api/v1/applications/{app_id}/keys", headers=dev)
    return {"Authorization": f"Bearer {key.json()['key']}"}, app_id


def _feed(world: World, headers: dict[str, str], since: str | None = None, limit: int = 500) -> Any:
    params: dict[str, Any] = {"limit": limit}
    if since is not None:
        params["since"] = since
    response = world.client.get(
        f"/api/v1/resources/{PEOPLE}/changes", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_change_feed_is_ordered_resumable_and_masked(world: World) -> None:
    key, _ = granted_key(world, items=["sfzh", "xm", "nl"])
    world.deliver(people_csv(3))
    first = _feed(world, key, limit=2)
    assert [c["seq"] for c in first["items"]] == [1, 2]
    assert first["last_seq"] == 3
    rest = _feed(world, key, since=first["next"])
    assert [c["seq"] for c in rest["items"]] == [3]
    change = rest["items"][0]
    assert change["op"] == "upsert"
    assert set(change["row"]) == {"sfzh", "xm", "nl"}  # only the granted items
    assert change["row"]["sfzh"].startswith("371302") and "*" in change["row"]["sfzh"]
    assert change["key"] != id_number(3) and "*" in change["key"]  # masked like its item
    assert len(change["key_ref"]) == 32
    # at least once: asking again from the same cursor gives the same changes
    assert _feed(world, key, since=first["next"])["items"] == rest["items"]
    # later changes come after, in commit order; deletions are told as such
    world.deliver("_op,sfzh,xm\ndelete," + id_number(1) + ",张三\n", filename="d.csv")
    later = _feed(world, key, since=rest["next"])
    assert [c["seq"] for c in later["items"]] == [4]
    assert later["items"][0]["op"] == "delete"
    assert later["items"][0]["row"] is None
    assert later["items"][0]["key_ref"] == first["items"][0]["key_ref"]
    assert _feed(world, key, since=later["next"])["items"] == []
    # an update comes as a new change carrying the row as it is now
    world.deliver(HEADER + "\n" + person_row(2, xm="李四") + "\n", filename="u.csv")
    updated = _feed(world, key, since=later["next"])["items"]
    assert [c["seq"] for c in updated] == [5]
    assert updated[0]["row"]["xm"] == "李*"  # masked by the grant's rule


def test_the_feed_needs_a_grant(world: World) -> None:
    world.deliver(people_csv(1))
    stranger = world.auth(Role.developer, org_code="LYJT")
    problem(world.client.get(f"/api/v1/resources/{PEOPLE}/changes", headers=stranger), 403, "grant")
    own = world.client.get(f"/api/v1/resources/{PEOPLE}/changes", headers=world.officer())
    assert own.status_code == 200
    assert own.json()["items"][0]["key"] == id_number(1)  # the provider sees its data in clear
    bad = world.client.get(
        f"/api/v1/resources/{PEOPLE}/changes",
        params={"since": "garbage!"},
        headers=own.request.headers,
    )
    assert bad.status_code == 400


class _Receiver:
    """A local webhook receiver: fails the first `fail` calls, records every body."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.calls: list[tuple[bytes, dict[str, str]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((body, dict(self.headers)))
                code = 503 if len(receiver.calls) <= receiver.fail else 204
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    made = _Receiver()
    yield made
    made.close()


def _subscribe(world: World, app_id: int, url: str) -> dict[str, Any]:
    dev_org_officer = world.auth(Role.developer, org_code="LYJT")
    made = world.client.post(
        "/api/v1/subscriptions",
        json={"application_id": app_id, "resource_code": PEOPLE, "url": url},
        headers=dev_org_officer,
    )
    assert made.status_code == 201, made.text
    return {"body": made.json(), "headers": dev_org_officer}


def _dispatch(world: World, **kwargs: Any) -> int:
    factory = world.client.app.state.sessions  # type: ignore[attr-defined]
    with httpx.Client() as http:
        return webhooks.dispatch(factory, world.settings, client=http, **kwargs)


def test_webhooks_are_signed_and_carry_the_changes(world: World, receiver: _Receiver) -> None:
    _, app_id = granted_key(world)
    sub = _subscribe(world, app_id, receiver.url)
    secret = sub["body"]["secret"]
    world.deliver(people_csv(2))
    assert _dispatch(world) == 1
    body, headers = receiver.calls[0]
    assert headers["X-CityHub-Signature"] == webhooks.sign(secret, body)
    assert webhooks.verify(secret, body, headers["X-CityHub-Signature"])
    assert not webhooks.verify("wrong", body, headers["X-CityHub-Signature"])
    document = json.loads(body)
    assert [c["seq"] for c in document["changes"]] == [1, 2]
    assert document["resource_code"] == PEOPLE
    assert _dispatch(world) == 0  # nothing new


def test_failed_webhooks_retry_with_backoff_then_dead_letter(world: World) -> None:
    receiver = _Receiver(fail=100)
    try:
        world.settings.exchange_webhook_max_attempts = 3
        _, app_id = granted_key(world)
        sub = _subscribe(world, app_id, receiver.url)
        world.deliver(people_csv(1))
        factory = world.client.app.state.sessions  # type: ignore[attr-defined]
        assert _dispatch(world) == 1
        with factory() as session:
            delivery = session.query(WebhookDelivery).one()
            first_retry = delivery.next_attempt_at
            assert delivery.attempts == 1 and delivery.status.value == "pending"
        assert _dispatch(world) == 0  # not due yet: backoff
        from cityhub.core.db import utcnow

        _dispatch(world, now=utcnow() + timedelta(hours=2))
        with factory() as session:
            delivery = session.query(WebhookDelivery).one()
            assert delivery.attempts == 2
            assert (delivery.next_attempt_at - first_retry) >= timedelta(seconds=1)
        _dispatch(world, now=utcnow() + timedelta(hours=4))
        dead = world.client.get(
            f"/api/v1/subscriptions/{sub['body']['id']}/dead-letters", headers=sub["headers"]
        ).json()
        assert len(dead) == 1 and dead[0]["attempts"] == 3
        assert "HTTP 503" in dead[0]["last_error"]
        assert len(receiver.calls) == 3
        receiver.fail = 0
        redo = world.client.post(
            f"/api/v1/subscriptions/{sub['body']['id']}/dead-letters/{dead[0]['id']}/redeliver",
            headers=sub["headers"],
        )
        assert redo.status_code == 200, redo.text
        assert _dispatch(world) == 1
        assert len(receiver.calls) == 4
        assert (
            world.client.get(
                f"/api/v1/subscriptions/{sub['body']['id']}/dead-letters", headers=sub["headers"]
            ).json()
            == []
        )
    finally:
        receiver.close()


def test_a_subscription_needs_a_grant(world: World, receiver: _Receiver) -> None:
    dev = world.auth(Role.developer, org_code="LYJT")
    made = world.client.post(
        "/api/v1/applications",
        json={"name": "无授权应用", "purpose": "x", "contact_phone": "13812345678"},
        headers=dev,
    )
    refused = world.client.post(
        "/api/v1/subscriptions",
        json={"application_id": made.json()["id"], "resource_code": PEOPLE, "url": receiver.url},
        headers=dev,
    )
    problem(refused, 403, "grant")
