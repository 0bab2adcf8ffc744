"""Console pages: device list and map, device detail with charts, alarm inbox with
acknowledge; assets served locally."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from fastapi.testclient import TestClient

from cityhub.security.models import Role
from cityhub.web import STATIC_DIR

from .helpers import now_ms, register, send

Auth = Callable[..., dict[str, str]]
PASSWORD = "Passw0rd!x"  # what the `auth` fixture gives every user


def _login(client: TestClient, username: str) -> None:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text


def test_pages_need_a_login(client: TestClient) -> None:
    for path in ("/sensing/devices", "/sensing/devices/X", "/sensing/alarms"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={quote(path, safe='')}"


def test_device_list_map_and_detail(client: TestClient, operator: dict[str, str]) -> None:
    token = register(client, operator, "AQ-PG")
    register(client, operator, "CAM-PG", profile="camera")
    send(client, token, {"ts": now_ms(), "values": {"pm25": 42.5}})
    _login(client, "ops")
    page = client.get("/sensing/devices?lang=zh-CN")
    assert page.status_code == 200
    html = page.text
    assert 'id="device-map"' in html and "/api/v1/regions.geojson?parent=371300" in html
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in html
    assert "感知设备" in html and 'data-code="AQ-PG"' in html and "在线" in html
    assert "<script>" not in html  # no inline script: the CSP forbids it
    filtered = client.get("/sensing/devices?kind=camera&status=&region=&organization=").text
    assert 'data-code="CAM-PG"' in filtered and 'data-code="AQ-PG"' not in filtered
    english = client.get("/sensing/devices/AQ-PG?lang=en").text
    assert 'data-metric="pm25"' in english and "42.50" in english and "Latest readings" in english
    assert client.get("/sensing/devices/NOPE").status_code == 404
    geo = client.get("/api/v1/devices.geojson").json()  # the map's data, same session
    assert {f["id"]: f["properties"]["status"] for f in geo["features"]} == {
        "AQ-PG": "online",
        "CAM-PG": "offline",
    }


def test_alarm_inbox_acknowledge(client: TestClient, operator: dict[str, str], auth: Auth) -> None:
    rule = {
        "name": "PM2.5 重度污染",
        "profile": "air-quality-station",
        "kind": "threshold",
        "metric": "pm25",
        "op": ">",
        "value": 150,
    }
    client.post("/api/v1/alarm-rules", json=rule, headers=operator)
    token = register(client, operator, "AQ-AL")
    send(client, token, {"values": {"pm25": 300}})
    auth(Role.viewer, org_code="LYZHYY", username="watcher")
    _login(client, "watcher")
    inbox = client.get("/sensing/alarms").text
    assert "PM2.5 重度污染" in inbox and "/acknowledge" not in inbox  # a viewer only reads
    _login(client, "ops")
    inbox = client.get("/sensing/alarms").text
    alarm_id = re.search(r'data-alarm="(\d+)"', inbox).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', inbox).group(1)  # type: ignore[union-attr]
    bad = client.post(f"/sensing/alarms/{alarm_id}/acknowledge", data={"csrf_token": "x.y"})
    assert bad.status_code == 403
    done = client.post(
        f"/sensing/alarms/{alarm_id}/acknowledge", data={"csrf_token": csrf}, follow_redirects=True
    )
    assert done.status_code == 200 and f"告警 {alarm_id} 已确认" in done.text
    assert client.get(f"/api/v1/alarms/{alarm_id}").json()["state"] == "acknowledged"
    assert "已确认" in client.get("/sensing/alarms?state=acknowledged").text


def test_echarts_is_vendored_with_its_licence(client: TestClient) -> None:
    folder = STATIC_DIR / "vendor" / "echarts"
    assert {"echarts.min.js", "LICENSE", "NOTICE", "VERSION"} <= {p.name for p in folder.iterdir()}
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "6.1.0" in (folder / "VERSION").read_text()
    served = client.get("/static/vendor/echarts/echarts.min.js")
    assert served.status_code == 200 and len(served.content) > 500_000
