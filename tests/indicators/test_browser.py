"""The cockpit in a real browser: Debian's Chromium driven by Playwright against a live
server. It loads with no console error and nothing fetched from elsewhere, the map has
the 12 districts, a click on one drills every panel down, and an alarm raised through the
API shows in the ticker within 2 seconds, without a reload. Screenshots are kept in
$CITYHUB_TEST_ARTIFACTS (default test-artifacts/)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.indicators import service
from cityhub.settings import Settings

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("CITYHUB_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    assert not thread.is_alive(), "the server did not stop: a stream kept it open"
    sock.close()


def test_cockpit_map_drill_down_and_live_alarm(
    live_server: str,
    operator: dict[str, str],
    settings: Settings,
    db: sessionmaker[Session],
    residents: Callable[..., None],
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    api = httpx.Client(base_url=live_server, headers=operator, timeout=30)
    residents({"371302": 25_000, "371311": 12_000, "371321": 8_000})
    rule = {"name": "PM2.5 超标", "profile": "air-quality-station", "kind": "threshold",
            "metric": "pm25", "op": ">", "value": 150, "severity": "critical"}  # fmt: skip
    assert api.post("/api/v1/alarm-rules", json=rule).status_code == 201
    device = {"code": "AQ-LS-01", "name": "兰山空气站", "profile": "air-quality-station",
              "lon": 118.35, "lat": 35.06}  # fmt: skip
    token = api.post("/api/v1/devices", json=device).json()["token"]
    service.recompute(db, settings)
    lanshan = api.get("/api/v1/regions/371302").json()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    foreign: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith(live_server) else foreign.append(r.url),
            )
            page.goto(live_server + "/login")
            page.locator("input[name=username]").fill("ops")
            page.locator("input[name=password]").fill("Passw0rd!x")
            page.locator("form button[type=submit]").last.click()
            page.wait_for_load_state()
            page.goto(live_server + "/cockpit")
            expect(page.locator("#ck-map")).to_have_attribute("data-ready", "12", timeout=15_000)
            expect(page.locator("#ck-live")).to_have_attribute("data-state", "live")
            residents_fig = page.locator('.ck-figure[data-code="library.residents"] .ck-fig-value')
            expect(residents_fig).to_have_text("4.5万人")
            series = page.evaluate(
                "() => echarts.getInstanceByDom(document.getElementById('ck-map'))"
                ".getOption().series[0].data.length"
            )
            assert series == 12
            expect(page.locator("#ck-trend30")).to_have_attribute("data-ready", "30")
            page.screenshot(path=ARTIFACTS / "cockpit-city-zh.png")

            # Drill down: a real click on 兰山区 on the map's canvas.
            x, y = page.evaluate(
                "([lon, lat]) => echarts.getInstanceByDom(document.getElementById('ck-map'))"
                ".convertToPixel({geoIndex: 0}, [lon, lat])",
                lanshan["center"],
            )
            box = page.locator("#ck-map").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + x, box["y"] + y)
            expect(page.locator("#cockpit")).to_have_attribute("data-region", "371302")
            expect(page.locator("#ck-crumb-region")).to_contain_text("兰山区")
            expect(residents_fig).to_have_text("2.5万人")
            assert page.url.endswith("/cockpit?region=371302")

            # A live alarm: telemetry over the API raises it; no reload.
            reading = {"ts": time.time_ns() // 1_000_000, "values": {"pm25": 320}}
            sent = api.post(
                "/api/v1/telemetry", json=reading, headers={"Authorization": f"Bearer {token}"}
            )
            assert sent.status_code in (200, 202), sent.text
            started = time.monotonic()
            alarm = page.locator('#ck-ticker li[data-kind="alarm"]')
            expect(alarm.first).to_contain_text("pm25 320 > 150", timeout=2_000)
            took = time.monotonic() - started
            expect(page.locator('.ck-figure[data-code="sensing.open_alarms"] .ck-fig-value'))\
                .to_have_text("1条", timeout=10_000)  # fmt: skip
            page.screenshot(path=ARTIFACTS / "cockpit-lanshan-alarm-zh.png")

            page.goto(live_server + "/cockpit?lang=en")
            expect(page.locator("h1")).to_contain_text("Digital cockpit")
            expect(page.locator("#ck-map")).to_have_attribute("data-ready", "12", timeout=15_000)
            expect(residents_fig).to_have_text("45k people")
            page.set_viewport_size({"width": 1366, "height": 768})
            page.screenshot(path=ARTIFACTS / "cockpit-city-en-laptop.png", full_page=True)
        finally:
            browser.close()
    api.close()
    assert problems == [], problems
    assert foreign == [], f"the cockpit fetched from elsewhere: {foreign}"
    assert took < 2.0, f"the alarm took {took:.2f} s to show"
