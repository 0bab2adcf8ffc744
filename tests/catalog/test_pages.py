"""The catalog's portal pages: search with facets, the resource page, the data officer's
list and forms, the admin's review queue; zh-CN first with the English switch."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.security import service
from cityhub.security.deps import SESSION_COOKIE
from cityhub.settings import Settings

from .conftest import USERNAMES
from .helpers import AIR, ENTITIES, POPULATION, Headers

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
COUNT = re.compile(r'data-count="([a-z_]+)\.([^"]+)">(\d+)<')


@pytest.fixture
def catalog(publish: Callable[..., dict[str, Any]]) -> None:
    publish(POPULATION)
    publish(AIR)
    publish(ENTITIES)


def _sign_in(
    client: TestClient,
    db: sessionmaker[Session],
    settings: Settings,
    people: dict[str, Headers],
    who: str,
) -> None:
    """A browser session for one of the cast (see conftest.CAST)."""
    _ = people[who]  # made on first use
    username = USERNAMES.get(who, who)
    with transaction(db) as session:
        token = service.start_session(session, service.get_user(session, username), settings)
    client.cookies.set(SESSION_COOKIE, token)


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@pytest.mark.usefixtures("catalog")
def test_search_page_shows_hits_and_facets_in_chinese_then_english(client: TestClient) -> None:
    page = client.get("/catalog")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    assert "信息资源目录" in page.text and "共 2 条信息资源" in page.text
    assert "空气质量监测数据" in page.text and "法人基础信息" in page.text
    assert "人口基础信息" not in page.text  # not open to the public
    counts = {(name, value): int(n) for name, value, n in COUNT.findall(page.text)}
    assert counts[("category", "basic")] == 1 and counts[("category", "topic")] == 1
    assert counts[("share_type", "unconditional")] == 2
    assert 'href="/nav' not in page.text and 'href="/catalog"' in page.text  # nav link
    assert 'href="/api/v1/resources"' in page.text  # the JSON twin
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)

    english = client.get("/catalog?lang=en&category=basic")
    assert '<html lang="en">' in english.text
    assert "1 information resources" in english.text
    assert "Base library" in english.text and "Shared unconditionally" in english.text
    assert 'aria-current="true"' in english.text  # the active facet value
    filtered = client.get("/catalog", params={"q": "空气", "lang": "zh-CN"})
    assert "共 1 条信息资源" in filtered.text and "空气质量监测数据" in filtered.text
    bad = client.get("/catalog?open_type=maybe")
    assert bad.status_code == 400 and "open_type: unknown value" in bad.text
    css = client.get("/static/catalog.css")
    assert css.status_code == 200 and "http" not in css.text


@pytest.mark.usefixtures("catalog")
def test_resource_page_shows_metadata_items_how_to_request_and_the_gateway_slot(
    client: TestClient,
    people: dict[str, Headers],
    db: sessionmaker[Session],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cityhub.catalog import pages

    monkeypatch.setattr(pages, "RESOURCE_PANELS", [])  # the slot as the catalog leaves it
    closed = client.get(f"/catalog/{POPULATION['code']}")
    assert closed.status_code == 401 and "请登录后查看" in closed.text
    _sign_in(client, db, settings, people, "viewer")
    page = client.get(f"/catalog/{POPULATION['code']}")
    assert page.status_code == 200
    text = page.text
    assert "人口基础信息" in text and "101001-LYGA-000001" in text and "临沂市公安局" in text
    assert 'data-item="gmsfhm"' in text and "keep:first6,last4" in text
    assert "有条件共享" in text and "仅限政务部门履行法定职责使用" in text
    assert "371302********1234" in text  # what masked items look like
    assert 'data-slot="gateway"' in text and "GATEWAY SLOT" not in text  # comment stays server-side
    assert "接口服务启用后" in text  # no panel registered yet
    assert "v1" in text and "首次发布" in text
    assert 'data-testid="history"' not in text  # workflow history: provider and admins only
    assert client.get("/catalog/101001-LYGA-000099").status_code == 404


def test_a_data_officer_registers_edits_and_submits_and_the_admin_publishes(
    client: TestClient, people: dict[str, Headers], db: sessionmaker[Session], settings: Settings
) -> None:
    _sign_in(client, db, settings, people, "ga_officer")
    mine = client.get("/catalog/mine")
    assert mine.status_code == 200 and "本单位尚未登记信息资源" in mine.text
    form = client.get("/catalog/new")
    assert form.status_code == 200 and "101001-LYGA-000001" in form.text  # the next code
    fields: dict[str, Any] = {
        "csrf_token": _csrf(form.text),
        "code": "101001-LYGA-000001",
        "name": "人口基础信息",
        "summary": "全市户籍人口基础信息",
        "category": "basic",
        "format": "table",
        "update_cycle": "daily",
        "share_type": "conditional",
        "share_condition": "",  # missing on purpose
        "sharing_method": "api",
        "open_type": "closed",
        "open_condition": "",
        "regions": ["371300", "371302"],
        "keywords": "人口，户籍 身份证",
        "related_codes": "",
        "item_rows": "3",
        "items-0-name": "公民身份号码",
        "items-0-code": "gmsfhm",
        "items-0-data_type": "string",
        "items-0-length": "18",
        "items-0-element_ref": "",
        "items-0-sensitivity": "sensitive",
        "items-0-masking": "keep:first6,last4",
        "items-1-name": "姓名",
        "items-1-code": "xm",
        "items-1-data_type": "string",
        "items-1-length": "",
        "items-1-element_ref": "",
        "items-1-sensitivity": "sensitive",
        "items-1-masking": "name",
        "items-2-name": "",
        "items-2-code": "",
        "items-2-data_type": "string",
        "items-2-length": "",
        "items-2-element_ref": "",
        "items-2-sensitivity": "internal",
        "items-2-masking": "",
    }
    refused = client.post("/catalog/new", data=fields, follow_redirects=False)
    assert refused.status_code == 422
    assert "未保存" in refused.text and "share_condition is required" in refused.text
    assert 'value="人口基础信息"' in refused.text  # what was typed is kept
    assert client.get("/api/v1/resources", headers=people["ga_officer"]).json()["total"] == 0

    fields["share_condition"] = "仅限政务部门使用"
    saved = client.post("/catalog/new", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == "/catalog/mine?done=saved&code=101001-LYGA-000001"
    data = client.get("/api/v1/resources/101001-LYGA-000001", headers=people["ga_officer"]).json()
    assert data["keywords"] == ["人口", "户籍", "身份证"]
    assert [i["code"] for i in data["items"]] == ["gmsfhm", "xm"]
    assert [r["code"] for r in data["regions"]] == ["371300", "371302"]

    edit = client.get("/catalog/101001-LYGA-000001/edit")
    assert edit.status_code == 200 and 'value="gmsfhm"' in edit.text
    changed = {**fields, "csrf_token": _csrf(edit.text), "summary": "更新后的摘要"}
    changed.pop("code")
    assert client.post("/catalog/101001-LYGA-000001/edit", data=changed).status_code == 200

    mine = client.get("/catalog/mine?done=saved&code=101001-LYGA-000001")
    assert "已保存：101001-LYGA-000001" in mine.text and "草稿" in mine.text
    no_csrf = client.post(
        "/catalog/101001-LYGA-000001/action", data={"action": "submit", "csrf_token": "x"}
    )
    assert no_csrf.status_code == 403
    submitted = client.post(
        "/catalog/101001-LYGA-000001/action",
        data={
            "action": "submit",
            "comment": "",
            "next": "/catalog/mine",
            "csrf_token": _csrf(mine.text),
        },
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    assert submitted.headers["location"] == "/catalog/mine?done=submit&code=101001-LYGA-000001"
    approve_as_officer = client.post(
        "/catalog/101001-LYGA-000001/action",
        data={"action": "approve", "csrf_token": _csrf(mine.text)},
    )
    assert approve_as_officer.status_code == 403 and "platform admin" in approve_as_officer.text

    client.cookies.clear()
    _sign_in(client, db, settings, people, "admin")
    queue = client.get("/catalog/mine")
    assert "发布审核" in queue.text and "101001-LYGA-000001" in queue.text
    approved = client.post(
        "/catalog/101001-LYGA-000001/action",
        data={
            "action": "approve",
            "comment": "同意",
            "next": "https://evil.example/",
            "csrf_token": _csrf(queue.text),
        },
        follow_redirects=False,
    )
    assert approved.status_code == 303
    assert approved.headers["location"].startswith("/catalog/mine?")  # never elsewhere
    assert "没有待审核的信息资源" in client.get("/catalog/mine").text
    page = client.get("/catalog/101001-LYGA-000001?done=approve")
    assert "已发布" in page.text and "更新后的摘要" in page.text
    assert "已发布：101001-LYGA-000001" in page.text  # the flash after a step


def test_staff_pages_send_others_away(
    client: TestClient, people: dict[str, Headers], db: sessionmaker[Session], settings: Settings
) -> None:
    anonymous = client.get("/catalog/mine", follow_redirects=False)
    assert (
        anonymous.status_code == 303
        and anonymous.headers["location"] == "/login?next=%2Fcatalog%2Fmine"
    )
    _sign_in(client, db, settings, people, "developer")
    for path in ("/catalog/mine", "/catalog/new"):
        answer = client.get(path)
        assert answer.status_code == 403 and "部门数据专员" in answer.text


@pytest.mark.usefixtures("catalog")
def test_other_packages_fill_the_gateway_slot_with_panels(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityhub.catalog import pages

    monkeypatch.setattr(pages, "RESOURCE_PANELS", [])
    seen: list[str] = []

    def sample_rows(request: Any, session: Any, resource: Any, user: Any) -> Any:
        seen.append(resource.code)
        if resource.share_type.value == "none":
            return None
        return "catalog/panel_note.html", {"name": "rows", "title": "数据样例", "body": "<3 行>"}

    assert pages.add_resource_panel(sample_rows) is sample_rows
    pages.add_resource_panel(sample_rows)
    assert [sample_rows] == pages.RESOURCE_PANELS
    page = client.get(f"/catalog/{AIR['code']}")
    assert seen == [AIR["code"]]
    assert 'data-panel="rows"' in page.text and "数据样例" in page.text
    assert "&lt;3 行&gt;" in page.text  # escaped
    assert "接口服务启用后" not in page.text
