"""WGS-84 → GCJ-02: published reference values, vectorized use, and region lookup."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cityhub.directory.regions import region_index
from cityhub.sensing.geo import gcj02_to_wgs84, in_china, to_gcj02, to_wgs84, wgs84_to_gcj02
from cityhub.settings import Settings

from .helpers import register

# Reference pairs (WGS-84 -> GCJ-02) published with two independent implementations:
# wandergis/coordtransform (JavaScript) and Jun Cai's R package (Tiananmen).
KNOWN = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((116.39089, 39.90734), (116.39713094, 39.90874107)),
]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN)
def test_known_values(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lon, lat = to_gcj02(*wgs)
    assert lon == pytest.approx(gcj[0], abs=1e-8)
    assert lat == pytest.approx(gcj[1], abs=1e-8)


def test_vectorized_equals_scalar_and_outside_china_is_unchanged() -> None:
    lons = np.array([116.404, 116.39089, 118.35, 2.35, -74.0])
    lats = np.array([39.915, 39.90734, 35.06, 48.85, 40.7])
    glon, glat = wgs84_to_gcj02(lons, lats)
    for i in range(lons.size):
        assert (glon[i], glat[i]) == pytest.approx(to_gcj02(lons[i], lats[i]), abs=1e-12)
    assert list(in_china(lons, lats)) == [True, True, True, False, False]
    assert glon[3:].tolist() == [2.35, -74.0] and glat[3:].tolist() == [48.85, 40.7]
    # Around Linyi GCJ-02 lies ~0.0058° east of WGS-84 (see the boundaries' ATTRIBUTION.md).
    assert 0.004 < glon[2] - lons[2] < 0.008


def test_inverse_round_trip() -> None:
    lons, lats = np.linspace(117.5, 119.2, 50), np.linspace(34.3, 36.3, 50)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lons, lats))
    assert np.abs(back_lon - lons).max() < 1e-8 and np.abs(back_lat - lats).max() < 1e-8
    assert to_wgs84(*to_gcj02(118.35, 35.06)) == pytest.approx((118.35, 35.06), abs=1e-8)


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        wgs84_to_gcj02([1.0, 2.0], [1.0])


def _border_point(settings: Settings) -> tuple[float, float, str, str]:
    """A WGS-84 point whose raw coordinates fall in one county and its GCJ-02 position in
    another: near a border, the datum decides the region."""
    index = region_index(settings)
    lons, lats = np.meshgrid(np.linspace(118.0, 118.7, 300), np.linspace(34.8, 35.4, 300))
    x, y = lons.ravel(), lats.ravel()
    raw = index.locate_many(x, y)
    shifted = index.locate_many(*wgs84_to_gcj02(x, y))
    for i in range(x.size):
        if raw[i] and shifted[i] and raw[i] != shifted[i]:
            return float(x[i]), float(y[i]), str(raw[i]), str(shifted[i])
    raise AssertionError("no border point found")


def test_a_gnss_point_near_a_border_is_located_after_the_datum_shift(
    client: TestClient, operator: dict[str, str], settings: Settings
) -> None:
    lon, lat, naive, correct = _border_point(settings)
    register(client, operator, "AQ-BORDER", lonlat=(lon, lat))
    device = client.get("/api/v1/devices/AQ-BORDER", headers=operator).json()
    assert device["region_code"] == correct != naive
    assert (device["map_lon"], device["map_lat"]) == pytest.approx(to_gcj02(lon, lat), abs=1e-6)
    # Registered in GCJ-02 (surveyed on a Chinese map), the same place gives the same region.
    glon, glat = to_gcj02(lon, lat)
    register(client, operator, "AQ-BORDER-2", lonlat=(glon, glat), crs="gcj02")
    other = client.get("/api/v1/devices/AQ-BORDER-2", headers=operator).json()
    assert other["region_code"] == correct
    assert (other["lon"], other["lat"]) == pytest.approx((lon, lat), abs=1e-6)
