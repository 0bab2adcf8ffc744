"""Helpers of the indicator tests: devices, alarm rules and readings through the API."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

LANSHAN = (118.35, 35.06)  # a WGS-84 point in Lanshan District (371302)


def register(
    client: TestClient, headers: dict[str, str], code: str, lonlat: tuple[float, float] = LANSHAN
) -> str:
    body = {"code": code, "name": f"设备 {code}", "profile": "air-quality-station"}
    body["lon"], body["lat"] = lonlat  # type: ignore[assignment]
    answer = client.post("/api/v1/devices", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def pm25_rule(client: TestClient, headers: dict[str, str], above: float = 150) -> None:
    body = {"name": "PM2.5 超标", "profile": "air-quality-station", "kind": "threshold",
            "metric": "pm25", "op": ">", "value": above, "severity": "major"}  # fmt: skip
    answer = client.post("/api/v1/alarm-rules", json=body, headers=headers)
    assert answer.status_code == 201, answer.text


def reading(client: TestClient, token: str, pm25: float) -> None:
    body: dict[str, Any] = {"ts": time.time_ns() // 1_000_000, "values": {"pm25": pm25}}
    answer = client.post(
        "/api/v1/telemetry", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (200, 202), answer.text
