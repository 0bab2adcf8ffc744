"""The server-rendered pages: languages, login and logout, CSRF, and the overview twin."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.directory.models import Organization, OrgKind
from cityhub.security import service
from cityhub.security.deps import SESSION_COOKIE
from cityhub.security.models import Role
from cityhub.settings import Settings
from cityhub.web.i18n import LANG_COOKIE
from cityhub.web.pages import CSRF_COOKIE

PASSWORD = "Zhangsan2020!"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COUNT = re.compile(r'data-count="([a-z_.]+)">(\d+)<')
ROW = re.compile(r'<tr data-code="(\d{6})">')


@pytest.fixture
def web(client: TestClient) -> TestClient:
    return client


@pytest.fixture
def person(db: sessionmaker[Session], org: Callable[..., Organization]) -> str:
    """A data officer of the big data bureau who logs in with PASSWORD."""
    bureau = org("LYDSJ", "临沂市大数据局")
    with transaction(db) as session:
        service.create_user(
            session,
            username="zhangsan",
            organization_id=bureau.id,
            roles={Role.data_officer},
            password=PASSWORD,
            display_name="张三",
        )
    return "zhangsan"


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(web: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf_of(web.get("/login").text)
    answer: httpx.Response = web.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return answer


# -- languages --------------------------------------------------------------------------


def test_home_is_chinese_by_default(web: TestClient) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    assert "城市大脑公共信息平台" in page.text
    assert "SZSD13 0056-2020" in page.text
    assert "县级行政区划" in page.text and "兰山区" in page.text
    assert "您尚未登录" in page.text
    assert 'href="/api/docs"' in page.text


def test_lang_parameter_switches_to_english_and_is_remembered(web: TestClient) -> None:
    page = web.get("/?lang=en")
    assert '<html lang="en">' in page.text
    assert "City Brain Public Information Platform" in page.text
    assert "County-level divisions" in page.text and "Lanshan" in page.text
    assert web.cookies.get(LANG_COOKIE) == "en"
    assert '<html lang="en">' in web.get("/login").text  # the cookie carries the choice
    assert '<html lang="zh-CN">' in web.get("/?lang=zh-CN").text
    assert '<html lang="zh-CN">' in web.get("/").text


def test_unknown_language_falls_back_to_the_setting(settings: Settings) -> None:
    english = settings.model_copy(update={"default_language": "en"})
    with TestClient(create_app(english)) as web:
        assert '<html lang="en">' in web.get("/?lang=fr").text
        assert LANG_COOKIE not in web.cookies


def test_pages_load_nothing_from_elsewhere(web: TestClient) -> None:
    page = web.get("/")
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    css = web.get("/static/cityhub.css")
    assert css.status_code == 200
    assert "Noto Sans CJK SC" in css.text
    assert "http" not in css.text and "@import" not in css.text
    assert web.get("/static/favicon.svg").status_code == 200


# -- login and logout -------------------------------------------------------------------


def test_login_sets_the_session_cookie_and_shows_the_user(web: TestClient, person: str) -> None:
    answer = log_in(web, person)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    home = web.get("/")
    assert "当前登录：zhangsan" in home.text
    assert "部门数据专员" in home.text
    assert "Logged in as zhangsan" in web.get("/?lang=en").text


@pytest.mark.parametrize(
    ("asked", "lands"),
    [
        ("/ops/incidents?status=open", "/ops/incidents?status=open"),
        ("//evil.example/x", "/"),  # another site is never a destination
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_login_returns_to_the_page_that_asked_for_it(
    web: TestClient, person: str, asked: str, lands: str
) -> None:
    form = web.get("/login", params={"next": asked}).text
    answer = web.post(
        "/login",
        data={"username": person, "password": PASSWORD, "csrf_token": csrf_of(form), "next": asked},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == lands
    assert f'name="next" value="{lands}"' in form.replace("&amp;", "&")


def test_wrong_password_is_refused_with_the_message(web: TestClient, person: str) -> None:
    answer = log_in(web, person, "not-the-password1")
    assert answer.status_code == 401
    text = answer.text
    assert "用户名或密码错误" in text
    assert 'value="zhangsan"' in text  # the form keeps what was typed, never the password
    assert "not-the-password1" not in text
    assert SESSION_COOKIE not in web.cookies
    web.get("/?lang=en")
    assert "Wrong username or password" in log_in(web, person, "nope12345678").text


def test_repeated_failures_are_throttled(web: TestClient, person: str, settings: Settings) -> None:
    for _ in range(settings.login_max_failures):
        assert log_in(web, person, "wrong-password-1").status_code == 401
    answer = log_in(web, person)  # even the right password waits now
    assert answer.status_code == 429
    assert "登录失败次数过多" in answer.text
    assert int(answer.headers["retry-after"]) > 0


def test_logout_ends_the_session(web: TestClient, person: str, db: sessionmaker[Session]) -> None:
    log_in(web, person)
    old = web.cookies[SESSION_COOKIE]
    with transaction(db) as session:
        assert service.user_for_session(session, old) is not None
    token = csrf_of(web.get("/").text)
    answer = web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    assert SESSION_COOKIE not in web.cookies
    assert "您尚未登录" in web.get("/").text
    with transaction(db) as session:  # ended on the server, not only forgotten by the browser
        assert service.user_for_session(session, old) is None


# -- CSRF -------------------------------------------------------------------------------


def test_login_without_a_valid_csrf_token_is_rejected(web: TestClient, person: str) -> None:
    token = csrf_of(web.get("/login").text)
    form = {"username": person, "password": PASSWORD}
    for bad in ("", "forged.token", token.split(".")[0] + ".0000", "x" + token):
        answer = web.post("/login", data={**form, "csrf_token": bad}, follow_redirects=False)
        assert answer.status_code == 403
        assert "表单已失效" in answer.text
    web.cookies.delete(CSRF_COOKIE)  # the double-submit cookie is missing
    answer = web.post("/login", data={**form, "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 403
    assert SESSION_COOKIE not in web.cookies


def test_logout_needs_a_token_of_the_current_session(web: TestClient, person: str) -> None:
    before_login = csrf_of(web.get("/login").text)
    log_in(web, person)
    for bad in ("", before_login):  # a token from before login is useless after it
        answer = web.post("/logout", data={"csrf_token": bad}, follow_redirects=False)
        assert answer.status_code == 403
    assert "当前登录：zhangsan" in web.get("/").text


# -- the JSON twin ----------------------------------------------------------------------


def test_overview_json_equals_the_page(
    web: TestClient, person: str, org: Callable[..., Organization]
) -> None:
    org("LYZHYY", "临沂新型智慧城市运营有限公司", OrgKind.operator)
    org("LYQY", "临沂某科技有限公司", OrgKind.enterprise, "371302")
    data = web.get("/api/v1/overview").json()
    assert data["guideline"] == "SZSD13 0056-2020"
    assert data["organizations"] == {
        "government": 1,
        "operator": 1,
        "enterprise": 1,
        "institution": 0,
    }
    assert data["organizations_total"] == 3
    assert data["regions"] == 13 and len(data["districts"]) == 12
    assert data["users"] == 1
    assert data["city"]["code"] == "371300"

    page = web.get("/").text
    counts = {key: int(value) for key, value in COUNT.findall(page)}
    assert counts["organizations_total"] == data["organizations_total"]
    assert counts["regions"] == data["regions"]
    assert counts["users"] == data["users"]
    for kind, n in data["organizations"].items():
        assert counts[f"organizations.{kind}"] == n
    assert ROW.findall(page) == [d["code"] for d in data["districts"]]


def test_overview_is_in_the_openapi_document(web: TestClient) -> None:
    assert "/api/v1/overview" in web.get("/api/openapi.json").json()["paths"]
