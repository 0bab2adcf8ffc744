"""The CKAN Action API read by the real `ckanapi` client against the app under uvicorn,
plus the envelope, status codes and credentials CKAN clients rely on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckanapi
import httpx
import pytest

from .helpers import AIR, ENTITIES, POPULATION, Headers, body

Publish = Callable[..., dict[str, Any]]


@pytest.fixture
def catalog(publish: Publish) -> None:
    publish(POPULATION)  # closed: signed-in users only
    publish(AIR)
    publish(ENTITIES)
    publish(body(AIR, code="402001-LYSTHJ-000002", name="地表水水质监测数据"), "draft")


def _key(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.mark.usefixtures("catalog")
def test_ckanapi_reads_the_open_catalog_anonymously(live_server: str) -> None:
    with ckanapi.RemoteCKAN(live_server, user_agent="cityhub-tests") as ckan:
        assert ckan.action.package_list() == ["102001-LYSJ-000001", "402001-LYSTHJ-000001"]
        package = ckan.action.package_show(id="402001-LYSTHJ-000001")
        assert package["title"] == "空气质量监测数据"
        assert package["organization"]["name"] == "LYSTHJ"
        assert package["organization"]["title"] == "临沂市生态环境局"
        assert package["groups"][0]["name"] == "topic"
        assert [t["name"] for t in package["tags"]] == ["空气质量", "环境监测"]
        assert package["private"] is False and package["state"] == "active"
        extras = {e["key"]: e["value"] for e in package["extras"]}
        assert extras["share_type"] == "unconditional" and extras["update_cycle"] == "realtime"
        resource = package["resources"][0]
        assert resource["format"] == "JSON" and resource["datastore_active"] is True
        assert resource["url"].endswith("/api/v1/resources/402001-LYSTHJ-000001/rows")

        with pytest.raises(ckanapi.NotAuthorized):
            ckan.action.package_show(id=POPULATION["code"])  # closed: log in
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="402001-LYSTHJ-000002")  # a draft
        with pytest.raises(ckanapi.NotFound):
            ckan.action.package_show(id="999999-NOPE-000001")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_show()

        orgs = ckan.action.organization_list(all_fields=True)
        assert [(o["name"], o["package_count"]) for o in orgs] == [("LYSJ", 1), ("LYSTHJ", 1)]
        org = ckan.action.organization_show(id="LYSTHJ", include_datasets=True)
        assert [p["name"] for p in org["packages"]] == ["402001-LYSTHJ-000001"]
        with pytest.raises(ckanapi.NotFound):
            ckan.action.organization_show(id="NOPE")

        groups = ckan.action.group_list(all_fields=True)
        assert {g["name"]: g["package_count"] for g in groups} == {
            "basic": 1,
            "business": 0,
            "department": 0,
            "theme": 0,
            "topic": 1,
        }
        assert ckan.action.group_list() == ["basic", "business", "department", "theme", "topic"]
        group = ckan.action.group_show(id="basic", include_datasets=True)
        assert group["title"] == "基础资源库"
        assert [p["name"] for p in group["packages"]] == ["102001-LYSJ-000001"]


@pytest.mark.usefixtures("catalog")
def test_ckanapi_package_search_with_q_fq_rows_start_sort_and_facets(
    live_server: str, people: dict[str, Headers]
) -> None:
    with ckanapi.RemoteCKAN(live_server, apikey=_key(people["viewer"])) as ckan:
        found = ckan.action.package_search(q="人口")
        assert found["count"] == 1 and found["results"][0]["title"] == "人口基础信息"
        everything = ckan.action.package_search(
            q="*:*",
            rows=2,
            start=0,
            sort="name asc",
            **{"facet.field": ["organization", "groups", "res_format", "tags"]},
        )
        assert everything["count"] == 3
        assert [p["name"] for p in everything["results"]] == [
            "101001-LYGA-000001",
            "102001-LYSJ-000001",
        ]
        assert everything["facets"]["groups"] == {"basic": 2, "topic": 1}
        assert everything["facets"]["res_format"] == {"JSON": 2, "API": 1}
        assert everything["facets"]["organization"] == {"LYGA": 1, "LYSJ": 1, "LYSTHJ": 1}
        items = everything["search_facets"]["organization"]["items"]
        assert {i["name"]: i["display_name"] for i in items}["LYGA"] == "临沂市公安局"
        rest = ckan.action.package_search(q="*:*", rows=2, start=2, sort="name asc")
        assert len(everything["results"]) == 2 and len(rest["results"]) == 1
        assert [p["name"] for p in rest["results"]] == ["402001-LYSTHJ-000001"]
        by_title = ckan.action.package_search(sort="title_string asc")
        assert [p["title"] for p in by_title["results"]] == sorted(
            p["title"] for p in by_title["results"]
        )
        filtered = ckan.action.package_search(fq='groups:basic organization:"LYSJ"')
        assert [p["name"] for p in filtered["results"]] == ["102001-LYSJ-000001"]
        tagged = ckan.action.package_search(q="tags:人口")
        assert [p["title"] for p in tagged["results"]] == ["人口基础信息"]
        by_format = ckan.action.package_search(fq="res_format:API")
        assert [p["title"] for p in by_format["results"]] == ["法人基础信息"]
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_search(fq="colour:red")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_search(sort="random asc")
        with pytest.raises(ckanapi.ValidationError):
            ckan.action.package_search(rows=5000)
        # the signed-in caller sees the closed resource's metadata
        assert ckan.action.package_show(id=POPULATION["code"])["private"] is True


@pytest.mark.usefixtures("catalog")
def test_credentials_the_ckan_way_and_the_error_envelope(
    live_server: str, people: dict[str, Headers]
) -> None:
    key = _key(people["viewer"])
    show = "/api/3/action/package_show"
    for headers in ({"Authorization": key}, {"X-CKAN-API-Key": key}, people["viewer"]):
        answer = httpx.get(live_server + show, params={"id": POPULATION["code"]}, headers=headers)
        assert answer.status_code == 200, (headers, answer.text)
        envelope = answer.json()
        assert envelope["success"] is True and envelope["result"]["name"] == POPULATION["code"]
        assert envelope["help"].endswith("/api/3/action/help_show?name=package_show")
    bad = httpx.get(live_server + show, params={"id": "x"}, headers={"Authorization": "chk_no_pe"})
    assert bad.status_code == 403
    assert bad.json()["error"]["__type"] == "Authorization Error"
    assert bad.json()["success"] is False
    missing = httpx.get(live_server + "/api/action/package_show", params={"id": "nope"})
    assert missing.status_code == 404
    assert missing.json() == {
        "help": live_server + "/api/3/action/help_show?name=package_show",
        "success": False,
        "error": {"__type": "Not Found Error", "message": "Not found: no dataset 'nope'"},
    }
    unknown = httpx.post(live_server + "/api/3/action/package_delete", json={"id": "x"})
    assert unknown.status_code == 400
    assert (
        unknown.json()["error"]["message"] == "Bad request - Action name not known: package_delete"
    )
    not_json = httpx.post(
        live_server + "/api/3/action/package_search",
        content=b"[1, 2]",
        headers={"content-type": "application/json"},
    )
    assert not_json.status_code == 400 and not_json.json()["success"] is False
    missing_id = httpx.get(live_server + "/api/3/action/organization_show")
    assert missing_id.status_code == 409
    assert missing_id.json()["error"] == {
        "__type": "Validation Error",
        "message": "id: Missing value",
        "id": ["Missing value"],
    }
    # the same action at both paths, GET and POST
    listed = {
        httpx.get(live_server + "/api/3/action/package_list").json()["result"].__len__(),
        httpx.post(live_server + "/api/action/package_list", json={}).json()["result"].__len__(),
    }
    assert listed == {2}
