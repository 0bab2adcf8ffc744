"""GB/T 2260 region codes: the shipped list and the lookups over it."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityhub.standards import regions

LINYI = {
    "371302": "兰山区",
    "371311": "罗庄区",
    "371312": "河东区",
    "371321": "沂南县",
    "371322": "郯城县",
    "371323": "沂水县",
    "371324": "兰陵县",
    "371325": "费县",
    "371326": "平邑县",
    "371327": "莒南县",
    "371328": "蒙阴县",
    "371329": "临沭县",
}
SHANDONG_CITIES = {
    "370100": "济南市",
    "370200": "青岛市",
    "370300": "淄博市",
    "370400": "枣庄市",
    "370500": "东营市",
    "370600": "烟台市",
    "370700": "潍坊市",
    "370800": "济宁市",
    "370900": "泰安市",
    "371000": "威海市",
    "371100": "日照市",
    "371300": "临沂市",
    "371400": "德州市",
    "371500": "聊城市",
    "371600": "滨州市",
    "371700": "菏泽市",
}


def test_provinces() -> None:
    provinces = [r for r in regions.all_regions() if r.level == "province"]
    assert len(provinces) == 34
    assert {r.code[:2] for r in provinces} == regions.PROVINCE_PREFIXES
    assert regions.name("370000") == "山东省"
    assert regions.name("810000") == "香港特别行政区"
    assert regions.name("110100") == "市辖区"  # GB/T 2260's name for a municipality's districts


def test_shandong_cities_and_linyi_counties() -> None:
    listed = {r.code: r.name for r in regions.all_regions()}
    assert {c: n for c, n in listed.items() if c.startswith("37") and c.endswith("00")} == {
        "370000": "山东省",
        **SHANDONG_CITIES,
    }
    assert {c: n for c, n in listed.items() if c.startswith("3713") and c != "371300"} == LINYI
    for code in LINYI:
        assert regions.is_valid(code)
        assert regions.level(code) == "county"
        assert regions.parent(code) == "371300"
        assert regions.city_of(code) == "371300"
        assert regions.province_of(code) == "370000"


def test_list_is_consistent() -> None:
    table = regions.all_regions()
    assert len(table) > 3000  # nationwide, not just the minimum
    codes = {r.code for r in table}
    for r in table:
        assert r.code[:2] in regions.PROVINCE_PREFIXES
        assert (r.parent is None) == (r.level == "province")
        assert r.parent is None or r.parent in codes
        assert r.name


def test_levels_and_parents() -> None:
    assert regions.level("370000") == "province"
    assert regions.level("371300") == "city"
    assert regions.level("371302") == "county"
    assert regions.parent("370000") is None
    assert regions.parent("371300") == "370000"
    assert regions.parent("110101") == "110100"  # Beijing's 市辖区
    assert regions.parent("419001") == "410000"  # 济源市, administered by the province
    assert regions.city_of("370000") is None
    assert regions.city_of("371300") == "371300"
    assert regions.province_of("371302") == "370000"
    for bad in ("99000", "990000", "37130a", "", "３７１３０２"):
        assert regions.province_of(bad) is None
        assert regions.city_of(bad) is None
        assert regions.parent(bad) is None
        with pytest.raises(ValueError):
            regions.level(bad)


@pytest.mark.parametrize("code", ["371399", "990000", "37130", "3713020", "３７１３０２", ""])
def test_invalid(code: str) -> None:
    assert not regions.is_valid(code)
    assert regions.name(code) is None


def test_series() -> None:
    s = pl.Series("region", ["371302", "371399", None])
    assert regions.validate_series(s).to_list() == [True, False, False]
    assert regions.validate_series(pl.Series([371302, 1])).to_list() == [True, False]


listed_codes = st.sampled_from([r.code for r in regions.all_regions()])
candidates = st.one_of(
    listed_codes,
    st.text("0123456789", min_size=5, max_size=7),
    st.text(max_size=8),
    st.none(),
)


@given(st.lists(candidates, max_size=40))
def test_vectorized_matches_scalar(values: list[str | None]) -> None:
    got = regions.validate_series(pl.Series(values, dtype=pl.String)).to_list()
    assert got == [v is not None and regions.is_valid(v) for v in values]
