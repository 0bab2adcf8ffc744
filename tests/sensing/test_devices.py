"""The device registry: registration, tokens, filters, status, permissions, CSV import."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import OutboxEvent
from cityhub.security.models import Role
from cityhub.sensing.models import Device

from .helpers import bearer, now_ms, problem, register, send

Auth = Callable[..., dict[str, str]]
HEDONG_WGS = (118.402, 35.089)  # Hedong District (371312)


def test_register_shows_the_token_once_and_stores_only_its_digest(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-001", install_date="2025-06-01", address="沂蒙路")
    assert token.startswith("cdt_")
    shown = client.get("/api/v1/devices/AQ-001", headers=operator).json()
    assert "token" not in shown and shown["install_date"] == "2025-06-01"
    assert shown["region_code"] == "371302" and shown["status"] == "offline"
    with db() as session:
        row = session.scalar(select(Device).where(Device.code == "AQ-001"))
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in json.dumps([row.token_prefix, row.token_hash])
        events = session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.topic.like("sensing.device.%"))
        ).all()
    assert "sensing.device.registered" in events


def test_rotating_the_token_retires_the_old_one(
    client: TestClient, operator: dict[str, str]
) -> None:
    old = register(client, operator, "AQ-002")
    new = client.post("/api/v1/devices/AQ-002/token", headers=operator).json()["token"]
    assert new != old
    problem(send(client, old, {"values": {"pm25": 10}}), 401, "unknown device token")
    assert send(client, new, {"values": {"pm25": 10}}).status_code == 200


def test_filters_by_kind_organization_region_and_status(
    client: TestClient, operator: dict[str, str], env_officer: dict[str, str]
) -> None:
    air = register(client, env_officer, "AQ-010")
    register(
        client, operator, "CAM-010", profile="camera", lonlat=HEDONG_WGS, organization="LYSTHJ"
    )
    register(client, operator, "EM-010", profile="smart-meter", lonlat=HEDONG_WGS)
    send(client, air, {"values": {"pm25": 20}})

    def codes(**params: str) -> list[str]:
        answer = client.get("/api/v1/devices", params=params, headers=operator)
        assert answer.status_code == 200, answer.text
        return [d["code"] for d in answer.json()["items"]]

    assert codes() == ["AQ-010", "CAM-010", "EM-010"]
    assert codes(kind="camera") == ["CAM-010"]
    assert codes(organization="LYSTHJ") == ["AQ-010", "CAM-010"]
    assert codes(region="371312") == ["CAM-010", "EM-010"]
    assert codes(status="online") == ["AQ-010"]
    assert codes(status="offline") == ["CAM-010", "EM-010"]
    assert codes(q="EM-") == ["EM-010"]
    first = client.get("/api/v1/devices", params={"limit": 2}, headers=operator).json()
    rest = client.get(
        "/api/v1/devices", params={"limit": 2, "cursor": first["next"]}, headers=operator
    ).json()
    assert [d["code"] for d in first["items"] + rest["items"]] == codes() and rest["next"] is None
    problem(client.get("/api/v1/devices?status=asleep", headers=operator), 422, "status")
    problem(client.get("/api/v1/devices?organization=NOPE", headers=operator), 422, "NOPE")


def test_status_online_offline_fault_maintenance(
    client: TestClient, operator: dict[str, str], db: sessionmaker[Session]
) -> None:
    token = register(client, operator, "AQ-020")

    def status() -> str:
        return str(client.get("/api/v1/devices/AQ-020", headers=operator).json()["status"])

    assert status() == "offline"  # never seen
    send(client, token, {"values": {"pm25": 12}})
    assert status() == "online"
    fault = {"state": "fault", "code": "E12", "message": "fan stopped"}
    client.post("/api/v1/telemetry/status", json=fault, headers=bearer(token))
    detail = client.get("/api/v1/devices/AQ-020", headers=operator).json()
    assert (detail["status"], detail["fault_code"]) == ("fault", "E12")
    client.post("/api/v1/telemetry/status", json={"state": "ok"}, headers=bearer(token))
    assert status() == "online"
    patched = client.patch("/api/v1/devices/AQ-020", json={"mode": "maintenance"}, headers=operator)
    assert patched.json()["status"] == "maintenance"
    client.patch("/api/v1/devices/AQ-020", json={"mode": "active"}, headers=operator)
    # Silence longer than the profile allows (3 intervals): offline, computed, no job needed.
    with transaction(db) as session:
        session.execute(
            update(Device)
            .where(Device.code == "AQ-020")
            .values(offline_after=utcnow() - timedelta(seconds=1))
        )
    assert status() == "offline"
    with db() as session:
        changes = [
            json.loads(p)
            for p in session.scalars(
                select(OutboxEvent.payload)
                .where(OutboxEvent.topic == "sensing.device.status_changed")
                .order_by(OutboxEvent.id)
            )
        ]
    assert [c["to"] for c in changes] == ["online", "fault", "online", "maintenance", "online"]


def test_a_last_will_marks_the_device_offline_at_once(
    client: TestClient, operator: dict[str, str]
) -> None:
    token = register(client, operator, "CAM-030", profile="camera")
    send(client, token, {"values": {"online": 1, "fps": 25}})
    client.post("/api/v1/telemetry/status", json={"state": "offline"}, headers=bearer(token))
    assert client.get("/api/v1/devices/CAM-030", headers=operator).json()["status"] == "offline"


def test_who_may_register_and_change(
    client: TestClient, auth: Auth, operator: dict[str, str], env_officer: dict[str, str]
) -> None:
    viewer = auth(Role.viewer, org_code="LYSTHJ")
    police = auth(Role.dept_admin, org_code="LYGA")
    body = {"code": "AQ-040", "name": "站", "profile": "air-quality-station"}
    problem(client.post("/api/v1/devices", json=body, headers=viewer), 403, "may not register")
    other = body | {"organization": "LYSTHJ"}
    problem(client.post("/api/v1/devices", json=other, headers=police), 403, "LYSTHJ")
    register(client, env_officer, "AQ-040")
    assert client.get("/api/v1/devices/AQ-040", headers=viewer).status_code == 200
    patch = {"name": "改名"}
    problem(client.patch("/api/v1/devices/AQ-040", json=patch, headers=police), 403, "AQ-040")
    renamed = client.patch("/api/v1/devices/AQ-040", json=patch, headers=env_officer)
    assert renamed.json()["name"] == "改名"
    problem(client.get("/api/v1/devices"), 401, "log in")


def test_bad_registrations_get_precise_problems(
    client: TestClient, operator: dict[str, str]
) -> None:
    def post(**body: object) -> object:
        base = {"code": "AQ-050", "name": "站", "profile": "air-quality-station"}
        return client.post("/api/v1/devices", json=base | body, headers=operator)

    problem(post(code="AQ/050"), 422, "code")  # would break the MQTT topic
    problem(post(lon=118.3), 422, "give both lon and lat")
    problem(post(lat=95, lon=118), 422, "lat")
    problem(post(profile="no-such"), 404, "no device profile with code 'no-such'")
    problem(post(organization="NOPE"), 422, "organization 'NOPE' does not exist")
    register(client, operator, "AQ-050")
    problem(post(), 409, "already registered")
    problem(client.get("/api/v1/devices/NOPE", headers=operator), 404, "no device with code")


def test_csv_import_registers_good_rows_and_explains_bad_ones(
    client: TestClient,
    operator: dict[str, str],
    env_officer: dict[str, str],
    org: Callable[..., object],
) -> None:
    org("LYGA", "临沂市公安局")
    register(client, operator, "AQ-EXIST")
    csv_text = "\n".join(
        [
            "\ufeffcode,name,profile,organization,lon,lat,crs,install_date",
            "AQ-101,兰山一号站,air-quality-station,LYSTHJ,118.35,35.06,,2024-05-01",
            "WL-101,沂河水位站,water-level-gauge,LYSTHJ,118.40,35.09,wgs84,",
            "AQ-102,坏坐标,air-quality-station,LYSTHJ,118.35,,,",
            "AQ-103,坏类型,no-such-profile,LYSTHJ,,,,",
            "AQ-101,重复,air-quality-station,LYSTHJ,,,,",
            "AQ-EXIST,已登记,air-quality-station,LYSTHJ,,,,",
            "AQ-104,别人的,air-quality-station,LYGA,,,,",
            "AQ-105,坏日期,air-quality-station,LYSTHJ,,,,2024-13-01",
            "CAM-101,高德坐标,camera,LYSTHJ,118.4078,35.0879,gcj02,",
        ]
    )
    answer = client.post(
        "/api/v1/devices/import",
        content=csv_text.encode(),
        headers=env_officer | {"content-type": "text/csv"},
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert [d["code"] for d in result["created"]] == ["AQ-101", "WL-101", "CAM-101"]
    assert all(d["token"].startswith("cdt_") for d in result["created"])
    assert result["created"][2]["region_code"] == "371312"
    errors = {(e["row"], e["field"]): e["message"] for e in result["errors"]}
    assert errors == {
        (4, ""): "give both lon and lat, or neither",
        (5, "profile"): "no device profile with code 'no-such-profile'",
        (6, "code"): "repeats line 2",
        (7, "code"): "device 'AQ-EXIST' is already registered",
        (8, "organization"): "you may not register devices of organization LYGA",
        (9, "install_date"): errors[(9, "install_date")],
    }
    assert "date" in errors[(9, "install_date")]
    # Sending the same file again registers nothing twice.
    again = client.post(
        "/api/v1/devices/import", content=csv_text.encode(), headers=env_officer
    ).json()
    assert again["created"] == [] and len(again["errors"]) == 9
    problem(
        client.post("/api/v1/devices/import", content=b"id,name\n1,x", headers=operator),
        400,
        "unknown column 'id'",
    )
    problem(
        client.post("/api/v1/devices/import", content=b"\xff\xfe", headers=operator),
        400,
        "not UTF-8",
    )


def test_summary_counts_and_online_rate(client: TestClient, operator: dict[str, str]) -> None:
    token = register(client, operator, "AQ-060")
    register(client, operator, "AQ-061")
    register(client, operator, "EM-062", profile="smart-meter")
    client.patch("/api/v1/devices/EM-062", json={"mode": "maintenance"}, headers=operator)
    send(client, token, {"ts": now_ms(), "values": {"pm25": 3}})
    summary = client.get("/api/v1/devices/summary", headers=operator).json()
    assert summary["total"] == 3
    assert summary["by_status"] == {"online": 1, "offline": 1, "fault": 0, "maintenance": 1}
    assert summary["online_rate"] == 0.5  # maintenance is not counted against the rate
    assert summary["by_kind"]["sensor"] == 2 and summary["by_region"] == {"371302": 3}
