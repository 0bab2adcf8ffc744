"""The rest of the demo city's base data, vectorized: market entities (about one per 10
residents, with valid GB 32100 credit codes and GB/T 4754 industries) as 市场监管, 税务
and 人社 deliver them; economic indicators by county and quarter (统计); grids,
addresses and buildings and points of interest (自然资源和规划)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from cityhub.library.generate import (
    COUNTIES,
    COUNTY_CODES,
    COUNTY_WEIGHTS,
    REFERENCE_DATE,
    TOWNS,
    Rng,
    _names,
    _take,
)
from cityhub.standards import industry
from cityhub.standards.credit_code import ALPHABET, ORG_WEIGHTS
from cityhub.standards.credit_code import WEIGHTS as CREDIT_WEIGHTS

_BODY_SPACE = 31**6  # "MA" + six code characters: new companies' organization codes
_STRIDE = 48_271  # coprime with 31: i -> (i * stride + offset) mod space is a permutation
WORDS = (
    "商贸",
    "物流",
    "科技",
    "食品",
    "建材",
    "纺织",
    "电子",
    "农业",
    "文化",
    "医药",
    "机械",
    "家具",
    "陶瓷",
    "五金",
    "化工",
    "印刷",
    "包装",
    "服装",
    "餐饮",
    "汽车服务",
)
FORMS = ("有限公司", "有限责任公司", "股份有限公司", "个体工商户", "农民专业合作社")
FORM_TYPES = ("1100", "1100", "1200", "9500", "9100")  # 市场主体类型 of each form
SCOPES = (
    "批发零售",
    "技术开发、技术服务",
    "道路货物运输",
    "食品生产销售",
    "建筑材料销售",
    "农产品种植销售",
    "餐饮服务",
    "仓储服务（不含危险化学品）",
    "机械设备制造",
    "文化艺术交流",
)
STATUS = ("存续", "注销", "吊销")
TAX_STATUS = ("正常", "非正常", "注销")
TAX_GRADES = ("A", "B", "M", "C", "D")


def credit_codes(index: npt.NDArray[np.int64], county: npt.NDArray[np.int64]) -> pl.Series:
    """Unique valid credit codes 91<county>MA<6><org check><check> for entity `index`."""
    n = len(index)
    body_number = (index * _STRIDE + 7_654_321) % _BODY_SPACE
    six = (body_number[:, None] // 31 ** np.arange(5, -1, -1)) % 31
    body = np.hstack(
        [np.full((n, 1), ALPHABET.index("M")), np.full((n, 1), ALPHABET.index("A")), six]
    )
    base36 = np.array([int(c, 36) for c in ALPHABET])[body]  # GB 11714 counts A=10 ... Z=35
    org = (11 - (base36 * np.array(ORG_WEIGHTS)).sum(axis=1) % 11) % 11
    org_value = np.where(org == 10, ALPHABET.index("X"), org)
    region = np.array([[int(c) for c in code] for code in COUNTY_CODES])[county]
    head = np.hstack([np.full((n, 1), 9), np.full((n, 1), 1), region, body, org_value[:, None]])
    check = (31 - (head * np.array(CREDIT_WEIGHTS)).sum(axis=1) % 31) % 31
    chars = np.hstack([head, check[:, None]])
    alphabet = pl.Series(list(ALPHABET), dtype=pl.String)
    columns = [alphabet.gather(pl.Series(chars[:, i])) for i in range(18)]
    return (
        pl.DataFrame(columns, schema=[f"c{i}" for i in range(18)])
        .select(pl.concat_str(pl.all()))
        .to_series()
    )


@dataclass(frozen=True)
class Entities:
    """Market entities, streamed in chunks; same seed and N, same entities."""

    n: int
    seed: int = 2020
    chunk_rows: int = 100_000
    reference: date = REFERENCE_DATE

    def chunks(self) -> Iterator[pl.DataFrame]:
        """As 市场监管 registers them (the items of 法人基础信息 it holds)."""
        divisions = sorted(industry.divisions())
        for index, start in enumerate(range(0, self.n, self.chunk_rows)):
            size = min(self.chunk_rows, self.n - start)
            rng = np.random.default_rng([self.seed, 7, index])
            yield self._chunk(rng, np.arange(start, start + size, dtype=np.int64), divisions)

    def _chunk(self, rng: Rng, index: npt.NDArray[np.int64], divisions: list[str]) -> pl.DataFrame:
        n = len(index)
        county = rng.choice(len(COUNTY_CODES), n, p=COUNTY_WEIGHTS).astype(np.int64)
        place = _take([name[:-1] if len(name) > 2 else name for _, name, _ in COUNTIES], county)
        form = rng.choice(len(FORMS), n, p=[0.6, 0.2, 0.05, 0.1, 0.05])
        name = (
            "临沂"
            + place
            + _take(list("鑫华泰盛源恒祥瑞丰达宏远"), rng.integers(0, 12, n))
            + _take(list("通利兴隆鼎诚嘉和信安"), rng.integers(0, 10, n))
            + _take(WORDS, rng.integers(0, len(WORDS), n))
            + _take(FORMS, form)
        )
        authority = "临沂市" + _take([name for _, name, _ in COUNTIES], county) + "市场监督管理局"
        founded = np.datetime64(self.reference.isoformat(), "D") - rng.integers(30, 30 * 365, n)
        towns = [t for code in COUNTY_CODES for t in TOWNS[code][:5]]
        address = (
            "山东省临沂市"
            + _take([name for _, name, _ in COUNTIES], county)
            + _take(towns, county * 5 + rng.integers(0, 5, n))
            + pl.Series(rng.integers(1, 999, n)).cast(pl.String)
            + "号"
        )
        return pl.DataFrame(
            {
                "tyshxydm": credit_codes(index, county),
                "dwmc": name,
                "fddbr": _names(rng, rng.random(n) < 0.7),
                "zcdz": address,
                "clrq": pl.Series(founded.astype("datetime64[D]")).cast(pl.Date),
                "sczlx": _take(FORM_TYPES, form),
                "zczb": pl.Series(np.round(rng.lognormal(4.0, 1.5, n), 2)),
                "jyfw": _take(SCOPES, rng.integers(0, len(SCOPES), n)),
                "djjg": authority,
                "hydm": _take(divisions, rng.integers(0, len(divisions), n)),
                "djzt": _take(STATUS, rng.choice(3, n, p=[0.92, 0.05, 0.03])),
            }
        )


def entity_departments(rng: Rng, firms: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """What 税务 and 人社 deliver about `firms` (overlapping, a few name conflicts)."""
    n = firms.height
    taxed = pl.Series(rng.random(n) < 0.9)
    short = pl.Series(rng.random(n) < 0.02)  # 简称 instead of the registered name
    tax = firms.select(
        "tyshxydm",
        pl.when(short).then(pl.col("dwmc").str.slice(0, 6)).otherwise(pl.col("dwmc")).alias("dwmc"),
        _take(TAX_STATUS, rng.choice(3, n, p=[0.9, 0.07, 0.03])).alias("nsrzt"),
        _take(TAX_GRADES, rng.choice(5, n, p=[0.2, 0.35, 0.25, 0.15, 0.05])).alias("nsxydj"),
    ).filter(taxed)
    employers = pl.Series(rng.random(n) < 0.6)
    staff = pl.Series(np.maximum(1, rng.lognormal(2.0, 1.2, n)).astype(np.int64))
    units = firms.select("tyshxydm", "dwmc", staff.alias("cbrs")).filter(employers)
    return {"swj": tax, "rs": units}


INDICATORS: tuple[tuple[str, str, str, float], ...] = (
    # code, name, unit, city value per quarter at the reference year
    ("GDP", "地区生产总值", "亿元", 1460.0),
    ("CZRK", "常住人口", "万人", 1100.0),
    ("SHXFP", "社会消费品零售总额", "亿元", 700.0),
    ("YBGGYS", "一般公共预算收入", "亿元", 95.0),
    ("GYZJZ", "规模以上工业增加值增速", "%", 6.5),
)


def economy(
    seed: int,
    population_by_county: dict[str, int] | None = None,
    years: tuple[int, ...] = (2023, 2024),
) -> pl.DataFrame:
    """统计局 indicators for the city and each county, by quarter."""
    rng = np.random.default_rng([seed, 11])
    shares = dict(zip(COUNTY_CODES, COUNTY_WEIGHTS, strict=True))
    if population_by_county:
        total = sum(population_by_county.values()) or 1
        shares = {c: population_by_county.get(c, 0) / total for c in COUNTY_CODES}
    rows = []
    for year in years:
        for quarter in range(1, 5):
            period = f"{year}Q{quarter}"
            growth = 1 + 0.05 * (year - years[-1]) + 0.01 * quarter
            for code, name, unit, city in INDICATORS:
                rate = code == "GYZJZ"
                rows.append(
                    ("371300", period, code, name, round(city * (1 if rate else growth), 2), unit)
                )
                for county, share in shares.items():
                    noise = rng.normal(1, 0.05)
                    value = city * noise if rate else city * share * growth * noise
                    rows.append((county, period, code, name, round(value, 2), unit))
    schema = ["qhdm", "tjq", "zbdm", "zbmc", "zbz", "jldw"]
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class Centre:
    code: str
    lon: float
    lat: float
    area: float


POI_KINDS = (
    ("学校", 0.2),
    ("医院", 0.08),
    ("避难场所", 0.05),
    ("商场", 0.17),
    ("公园", 0.1),
    ("加油站", 0.08),
    ("银行", 0.12),
    ("政务服务中心", 0.05),
    ("物流园", 0.15),
)


def _around(
    rng: Rng, centres: list[Centre], county: npt.NDArray[np.int64]
) -> tuple[pl.Series, pl.Series]:
    lon = np.array([c.lon for c in centres])[county] + rng.normal(0, 0.08, len(county))
    lat = np.array([c.lat for c in centres])[county] + rng.normal(0, 0.06, len(county))
    return pl.Series(np.round(lon, 6)), pl.Series(np.round(lat, 6))


def spatial(seed: int, centres: list[Centre], residents: int) -> dict[str, pl.DataFrame]:
    """Regions, grids (about one per 2,000 residents), addresses and buildings (one per 30),
    points of interest (one per 100) of the counties in `centres`."""
    rng = np.random.default_rng([seed, 13])
    regions = pl.DataFrame(
        {
            "qhdm": [c.code for c in centres],
            "qhmc": [dict((c, n) for c, n, _ in COUNTIES).get(c.code, c.code) for c in centres],
            "sjqhdm": ["371300" for _ in centres],
            "zxjd": [c.lon for c in centres],
            "zxwd": [c.lat for c in centres],
        }
    )
    weights = np.array(
        [dict(zip(COUNTY_CODES, COUNTY_WEIGHTS, strict=True)).get(c.code, 0.0) for c in centres]
    )
    weights = weights / weights.sum() if weights.sum() else np.full(len(centres), 1 / len(centres))
    codes = np.array([c.code for c in centres])

    def place(n: int) -> npt.NDArray[np.int64]:
        return np.sort(rng.choice(len(centres), n, p=weights)).astype(np.int64)

    n_grids = max(len(centres) * 3, residents // 2000)
    g = place(n_grids)
    grid_no = pl.Series(np.arange(n_grids) - np.searchsorted(g, g) + 1)  # 1.. within a county
    grid_code = pl.Series(codes[g]) + "G" + grid_no.cast(pl.String).str.zfill(5)
    lon, lat = _around(rng, centres, g)
    grids = pl.DataFrame({"wgbm": grid_code}).with_columns(
        ("网格" + grid_no.cast(pl.String)).alias("wgmc"),
        pl.Series(codes[g]).alias("qhdm"),
        lon.alias("zxjd"),
        lat.alias("zxwd"),
        pl.Series(
            np.round(
                np.array([c.area for c in centres])[g] / np.bincount(g, minlength=len(centres))[g],
                3,
            )
        ).alias("mj"),
    )

    n_addr = max(50, residents // 30)
    a = place(n_addr)
    serial = pl.Series(np.arange(n_addr)).cast(pl.String).str.zfill(9)
    lon, lat = _around(rng, centres, a)
    addresses = pl.DataFrame(
        {
            "dzbm": pl.Series(codes[a]) + "D" + serial,
            "bzdz": "山东省临沂市"
            + _take([dict((c, n) for c, n, _ in COUNTIES).get(x, x) for x in codes], a)
            + pl.Series(rng.integers(1, 500, n_addr)).cast(pl.String)
            + "号楼",
            "qhdm": pl.Series(codes[a]),
            "wgbm": grid_code.gather(pl.Series(rng.integers(0, n_grids, n_addr))),
            "ldcs": pl.Series(rng.choice([2, 6, 11, 18, 26, 33], n_addr)).cast(pl.Int64),
            "jd": lon,
            "wd": lat,
        }
    )

    n_poi = max(30, residents // 100)
    p = place(n_poi)
    kinds = [k for k, _ in POI_KINDS]
    kind_index = rng.choice(
        len(kinds), n_poi, p=np.array([w for _, w in POI_KINDS]) / sum(w for _, w in POI_KINDS)
    )
    lon, lat = _around(rng, centres, p)
    pois = pl.DataFrame(
        {
            "poibm": pl.Series(codes[p])
            + "P"
            + pl.Series(np.arange(n_poi)).cast(pl.String).str.zfill(9),
            "mc": _take(kinds, kind_index)
            + pl.Series(np.arange(n_poi) % 97 + 1).cast(pl.String)
            + "号",
            "lb": _take(kinds, kind_index),
            "qhdm": pl.Series(codes[p]),
            "jd": lon,
            "wd": lat,
        }
    )
    return {"regions": regions, "grids": grids, "addresses": addresses, "pois": pois}
