"""The library pages and their JSON twins: overview, a golden record with its lineage
(masked per the viewer's rights), the conflict log, zh-CN and English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.library import register
from cityhub.library.specs import FEEDS, POPULATION
from cityhub.security import service
from cityhub.security.deps import SESSION_COOKIE
from cityhub.security.models import Role
from cityhub.settings import Settings

from .conftest import Merge

POP = POPULATION.resource_code
MZ = next(code for code, (_, feed) in FEEDS.items() if feed.provider == "LYMZ")
ZHANG = "371302198001011239"


@pytest.fixture
def world(merge: Merge, db: sessionmaker[Session], providers: dict[str, int]) -> None:
    with transaction(db) as session:
        register.register_all(session)
    merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三", "csrq": "1980-01-01"}])
    merge(MZ, "LYMZ", [{"gmsfhm": ZHANG, "csrq": "1980-02-01", "hyzk": "20"}])


def login(
    client: TestClient,
    auth: Callable[..., dict[str, str]],
    db: sessionmaker[Session],
    settings: Settings,
    role: Role,
    org: str = "LYDSJ",
) -> None:
    """A browser session of a new user with `role` in `org`."""
    name = f"u_{org.lower()}"
    auth(role, org_code=org, username=name)
    with transaction(db) as session:
        token = service.start_session(session, service.get_user(session, name), settings)
    client.cookies.set(SESSION_COOKIE, token)


def test_overview_in_both_languages_with_its_json_twin(
    world: None, client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    page = client.get("/library?lang=zh-CN")
    assert page.status_code == 200
    assert (
        "公共数据库" in page.text and "人口基础信息" in page.text and "社会保障主题库" in page.text
    )
    english = client.get("/library?lang=en")
    assert "Population base library" in english.text
    data = client.get("/api/v1/library", headers=auth(Role.viewer)).json()
    population = next(lib for lib in data if lib["slug"] == "population")
    assert population["records"] == 1 and population["conflicts"] == 1
    assert [f["provider"]["code"] for f in population["feeds"]] == ["LYWJ", "LYMZ", "LYRS"]
    assert population["last_merges"][0]["provider"]["code"] == "LYMZ"
    assert client.get("/library/population").status_code == 200
    assert client.get("/library/nowhere").status_code == 404


def test_record_page_masks_for_the_auditor_and_needs_a_login(
    world: None,
    client: TestClient,
    auth: Callable[..., dict[str, str]],
    db: sessionmaker[Session],
    settings: Settings,
) -> None:
    assert client.get(f"/library/population/records?key={ZHANG}").status_code == 401
    login(client, auth, db, settings, Role.auditor)
    page = client.get(f"/library/population/records?key={ZHANG}")
    assert page.status_code == 200, page.text
    assert "371302********1239" in page.text and "张*" in page.text
    assert ZHANG not in page.text.replace(f"key={ZHANG}", "").replace(f"/{ZHANG}/", "")
    conflicts = client.get("/library/population/conflicts")
    assert conflicts.status_code == 200 and "保留权威来源的值" in conflicts.text


def test_record_page_is_clear_for_the_registrar(
    world: None,
    client: TestClient,
    auth: Callable[..., dict[str, str]],
    db: sessionmaker[Session],
    settings: Settings,
) -> None:
    login(client, auth, db, settings, Role.data_officer, org="LYGA")
    page = client.get(f"/library/population/records?key={ZHANG}")
    assert page.status_code == 200
    assert "张三" in page.text and "临沂市公安局" in page.text
