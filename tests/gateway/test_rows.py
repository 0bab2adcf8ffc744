"""The rows API: filters, fields, sort, keyset pages, masking, exports, and bad input."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import polars as pl
import pytest

from cityhub.security.models import Role

from .conftest import Gw
from .helpers import PEOPLE, problem

URL = f"/api/v1/resources/{PEOPLE}/rows"


@pytest.fixture
def clear(people: Gw) -> tuple[Gw, dict[str, str]]:
    """A key granted every item, the ID number and the name in clear text."""
    key, _app = people.granted_key(PEOPLE, clear=["gmsfhm", "xm"])
    return people, key


def _all(gw: Gw, key: dict[str, str], query: str) -> list[dict[str, Any]]:
    """Every page of `query`, following `next`."""
    out: list[dict[str, Any]] = []
    cursor = ""
    for _ in range(100):
        page = gw.client.get(f"{URL}?{query}{cursor}", headers=key)
        assert page.status_code == 200, page.text
        out += page.json()["items"]
        if page.json()["next"] is None:
            return out
        cursor = f"&cursor={page.json()['next']}"
    raise AssertionError("pagination did not end")


def test_filters_select_the_same_rows_as_polars(clear: tuple[Gw, dict[str, str]]) -> None:
    gw, key = clear
    frame = gw.frames[PEOPLE]
    cases = {
        "xzqh=371302": pl.col("xzqh") == "371302",
        "xzqh__in=371302,371311": pl.col("xzqh").is_in(["371302", "371311"]),
        "nl__gte=500": pl.col("nl") >= 500,
        "nl__gt=500&nl__lte=700": (pl.col("nl") > 500) & (pl.col("nl") <= 700),
        "nl__lt=100": pl.col("nl") < 100,
        "csrq__gte=2020-01-01": pl.col("csrq") >= pl.date(2020, 1, 1),
        "gmsfhm__prefix=371302": pl.col("gmsfhm").str.starts_with("371302"),
        "xb=1&xzqh=371325": (pl.col("xb") == "1") & (pl.col("xzqh") == "371325"),
    }
    for query, expected in cases.items():
        got = sorted(r["gmsfhm"] for r in _all(gw, key, f"{query}&limit=37"))
        want = sorted(frame.filter(expected)["gmsfhm"].to_list())
        assert got == want, query
        assert want, f"the test data should have rows for {query}"


def test_sort_and_keyset_pages_cover_every_row_once(clear: tuple[Gw, dict[str, str]]) -> None:
    gw, key = clear
    frame = gw.frames[PEOPLE]
    rows = _all(gw, key, "sort=-nl,csrq&fields=gmsfhm,nl,csrq&limit=23")
    assert len(rows) == frame.height
    assert len({r["gmsfhm"] for r in rows}) == frame.height
    keys = [(-r["nl"], r["csrq"]) for r in rows]
    assert keys == sorted(keys)
    assert set(rows[0]) == {"gmsfhm", "nl", "csrq"}


def test_cursor_must_match_its_sort(clear: tuple[Gw, dict[str, str]]) -> None:
    gw, key = clear
    cursor = gw.client.get(f"{URL}?sort=nl&limit=5", headers=key).json()["next"]
    problem(gw.client.get(f"{URL}?sort=-nl&cursor={cursor}", headers=key), 400, "another sort")
    problem(gw.client.get(f"{URL}?cursor=garbage!", headers=key), 400, "cursor")


def test_masked_items_come_back_masked(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    page = gw.client.get(f"{URL}?limit=5", headers=key).json()
    frame = gw.frames[PEOPLE]
    assert page["masked"] == ["xm", "gmsfhm", "lxdh"]
    for row in page["items"]:
        assert row["gmsfhm"][6:14] == "********"
        assert len(row["gmsfhm"]) == 18
        assert row["lxdh"][3:7] == "****"
        assert row["xm"][1:] == "*" * (len(row["xm"]) - 1)
    original = frame.filter(pl.col("gmsfhm").str.slice(14) == page["items"][0]["gmsfhm"][14:])
    assert original.height >= 1  # the kept tail is the real one
    # Equality on a masked item is allowed (verification); the answer stays masked.
    one = frame["gmsfhm"][3]
    found = gw.client.get(f"{URL}?gmsfhm={one}", headers=key).json()["items"]
    assert len(found) == 1 and found[0]["gmsfhm"] == one[:6] + "********" + one[-4:]


def test_ranges_prefixes_and_sorting_are_refused_on_masked_items(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    for query, what in (
        ("gmsfhm__prefix=3713", "prefix"),
        ("gmsfhm__gte=3713", "gte"),
        ("sort=lxdh", "sorting"),
    ):
        body = problem(gw.client.get(f"{URL}?{query}", headers=key), 403, "is masked for you")
        assert what in body["detail"]


def test_items_not_granted_are_refused_with_their_name(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE, items=["xm", "xzqh"])
    body = problem(gw.client.get(f"{URL}?fields=xm,gmsfhm", headers=key), 403, "公民身份号码")
    assert body["field"] == "gmsfhm"
    assert body["item_name"] == "公民身份号码"
    problem(gw.client.get(f"{URL}?nl__gte=3", headers=key), 403, "年龄 (nl) is not granted")
    problem(gw.client.get(f"{URL}?sort=csrq", headers=key), 403, "出生日期")
    page = gw.client.get(URL, headers=key).json()
    assert page["fields"] == ["xm", "xzqh"]


def test_bad_parameters_get_precise_problems(clear: tuple[Gw, dict[str, str]]) -> None:
    gw, key = clear
    get = gw.client.get
    body = problem(get(f"{URL}?colour=red", headers=key), 400, "unknown filter field 'colour'")
    assert "xm, gmsfhm" in body["detail"]
    problem(get(f"{URL}?nl__between=1", headers=key), 400, "unknown filter field 'nl__between'")
    problem(get(f"{URL}?nl=old", headers=key), 422, "'old' is not a valid integer")
    problem(get(f"{URL}?csrq__gte=yesterday", headers=key), 422, "出生日期 (csrq)")
    problem(get(f"{URL}?limit=0", headers=key), 422, "limit")
    problem(get(f"{URL}?limit=many", headers=key), 422, "whole number")
    problem(get(f"{URL}?format=xml", headers=key), 422, "format")
    problem(get(f"{URL}?fields=,", headers=key), 422, "fields: name at least one item")
    problem(get(f"{URL}?xb=1&xb=2", headers=key), 400, "given twice")
    problem(get(f"{URL}?nl__prefix=3", headers=key), 422, "text items only")
    problem(get("/api/v1/resources/101001-LYGA-999999/rows", headers=key), 404, "no resource")


def test_exports_stream_every_row_masked(people: Gw) -> None:
    gw = people
    key, _app = gw.granted_key(PEOPLE)
    frame = gw.frames[PEOPLE]
    csv_answer = gw.client.get(f"{URL}?format=csv&xzqh=371302", headers=key)
    assert csv_answer.status_code == 200
    assert csv_answer.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(csv_answer.text)))
    assert len(records) == frame.filter(pl.col("xzqh") == "371302").height
    assert all("********" in r["gmsfhm"] for r in records)

    ndjson = gw.client.get(f"{URL}?format=ndjson", headers=key)
    lines = [json.loads(line) for line in ndjson.text.splitlines()]
    assert len(lines) == frame.height
    assert ndjson.headers["content-type"].startswith("application/x-ndjson")

    whole = gw.client.get(f"{URL}?format=json&sort=nl&fields=nl,xm", headers=key).json()
    assert [r["nl"] for r in whole] == sorted(frame["nl"].to_list())
    capped = gw.client.get(f"{URL}?format=json&limit=7", headers=key).json()
    assert len(capped) == 7
    empty = gw.client.get(f"{URL}?format=csv&xzqh=999999&fields=xm,nl", headers=key)
    assert empty.text == "xm,nl\n"
    assert gw.client.get(f"{URL}?format=json&xzqh=999999", headers=key).json() == []


def test_the_provider_reads_its_own_rows_in_clear(people: Gw) -> None:
    gw = people
    officer = gw.officer("LYGA")
    page = gw.client.get(f"{URL}?limit=3", headers=officer).json()
    assert page["masked"] == []
    assert page["items"][0]["gmsfhm"] == gw.frames[PEOPLE]["gmsfhm"][0]
    outsider = gw.person(Role.developer, org="LYMZ")
    problem(gw.client.get(URL, headers=outsider), 403, "needs an application key")


def test_unpublished_or_non_tabular_resources_have_no_rows(gw: Gw) -> None:
    from .helpers import PEOPLE_ITEMS

    gw.publish(PEOPLE, share_type="conditional", condition="仅限政务用途", items=PEOPLE_ITEMS)
    officer = gw.officer("LYGA")
    assert gw.client.get(URL, headers=officer).json()["items"] == []  # table made on demand
    withdrawn = gw.client.post(
        f"/api/v1/resources/{PEOPLE}/withdraw", json={"comment": "停止共享"}, headers=officer
    )
    assert withdrawn.status_code == 200, withdrawn.text
    # The catalog's event reaches the gateway's cache at once.
    problem(gw.client.get(URL, headers=officer), 404, "not published (withdrawn)")
