"""A real browser against a real server: Debian's Chromium driven by Playwright.

Never downloads a browser: without /usr/bin/chromium the test is skipped. Screenshots go
to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.directory.models import Organization, OrgKind
from cityhub.security import service
from cityhub.security.models import Role
from cityhub.settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "Lisi-Browser-2020"


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """The app under uvicorn in a thread, on a loopback port the OS picked."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the bound socket goes to uvicorn: no port race
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


@pytest.fixture
def person(db: sessionmaker[Session], org: Callable[..., Organization]) -> str:
    org("LYZHYY", "临沂新型智慧城市运营有限公司", OrgKind.operator)
    bureau = org("LYDSJ", "临沂市大数据局")
    with transaction(db) as session:
        service.create_user(
            session,
            username="lisi",
            organization_id=bureau.id,
            roles={Role.developer, Role.viewer},
            password=PASSWORD,
            display_name="李四",
        )
    return "lisi"


def test_home_language_switch_and_login_in_chromium(live_server: str, person: str) -> None:
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt install chromium)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    expect = sync_api.expect
    ARTIFACTS.mkdir(exist_ok=True)
    problems: list[str] = []
    foreign: list[str] = []

    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "request",
                lambda r: None if r.url.startswith(live_server) else foreign.append(r.url),
            )

            page.goto(live_server + "/")
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            expect(page.locator("h1")).to_contain_text("城市大脑公共信息平台")
            expect(page.locator("tbody tr")).to_have_count(12)
            font = page.evaluate("getComputedStyle(document.body).fontFamily")
            assert "Noto Sans CJK SC" in font
            page.screenshot(path=ARTIFACTS / "home-zh.png", full_page=True)

            page.get_by_role("link", name="English").click()
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_test_id("login-state")).to_contain_text("not logged in")
            page.screenshot(path=ARTIFACTS / "home-en.png", full_page=True)

            page.locator("header").get_by_role("link", name="Log in").click()
            page.get_by_label("Username").fill(person)
            page.get_by_label("Password").fill("wrong-password-9")
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
            page.screenshot(path=ARTIFACTS / "login-error-en.png", full_page=True)

            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_test_id("login-state")).to_have_text("Logged in as lisi")
            expect(page.get_by_test_id("current-user")).to_contain_text("李四")
            page.screenshot(path=ARTIFACTS / "home-logged-in-en.png", full_page=True)

            page.get_by_role("link", name="中文").click()
            expect(page.get_by_test_id("login-state")).to_have_text("当前登录：lisi")
            page.screenshot(path=ARTIFACTS / "home-logged-in-zh.png", full_page=True)

            page.get_by_role("button", name="退出").click()
            expect(page.get_by_test_id("login-state")).to_contain_text("您尚未登录")
        finally:
            browser.close()

    # The wrong password answers 401 on purpose; Chromium logs that as a resource error.
    unexpected = [p for p in problems if "status of 401" not in p]
    assert unexpected == [], unexpected
    assert foreign == [], f"the pages fetched from elsewhere: {foreign}"


def test_server_fixture_serves_the_overview(live_server: str) -> None:
    import httpx

    data = httpx.get(live_server + "/api/v1/overview", timeout=10).json()
    assert data["regions"] == 13
