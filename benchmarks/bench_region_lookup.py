"""Point-to-region lookup: vectorized `RegionIndex.locate_many` against a naive loop.

    python benchmarks/bench_region_lookup.py [--points 1000000] [--naive-sample 20000]

Random points uniform over Linyi's bounding box (about half fall inside the city). The
naive peer is what one writes without the index: for each point, a shapely Point tested
against each county polygon in turn, once on plain polygons (what is usually written) and
once on prepared ones (so that only the per-point Python loop is left); they run on a
sample, their rates are reported per point, and their answers are compared with the index.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import shapely

from cityhub.directory.regions import load_regions, region_index
from cityhub.settings import Settings


def naive(polygons: list[tuple[str, Any]], lons: np.ndarray, lats: np.ndarray) -> list[str | None]:
    out: list[str | None] = []
    for lon, lat in zip(lons.tolist(), lats.tolist(), strict=True):
        point = shapely.Point(lon, lat)
        out.append(next((code for code, poly in polygons if poly.intersects(point)), None))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="region lookup benchmark")
    parser.add_argument("--points", type=int, default=1_000_000, help="points for locate_many")
    parser.add_argument("--naive-sample", type=int, default=20_000, help="points for the loop")
    parser.add_argument("--seed", type=int, default=2020)
    args = parser.parse_args()

    settings = Settings(demo_mode=True)
    started = time.perf_counter()
    index = region_index(settings)
    build = time.perf_counter() - started
    records = {r.code: r for r in load_regions(settings)}
    minx, miny, maxx, maxy = records[settings.city_code].shape.bounds
    rng = np.random.default_rng(args.seed)
    lons = rng.uniform(minx, maxx, args.points)
    lats = rng.uniform(miny, maxy, args.points)

    index.locate_many(lons[:1000], lats[:1000])  # warm-up
    started = time.perf_counter()
    codes = index.locate_many(lons, lats)
    fast = time.perf_counter() - started

    n = min(args.naive_sample, args.points)
    # Fresh copies: the index prepared the loaded shapes in place.
    plain = [(c, shapely.from_wkb(shapely.to_wkb(records[c].shape))) for c in index.codes]
    prepared = [(c, shapely.from_wkb(shapely.to_wkb(records[c].shape))) for c in index.codes]
    for _, poly in prepared:
        shapely.prepare(poly)
    rates: list[tuple[str, int, float, bool]] = []
    for label, polygons, size in (
        ("naive, plain", plain, n),
        ("naive, prepared", prepared, n),
    ):
        started = time.perf_counter()
        answers = naive(polygons, lons[:size], lats[:size])
        took = time.perf_counter() - started
        rates.append((label, size, took, answers == codes[:size]))

    inside = sum(code is not None for code in codes)
    fast_rate = args.points / fast
    print(f"regions: {len(index.codes)} county-level polygons, index built in {build:.3f} s")
    print(f"points: {args.points:,} uniform in the city's bbox ({inside / args.points:.1%} inside)")
    print(
        f"{'locate_many':<16}: {args.points:>10,} pts in {fast:7.3f} s = {fast_rate:>11,.0f} pts/s"
    )
    for label, size, took, same in rates:
        rate = size / took
        print(
            f"{label:<16}: {size:>10,} pts in {took:7.3f} s = {rate:>11,.0f} pts/s"
            f"  (x{fast_rate / rate:,.0f} slower; 1M ~ {1e6 / rate:,.0f} s; same answers: {same})"
        )


if __name__ == "__main__":
    main()
