"""Catalog search: Chinese full text (FTS5 trigram / pg_trgm, LIKE for 1-2 characters),
facets, filters, sorts, keyset pagination, and who sees what."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .helpers import AIR, ENTITIES, POPULATION, Headers, body

Publish = Callable[..., dict[str, Any]]


@pytest.fixture
def catalog(publish: Publish) -> None:
    """Three published resources (closed, open, conditionally open), a draft, a withdrawn."""
    publish(POPULATION)
    publish(AIR)
    publish(ENTITIES)
    publish(
        body(
            POPULATION,
            code="101001-LYGA-000002",
            name="流动人口居住登记信息",
            keywords=["流动人口"],
            regions=["371311"],
        ),
        "draft",
    )
    publish(
        body(AIR, code="402001-LYSTHJ-000002", name="地表水水质监测数据", keywords=["水质"]),
        "withdrawn",
    )


def _names(client: TestClient, headers: Headers | None = None, **params: Any) -> list[str]:
    answer = client.get("/api/v1/resources", params=params, headers=headers or {})
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


@pytest.mark.usefixtures("catalog")
def test_chinese_queries_find_resources_by_any_part_of_their_words(
    client: TestClient, people: dict[str, Headers]
) -> None:
    viewer = people["viewer"]
    assert _names(client, viewer, q="人口") == ["人口基础信息"]  # 2 characters: LIKE
    assert _names(client, viewer, q="人口基础") == ["人口基础信息"]  # trigram index
    assert _names(client, viewer, q="口基础信") == ["人口基础信息"]  # any substring
    assert _names(client, viewer, q="空气") == ["空气质量监测数据"]
    assert _names(client, viewer, q="户籍 人口") == ["人口基础信息"]  # every term must match
    assert _names(client, viewer, q="人口 空气") == []
    assert _names(client, viewer, q="公民身份号码") == ["人口基础信息"]  # an item's name
    assert _names(client, viewer, q="gmsfhm") == ["人口基础信息"]  # an item's code
    assert _names(client, viewer, q="公安局") == ["人口基础信息"]  # the provider's name
    assert _names(client, viewer, q="lysthj") == ["空气质量监测数据"]  # case-insensitive
    assert _names(client, viewer, q="基础资源库") == ["人口基础信息", "法人基础信息"]
    assert _names(client, viewer, q="人") == ["人口基础信息", "法人基础信息"]  # 1 character
    # LIKE and FTS syntax in a query is only text.
    assert _names(client, viewer, q="100%") == []
    assert _names(client, viewer, q="_") == []
    assert _names(client, viewer, q='"人口" OR') == []
    assert _names(client, viewer, q="NEAR(人口基础") == []


@pytest.mark.usefixtures("catalog")
def test_relevance_puts_name_matches_first(client: TestClient, people: dict[str, Headers]) -> None:
    # 法人基础信息's name contains 法人; 人口基础信息 mentions it nowhere.
    publish_more = client.post(
        "/api/v1/resources",
        json=body(
            POPULATION,
            code="101001-LYGA-000003",
            name="法人代表户籍核验",
            summary="核验法人基础信息中的法定代表人户籍",
        ),
        headers=people["ga_officer"],
    )
    assert publish_more.status_code == 201
    names = _names(client, people["admin"], q="法人基础")
    assert names == ["法人基础信息", "法人代表户籍核验"]  # name match, then summary match


@pytest.mark.usefixtures("catalog")
def test_facets_count_the_hits_by_every_dimension(
    client: TestClient, people: dict[str, Headers]
) -> None:
    answer = client.get("/api/v1/resources", headers=people["viewer"]).json()
    assert answer["total"] == 3
    facets = {
        name: {v["value"]: v["count"] for v in values} for name, values in answer["facets"].items()
    }
    assert facets == {
        "provider": {"LYGA": 1, "LYSTHJ": 1, "LYSJ": 1},
        "category": {"basic": 2, "topic": 1},
        "share_type": {"unconditional": 2, "conditional": 1},
        "open_type": {"open": 1, "conditional": 1, "closed": 1},
        "update_cycle": {"daily": 2, "realtime": 1},
        "region": {"371300": 3, "371302": 1},
    }
    labels = {v["value"]: (v["label_zh"], v["label_en"]) for v in answer["facets"]["share_type"]}
    assert labels["conditional"] == ("有条件共享", "Shared on conditions")
    region = answer["facets"]["region"][0]
    assert (region["value"], region["label_zh"]) == ("371300", "临沂市")

    narrowed = client.get(
        "/api/v1/resources",
        params={"category": "basic", "facet": ["share_type", "keyword", "format"]},
        headers=people["viewer"],
    ).json()
    assert narrowed["total"] == 2
    assert set(narrowed["facets"]) == {"share_type", "keyword", "format"}
    keyword_counts = {v["value"]: v["count"] for v in narrowed["facets"]["keyword"]}
    assert keyword_counts == {"人口": 1, "户籍": 1, "法人": 1, "企业": 1}


@pytest.mark.usefixtures("catalog")
def test_filters_combine(client: TestClient, people: dict[str, Headers]) -> None:
    viewer = people["viewer"]
    assert _names(client, viewer, region="371302") == ["人口基础信息"]
    assert _names(client, viewer, keyword="人口") == ["人口基础信息"]
    assert _names(client, viewer, keyword=["人口", "法人"]) == []  # every keyword given
    assert sorted(_names(client, viewer, share_type="unconditional")) == [
        "法人基础信息",
        "空气质量监测数据",
    ]
    assert _names(client, viewer, provider="LYSJ", open_type="conditional") == ["法人基础信息"]
    assert _names(client, viewer, category=["basic", "topic"], update_cycle="realtime") == [
        "空气质量监测数据"
    ]
    assert _names(client, viewer, format="api") == ["法人基础信息"]


@pytest.mark.usefixtures("catalog")
def test_who_sees_what(client: TestClient, people: dict[str, Headers]) -> None:
    assert sorted(_names(client)) == ["法人基础信息", "空气质量监测数据"]  # open part only
    assert len(_names(client, people["viewer"])) == 3  # every published resource
    assert len(_names(client, people["ga_officer"])) == 4  # and its own draft
    assert "流动人口居住登记信息" not in _names(client, people["env_officer"])
    assert "地表水水质监测数据" in _names(client, people["env_officer"])  # own, withdrawn
    assert len(_names(client, people["admin"])) == 5
    assert len(_names(client, people["auditor"])) == 5
    assert _names(client, status="draft") == []  # asking does not reveal drafts
    assert _names(client, people["ga_officer"], status="draft") == ["流动人口居住登记信息"]

    closed = client.get(f"/api/v1/resources/{POPULATION['code']}")
    assert closed.status_code == 401
    assert "not open to the public" in closed.json()["detail"]
    draft = client.get("/api/v1/resources/101001-LYGA-000002", headers=people["env_officer"])
    assert draft.status_code == 404
    own = client.get("/api/v1/resources/101001-LYGA-000002", headers=people["ga_viewer"])
    assert own.status_code == 200  # the whole organization sees its drafts
    open_one = client.get(f"/api/v1/resources/{AIR['code']}")
    assert open_one.status_code == 200 and open_one.json()["items"][0]["code"] == "zdmc"


def test_keyset_pagination_visits_every_hit_once_in_every_sort(
    client: TestClient, people: dict[str, Headers], publish: Publish
) -> None:
    names = ["人口甲", "人口乙", "人口丙", "人口丁", "人口戊", "人口己", "人口庚"]
    for n, name in enumerate(names, start=1):
        publish(
            body(POPULATION, code=f"101001-LYGA-{n:06d}", name=name),
            "published" if n % 2 else "draft",
        )
    officer = people["ga_officer"]
    for sort in ("relevance", "name", "publish_date", "updated"):
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"q": "人口", "sort": sort, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/resources", params=params, headers=officer).json()
            assert page["total"] == 7
            seen += [item["name"] for item in page["items"]]
            cursor = page["next"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(names), sort
    by_name = _names(client, officer, sort="name", limit=50)
    assert by_name == sorted(by_name)


@pytest.mark.usefixtures("catalog")
def test_bad_search_parameters_are_precise_problems(
    client: TestClient, people: dict[str, Headers]
) -> None:
    viewer = people["viewer"]
    page = client.get("/api/v1/resources", params={"sort": "name", "limit": 1}, headers=viewer)
    cursor = page.json()["next"]
    mixed = client.get(
        "/api/v1/resources", params={"sort": "updated", "cursor": cursor}, headers=viewer
    )
    assert mixed.status_code == 400
    assert mixed.json()["detail"] == "cursor does not belong to this search (its sort changed)"
    forged = client.get("/api/v1/resources", params={"cursor": "!!"}, headers=viewer)
    assert forged.status_code == 400
    facet = client.get("/api/v1/resources", params={"facet": "colour"}, headers=viewer)
    assert facet.status_code == 400 and "unknown facet 'colour'" in facet.json()["detail"]
    sort = client.get("/api/v1/resources", params={"sort": "random"}, headers=viewer)
    assert sort.status_code == 422 and sort.json()["detail"].startswith("query.sort:")
    enum = client.get("/api/v1/resources", params={"share_type": "maybe"}, headers=viewer)
    assert enum.status_code == 422 and enum.json()["detail"].startswith("query.share_type.0:")
    long = client.get("/api/v1/resources", params={"q": "x" * 201}, headers=viewer)
    assert long.status_code == 422
    terms = client.get("/api/v1/resources", params={"q": " ".join("abc" * 9)}, headers=viewer)
    assert terms.status_code == 400 and "at most 8 search terms" in terms.json()["detail"]


def test_the_index_follows_every_change_in_the_same_transaction(
    client: TestClient, people: dict[str, Headers], publish: Publish
) -> None:
    publish(POPULATION, "draft")
    officer = people["ga_officer"]
    code = POPULATION["code"]
    assert _names(client, officer, q="人口基础") == ["人口基础信息"]
    client.patch(f"/api/v1/resources/{code}", json={"name": "常住人口信息"}, headers=officer)
    assert _names(client, officer, q="人口基础") == []
    assert _names(client, officer, q="常住人口信") == ["常住人口信息"]
    client.patch(
        f"/api/v1/resources/{code}",
        json={"items": [{"name": "居住证编号", "code": "jzzbh", "data_type": "string"}]},
        headers=officer,
    )
    assert _names(client, officer, q="居住证编") == ["常住人口信息"]
    assert _names(client, officer, q="公民身份号码") == []
    # A refused change leaves the index as it was.
    refused = client.patch(
        f"/api/v1/resources/{code}",
        json={"name": "新名称新名称", "share_condition": ""},
        headers=officer,
    )
    assert refused.status_code == 422
    assert _names(client, officer, q="新名称") == []
    assert _names(client, officer, q="常住人口信") == ["常住人口信息"]
