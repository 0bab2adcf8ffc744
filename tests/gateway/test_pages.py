"""Portal pages: applications and keys, requests, the inbox, usage, samples, the catalog
panel; zh-CN first with an English switch; forms with CSRF; errors shown, not raised."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import select, update

from cityhub.core.db import transaction
from cityhub.gateway.models import Application, SharingRequest
from cityhub.gateway.workdays import Calendar
from cityhub.security.models import Role

from .conftest import Gw
from .helpers import LICENCE_ITEMS, LICENCES, PEOPLE

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form"
    return found.group(1)


def test_anonymous_people_are_sent_to_log_in(gw: Gw) -> None:
    for path in ("/apps", "/requests", "/inbox", "/usage", f"/sample/{PEOPLE}"):
        answer = gw.client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == f"/login?next={quote(path, safe='')}", path


def test_register_an_application_and_issue_a_key_shown_once(gw: Gw) -> None:
    dev = gw.person(Role.developer)
    page = gw.client.get("/apps", headers=dev)
    assert page.status_code == 200
    assert "我的应用" in page.text and 'data-testid="no-apps"' in page.text
    token = _csrf(page.text)
    bad = gw.client.post(
        "/apps",
        data={"name": "出行", "purpose": "测试", "contact_phone": "123", "csrf_token": token},
        headers=dev,
    )
    assert bad.status_code == 422
    assert "contact_phone" in bad.text and 'data-testid="error"' in bad.text
    made = gw.client.post(
        "/apps",
        data={"name": "出行服务", "purpose": "公交到站预测", "csrf_token": token},
        headers=dev,
        follow_redirects=False,
    )
    assert made.status_code == 303
    detail = gw.client.get(made.headers["location"], headers=dev)
    assert "出行服务" in detail.text and "公交到站预测" in detail.text
    issued = gw.client.post(
        f"{made.headers['location']}/keys",
        data={"name": "prod", "csrf_token": _csrf(detail.text)},
        headers=dev,
    )
    assert issued.status_code == 201
    key = re.search(r"<code>(chk_[^<]+)</code>", issued.text)
    assert key and 'data-testid="issued-key"' in issued.text
    again = gw.client.get(made.headers["location"], headers=dev)
    assert key.group(1) not in again.text  # shown once, never again
    assert 'data-testid="keys"' in again.text
    with gw.db() as session:
        assert session.scalar(select(Application.name)) == "出行服务"  # the bad one left nothing


def test_forms_need_their_csrf_token(gw: Gw) -> None:
    dev = gw.person(Role.developer)
    answer = gw.client.post("/apps", data={"name": "x", "purpose": "y"}, headers=dev)
    assert answer.status_code == 403
    with gw.db() as session:
        assert session.scalar(select(Application.id)) is None


def test_request_from_the_portal_and_decide_in_the_inbox(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    gw.app(dev)
    page = gw.client.get(f"/requests?resource={PEOPLE}", headers=dev)
    assert f'value="{PEOPLE}"' in page.text  # prefilled from the catalog's link
    app_id = re.search(r'<option value="(\d+)"', page.text)
    assert app_id
    made = gw.client.post(
        "/requests",
        data={
            "application_id": app_id.group(1),
            "resource": PEOPLE,
            "items": "xm, xzqh",
            "purpose": "出行分析",
            "period_end": "2099-01-01",
            "csrf_token": _csrf(page.text),
        },
        headers=dev,
    )
    assert made.status_code == 422  # more than three years: refused, shown on the form
    assert "at most three years" in made.text and 'data-testid="error"' in made.text
    end = (Calendar.from_settings(gw.settings).today() + timedelta(days=60)).isoformat()
    made = gw.client.post(
        "/requests",
        data={
            "application_id": app_id.group(1),
            "resource": PEOPLE,
            "items": "xm, xzqh",
            "purpose": "出行分析",
            "period_end": end,
            "csrf_token": _csrf(page.text),
        },
        headers=dev,
    )
    assert made.status_code == 201, made.text
    assert "待审批" in made.text and 'data-testid="flash"' in made.text

    officer = gw.officer("LYGA")
    with transaction(gw.db) as session:  # one request is past its deadline
        session.execute(
            update(SharingRequest).values(
                deadline=Calendar.from_settings(gw.settings).today() - timedelta(days=3)
            )
        )
    inbox = gw.client.get("/inbox", headers=officer)
    assert 'data-testid="overdue-count"' in inbox.text and "gw-overdue" in inbox.text
    req_id = re.search(r'data-request="(\d+)"', inbox.text)
    assert req_id
    rejected = gw.client.post(
        f"/inbox/{req_id.group(1)}/reject", data={"csrf_token": _csrf(inbox.text)}, headers=officer
    )
    assert rejected.status_code == 422 and "reason" in rejected.text
    approved = gw.client.post(
        f"/inbox/{req_id.group(1)}/approve",
        data={"reason": "同意", "csrf_token": _csrf(inbox.text)},
        headers=officer,
    )
    assert approved.status_code == 200 and 'data-testid="inbox-empty"' in approved.text
    assert "超期办结" in approved.text  # decided after its deadline
    other = gw.person(Role.data_officer, org="LYMZ")
    refused = gw.client.post(
        f"/inbox/{req_id.group(1)}/reject",
        data={"reason": "越权", "csrf_token": _csrf(gw.client.get("/inbox", headers=other).text)},
        headers=other,
    )
    assert refused.status_code in (403, 409)


def test_not_shared_resources_are_refused_on_the_page(gw: Gw) -> None:
    gw.publish(
        "301001-LYGA-000002", share_type="none", condition="依法不予共享", items=LICENCE_ITEMS
    )
    dev = gw.person(Role.developer)
    app_id = gw.app(dev)
    page = gw.client.get("/requests", headers=dev)
    answer = gw.client.post(
        "/requests",
        data={
            "application_id": str(app_id),
            "resource": "301001-LYGA-000002",
            "purpose": "x",
            "period_end": "2030-01-01",
            "csrf_token": _csrf(page.text),
        },
        headers=dev,
    )
    assert answer.status_code == 422
    assert "不予共享" in answer.text and "依法不予共享" in answer.text


def test_usage_page_and_english(people: Gw) -> None:
    gw = people
    gw.settings.meter_flush_seconds = 0
    key, _app = gw.granted_key(PEOPLE)
    gw.client.get(f"/api/v1/resources/{PEOPLE}/rows?limit=3", headers=key)
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    page = gw.client.get("/usage", headers=admin)
    assert page.status_code == 200
    assert 'data-testid="total-calls">1<' in page.text
    assert 'id="gw-usage-data"' in page.text and "echarts.min.js" in page.text
    english = gw.client.get("/usage?lang=en", headers=admin)
    assert "Calls per day" in english.text and "调用次数" not in english.text
    viewer = gw.person(Role.viewer)
    assert gw.client.get("/usage", headers=viewer).status_code == 403


def test_samples_as_each_viewer_may_see_them(people: Gw) -> None:
    gw = people
    gw.publish(LICENCES, share_type="unconditional", items=LICENCE_ITEMS, rows=8)
    officer = gw.officer("LYGA")
    own = gw.client.get(f"/api/v1/resources/{PEOPLE}/sample", headers=officer).json()
    assert own["access"] == "provider" and own["masked"] == []
    assert own["items"][0]["gmsfhm"] == gw.frames[PEOPLE]["gmsfhm"][0]
    dev = gw.person(Role.developer)
    none = gw.client.get(f"/api/v1/resources/{PEOPLE}/sample", headers=dev).json()
    assert none["access"] == "none" and none["items"] == []
    preview = gw.client.get(f"/api/v1/resources/{LICENCES}/sample", headers=dev).json()
    assert preview["access"] == "preview" and len(preview["items"]) == 5
    gw.granted_key(PEOPLE, items=["xm", "gmsfhm"], dev=dev)
    granted = gw.client.get(f"/api/v1/resources/{PEOPLE}/sample", headers=dev).json()
    assert granted["access"] == "granted" and granted["fields"] == ["xm", "gmsfhm"]
    assert "********" in granted["items"][0]["gmsfhm"]
    html = gw.client.get(f"/sample/{PEOPLE}", headers=dev)
    assert 'data-testid="sample-rows"' in html.text and "********" in html.text


def test_the_catalog_resource_page_has_the_gateway_panel(people: Gw) -> None:
    gw = people
    dev = gw.person(Role.developer)
    page = gw.client.get(f"/catalog/{PEOPLE}", headers=dev)
    assert page.status_code == 200
    assert 'data-testid="gateway-panel"' in page.text
    assert f'href="/requests?resource={PEOPLE}"' in page.text
    assert "有条件共享" in page.text
    assert "需经共享申请获批后才能查看数据" in page.text  # no grant yet: no rows
    own = gw.client.get(f"/catalog/{PEOPLE}", headers=gw.officer("LYGA"))
    assert 'data-testid="sample-rows"' in own.text  # the provider sees its rows, in clear
    assert gw.frames[PEOPLE]["gmsfhm"][0] in own.text
