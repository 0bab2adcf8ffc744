"""WGS-84 (what GNSS receivers report) to GCJ-02 (the datum of the bundled boundaries).

GCJ-02 is the published obfuscation used by Chinese maps (Amap, Tencent): a deterministic
offset of a few hundred metres computed on the Krasovsky 1940 ellipsoid. Points outside
China are not shifted. Vectorized over numpy arrays; the scalar forms call the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

_A = 6378245.0  # Krasovsky 1940 semi-major axis
_EE = 0.00669342162296594323  # its first eccentricity squared

Floats = npt.NDArray[np.float64]
Coords = Sequence[float] | npt.NDArray[np.floating[Any]]


def in_china(lons: Coords, lats: Coords) -> npt.NDArray[np.bool_]:
    """The rough bounding box inside which GCJ-02 differs from WGS-84."""
    x = np.asarray(lons, dtype=np.float64)
    y = np.asarray(lats, dtype=np.float64)
    result: npt.NDArray[np.bool_] = (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)
    return result


def _offsets(x: Floats, y: Floats) -> tuple[Floats, Floats]:
    """(dlon, dlat) in degrees at WGS-84 `x`, `y` (both arrays)."""
    u, v = x - 105.0, y - 35.0
    sq = np.sqrt(np.abs(u))
    common = (20.0 * np.sin(6.0 * u * math.pi) + 20.0 * np.sin(2.0 * u * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * u + 3.0 * v + 0.2 * v * v + 0.1 * u * v + 0.2 * sq + common
    dlat += (20.0 * np.sin(v * math.pi) + 40.0 * np.sin(v / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(v / 12.0 * math.pi) + 320.0 * np.sin(v * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + u + 2.0 * v + 0.1 * u * u + 0.1 * u * v + 0.1 * sq + common
    dlon += (20.0 * np.sin(u * math.pi) + 40.0 * np.sin(u / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(u / 12.0 * math.pi) + 300.0 * np.sin(u / 30.0 * math.pi)) * 2.0 / 3.0
    rad = y / 180.0 * math.pi
    magic = 1 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * math.pi)
    return dlon, dlat


def wgs84_to_gcj02(lons: Coords, lats: Coords) -> tuple[Floats, Floats]:
    """GCJ-02 longitudes and latitudes of WGS-84 points; outside China they are unchanged."""
    x = np.asarray(lons, dtype=np.float64).ravel()
    y = np.asarray(lats, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError("lons and lats must have the same length")
    dlon, dlat = _offsets(x, y)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def gcj02_to_wgs84(lons: Coords, lats: Coords, iterations: int = 6) -> tuple[Floats, Floats]:
    """The inverse by fixed-point iteration (no closed form exists); about 1e-9 degrees off."""
    gx = np.asarray(lons, dtype=np.float64).ravel()
    gy = np.asarray(lats, dtype=np.float64).ravel()
    x, y = gx.copy(), gy.copy()
    for _ in range(iterations):
        fx, fy = wgs84_to_gcj02(x, y)
        x, y = x - (fx - gx), y - (fy - gy)
    return x, y


def to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """One point, WGS-84 to GCJ-02."""
    x, y = wgs84_to_gcj02([lon], [lat])
    return float(x[0]), float(y[0])


def to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """One point, GCJ-02 to WGS-84."""
    x, y = gcj02_to_wgs84([lon], [lat])
    return float(x[0]), float(y[0])
