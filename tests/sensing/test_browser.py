"""The device map and a device's charts in a real browser (Debian's Chromium via
Playwright): drawn from the API, no console errors, no request leaves the server.
Screenshots go to test-artifacts/ for a human to look at."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from cityhub.app import create_app
from cityhub.settings import Settings

from .helpers import now_ms, register, send

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    instance = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=15)
    sock.close()


def test_device_map_and_charts_in_chromium(
    server: str, client: TestClient, operator: dict[str, str]
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    token = register(client, operator, "AQ-WEB")
    register(client, operator, "CAM-WEB", profile="camera", lonlat=(118.40, 35.09))
    t = now_ms()
    send(
        client,
        token,
        {"points": [{"ts": t - k * 60_000, "values": {"pm25": 30 + k % 17}} for k in range(120)]},
    )
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    foreign: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request", lambda r: None if r.url.startswith(server) else foreign.append(r.url)
            )
            page.goto(server + "/login")
            page.locator("input[name=username]").fill("ops")
            page.locator("input[name=password]").fill("Passw0rd!x")
            page.locator("form.form button[type=submit], form button[type=submit]").last.click()
            page.goto(server + "/sensing/devices")
            expect(page.locator("#device-map")).to_have_attribute("data-ready", "2", timeout=15_000)
            expect(page.locator("#device-map canvas")).to_have_count(1)
            page.screenshot(path=ARTIFACTS / "sensing-devices-zh.png", full_page=True)
            page.goto(server + "/sensing/devices/AQ-WEB?lang=en")
            chart = page.locator('.chart[data-metric="pm25"]')
            # Two hours of readings in 5-minute buckets: 24, or 25 when the hour is split.
            expect(chart).to_have_attribute("data-ready", re.compile(r"^2[45]$"), timeout=15_000)
            page.screenshot(path=ARTIFACTS / "sensing-device-en.png", full_page=True)
        finally:
            browser.close()
    assert problems == [], problems
    assert foreign == [], f"the pages fetched from elsewhere: {foreign}"
