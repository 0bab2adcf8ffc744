"""CKAN `datastore_search`: the same grants, masking, limits and metering, CKAN's shapes."""

from __future__ import annotations

import json

import polars as pl
from sqlalchemy import select

from cityhub.gateway.models import UsageRecord
from cityhub.security.models import Role

from .conftest import Gw
from .helpers import PEOPLE

ACTION = "/api/3/action/datastore_search"


def _bare(key: dict[str, str]) -> dict[str, str]:
    return {"Authorization": key["Authorization"].removeprefix("Bearer ")}


def test_datastore_search_with_a_bare_key(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    frame = gw.frames[PEOPLE]
    answer = gw.client.get(
        f"{ACTION}?resource_id={PEOPLE}&limit=5&filters="
        + json.dumps({"xzqh": ["371302", "371311"]}),
        headers=_bare(key),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    assert body["help"].endswith("help_show?name=datastore_search")
    result = body["result"]
    assert result["total"] == frame.filter(pl.col("xzqh").is_in(["371302", "371311"])).height
    assert len(result["records"]) == 5
    assert [f["id"] for f in result["fields"]][:2] == ["xm", "gmsfhm"]
    assert {f["type"] for f in result["fields"]} >= {"text", "date", "int8"}
    assert all("********" in r["gmsfhm"] for r in result["records"])
    assert result["masked"] == ["xm", "gmsfhm", "lxdh"]


def test_post_with_fields_sort_offset_and_the_ckan_key_header(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    headers = {"X-CKAN-API-Key": _bare(key)["Authorization"]}
    body = {"resource_id": PEOPLE, "fields": ["nl", "xzqh"], "sort": "nl desc", "limit": 3}
    first = gw.client.post(ACTION, json=body, headers=headers).json()["result"]
    second = gw.client.post(ACTION, json={**body, "offset": 3}, headers=headers).json()["result"]
    ages = sorted(gw.frames[PEOPLE]["nl"].to_list(), reverse=True)
    assert [r["nl"] for r in first["records"] + second["records"]] == ages[:6]
    assert set(first["records"][0]) == {"nl", "xzqh"}
    # The ckanapi client's path answers the same.
    same = gw.client.post("/api/action/datastore_search", json=body, headers=headers).json()
    assert same["result"]["records"] == first["records"]


def test_q_searches_granted_text_in_clear_only(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    frame = gw.frames[PEOPLE]
    region = "371325"
    hits = gw.client.get(f"{ACTION}?resource_id={PEOPLE}&q={region}&limit=1000", headers=key)
    records = hits.json()["result"]["records"]
    want = frame.filter(
        pl.col("xzqh").str.contains(region) | pl.col("xb").str.contains(region)
    ).height
    assert len(records) == want > 0  # the masked ID numbers are not searched
    one_id = frame["gmsfhm"][0]
    assert (
        gw.client.get(f"{ACTION}?resource_id={PEOPLE}&q={one_id}", headers=key).json()["result"][
            "total"
        ]
        == 0
    )


def test_ckan_errors_use_ckans_envelope(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE, items=["xm", "xb"])
    cases = [
        (f"{ACTION}?resource_id=101001-LYGA-999999", key, 404, "Not Found Error", "no resource"),
        (
            f"{ACTION}?resource_id={PEOPLE}&fields=gmsfhm",
            key,
            403,
            "Authorization Error",
            "公民身份号码",
        ),
        (f"{ACTION}?resource_id={PEOPLE}&limit=x", key, 409, "Validation Error", "limit"),
        (f"{ACTION}?resource_id={PEOPLE}&sort=xm%20up", key, 409, "Validation Error", "sort"),
        (f"{ACTION}?resource_id={PEOPLE}&filters=%7Bbad", key, 409, "Validation Error", "filters"),
        (f"{ACTION}", key, 409, "Validation Error", "resource_id"),
        (
            f"{ACTION}?resource_id={PEOPLE}",
            {"Authorization": "wrong"},
            401,
            "Authorization Error",
            "malformed",
        ),
    ]
    for url, headers, status, kind, message in cases:
        answer = gw.client.get(url, headers=headers)
        assert answer.status_code == status, (url, answer.text)
        body = answer.json()
        assert body["success"] is False
        assert body["error"]["__type"] == kind
        assert message in body["error"]["message"], body
    outsider = gw.person(Role.viewer, org="LYMZ")
    refused = gw.client.get(f"{ACTION}?resource_id={PEOPLE}", headers=outsider)
    assert refused.json()["error"]["__type"] == "Authorization Error"


def test_datastore_search_is_limited_and_metered(people: Gw) -> None:
    gw = people
    gw.settings.meter_flush_seconds = 0
    key, app_id = gw.granted_key(PEOPLE)
    admin = gw.person(Role.platform_admin, org="LYZHYY")
    gw.client.put(
        f"/api/v1/applications/{app_id}/limits", json={"rate_limit": 1, "burst": 1}, headers=admin
    )
    ok = gw.client.get(f"{ACTION}?resource_id={PEOPLE}&limit=4", headers=key)
    limited = gw.client.get(f"{ACTION}?resource_id={PEOPLE}&limit=4", headers=key)
    assert ok.status_code == 200
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert limited.json()["error"]["__type"] == "Rate Limit Error"
    with gw.db() as session:
        usage = session.scalars(select(UsageRecord).order_by(UsageRecord.id)).all()
    assert [(u.endpoint, u.status, u.rows) for u in usage] == [
        ("datastore_search", 200, 4),
        ("datastore_search", 429, 0),
    ]
