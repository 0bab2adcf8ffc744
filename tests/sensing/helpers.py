"""Shared helpers of the sensing tests."""

from __future__ import annotations

import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

WGS_LANSHAN = (118.3500, 35.0600)  # a WGS-84 point in Lanshan District (371302)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def problem(response: httpx.Response, status: int, detail: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status whose detail says `detail`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert detail in body["detail"], body["detail"]
    assert "Traceback" not in response.text
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(
    client: TestClient,
    headers: dict[str, str],
    code: str,
    profile: str = "air-quality-station",
    lonlat: tuple[float, float] | None = WGS_LANSHAN,
    **extra: Any,
) -> str:
    """Register a device through the API; its token."""
    body: dict[str, Any] = {"code": code, "name": f"设备 {code}", "profile": profile, **extra}
    if lonlat is not None:
        body["lon"], body["lat"] = lonlat
    response = client.post("/api/v1/devices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def send(client: TestClient, token: str, body: Any) -> httpx.Response:
    return client.post("/api/v1/telemetry", json=body, headers=bearer(token))
