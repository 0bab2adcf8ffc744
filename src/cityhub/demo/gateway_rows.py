"""Generated rows for the tables behind demo resources, vectorized (numpy + Polars).

Values are chosen from each item's code and name: valid GB 11643 identity numbers and
GB 32100 credit codes issued in Linyi's counties, Chinese names, mobile numbers,
addresses, GB/T 2260 region codes, dates, amounts. Same seed, same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from cityhub.standards.credit_code import ALPHABET, ORG_WEIGHTS
from cityhub.standards.credit_code import WEIGHTS as CREDIT_WEIGHTS
from cityhub.standards.id_number import WEIGHTS as ID_WEIGHTS

LINYI_COUNTIES = (
    "371302", "371311", "371312", "371321", "371322", "371323", "371324",
    "371325", "371326", "371327", "371328", "371329",
)  # fmt: skip
COUNTY_NAMES = (
    "兰山区", "罗庄区", "河东区", "沂南县", "郯城县", "沂水县", "兰陵县",
    "费县", "平邑县", "莒南县", "蒙阴县", "临沭县",
)  # fmt: skip
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红建国志文斌浩宇欣怡子涵梓萱"
STREETS = ("沂蒙路", "解放路", "通达路", "北京路", "上海路", "金雀山路", "银雀山路", "滨河大道")
COMPANY_WORDS = ("商贸", "物流", "科技", "食品", "建材", "纺织", "电子", "农业", "文化", "医药")
_CHECK = np.array([ord(c) for c in "10X98765432"], dtype=np.uint32)
_ALPHA = np.array([ord(c) for c in ALPHABET], dtype=np.uint32)

Rng = np.random.Generator
Column = Callable[[Rng, int], pl.Series]


@dataclass(frozen=True)
class ItemShape:
    """What the generator needs of an item."""

    code: str
    name: str
    kind: str  # a datastore ColumnKind value
    length: int | None = None


def _pick(rng: Rng, choices: Sequence[str], n: int) -> npt.NDArray[np.str_]:
    return np.asarray(choices)[rng.integers(0, len(choices), n)]


def _strings(codepoints: npt.NDArray[np.integer]) -> pl.Series:
    """Rows of code points (n x k) as n strings: a view, no Python loop per row."""
    n, width = codepoints.shape
    chars = np.ascontiguousarray(codepoints, dtype=np.uint32).view(f"<U{width}").reshape(n)
    return pl.Series(chars, dtype=pl.String)


def _region_digits(rng: Rng, n: int) -> npt.NDArray[np.int64]:
    table = np.array([[int(c) for c in code] for code in LINYI_COUNTIES])
    return table[rng.integers(0, len(LINYI_COUNTIES), n)]


def id_numbers(rng: Rng, n: int, since: date = date(1940, 1, 1)) -> pl.Series:
    """Valid 18-character identity numbers of people born in Linyi's counties."""
    start = np.datetime64(since.isoformat(), "D")
    born = start + rng.integers(0, (np.datetime64("2015-12-31") - start).astype(int), n)
    year = born.astype("datetime64[Y]").astype(int) + 1970
    month = born.astype("datetime64[M]").astype(int) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(int) + 1
    yyyymmdd = year * 10_000 + month * 100 + day
    birth = (yyyymmdd[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    body = np.hstack([_region_digits(rng, n), birth, rng.integers(0, 10, size=(n, 3))])
    check = _CHECK[(body * np.array(ID_WEIGHTS)).sum(axis=1) % 11]
    return _strings(np.hstack([body + ord("0"), check[:, None]]))


def credit_codes(rng: Rng, n: int) -> pl.Series:
    """Valid unified social credit codes of companies (91...) registered in Linyi."""
    body = np.hstack(
        [
            np.full((n, 1), ALPHABET.index("M")),
            np.full((n, 1), ALPHABET.index("A")),
            rng.integers(0, 31, size=(n, 6)),
        ]
    )
    # GB 11714 counts letters A=10 ... Z=35 (base 36), the credit code by its alphabet.
    base36 = np.array([int(c, 36) for c in ALPHABET])[body]
    org = (11 - (base36 * np.array(ORG_WEIGHTS)).sum(axis=1) % 11) % 11
    org_value = np.where(org == 10, ALPHABET.index("X"), org)
    head = np.hstack(
        [np.full((n, 1), 9), np.full((n, 1), 1), _region_digits(rng, n), body, org_value[:, None]]
    )
    check = (31 - (head * np.array(CREDIT_WEIGHTS)).sum(axis=1) % 31) % 31
    return _strings(_ALPHA[np.hstack([head, check[:, None]])])


def names(rng: Rng, n: int) -> pl.Series:
    surname = _pick(rng, list(SURNAMES), n)
    first = _pick(rng, list(GIVEN), n)
    second = np.where(rng.random(n) < 0.6, _pick(rng, list(GIVEN), n), "")
    return pl.Series(np.char.add(np.char.add(surname, first), second).tolist())


def mobiles(rng: Rng, n: int) -> pl.Series:
    prefix = _pick(rng, ["138", "139", "150", "151", "158", "176", "186", "188", "199"], n)
    rest = rng.integers(10_000_000, 99_999_999, n).astype(str)
    return pl.Series(np.char.add(prefix, rest).tolist())


def addresses(rng: Rng, n: int) -> pl.Series:
    county = _pick(rng, COUNTY_NAMES, n)
    street = _pick(rng, STREETS, n)
    number = rng.integers(1, 999, n).astype(str)
    text = np.char.add(np.char.add(np.char.add("临沂市", county), street), number)
    return pl.Series(np.char.add(text, "号").tolist())


def companies(rng: Rng, n: int) -> pl.Series:
    word = _pick(rng, COMPANY_WORDS, n)
    county = np.char.replace(np.char.replace(_pick(rng, COUNTY_NAMES, n), "区", ""), "县", "")
    serial = rng.integers(1, 99, n).astype(str)
    return pl.Series(
        np.char.add(
            np.char.add(np.char.add("临沂", county), word), np.char.add(serial, "有限公司")
        ).tolist()
    )


def _kind_column(item: ItemShape, rng: Rng, n: int) -> pl.Series:
    match item.kind:
        case "integer":
            return pl.Series(rng.integers(0, 1000, n))
        case "decimal" | "float":
            return pl.Series(np.round(rng.random(n) * 10_000, 2))
        case "boolean":
            return pl.Series(rng.random(n) < 0.5)
        case "date":
            days = rng.integers(0, 3650, n)
            start = np.datetime64("2015-01-01")
            return pl.Series((start + days).astype("datetime64[D]"))
        case "datetime":
            seconds = rng.integers(0, 3 * 365 * 86400, n)
            base = int(datetime(2023, 1, 1, tzinfo=UTC).timestamp())
            return pl.Series((base + seconds) * 1_000_000).cast(pl.Datetime("us", "UTC"))
        case _:
            width = max(1, min(item.length or 12, 12))
            suffix = rng.integers(0, 10**width, n).astype(str)
            return pl.Series(np.char.add(item.code.upper()[:4], suffix).tolist()).str.head(
                item.length or 64
            )


_BY_HINT: tuple[tuple[tuple[str, ...], Column], ...] = (
    (("gmsfhm", "sfzh", "zjhm", "身份证", "身份号码"), id_numbers),
    (("tyshxydm", "xydm", "信用代码"), credit_codes),
    (("lxdh", "sjhm", "phone", "mobile", "电话", "手机"), mobiles),
    (("dz", "zz", "address", "地址", "住址"), addresses),
    (("qymc", "dwmc", "企业名称", "单位名称", "名称"), companies),
    (("xm", "name", "姓名", "联系人", "法定代表人", "fddbr"), names),
)


def _hinted(item: ItemShape) -> Column | None:
    if item.kind not in ("string", "text"):
        return None
    code, name = item.code.lower(), item.name
    if code in ("qhmc", "xzqhmc") or "区划名称" in name:
        return lambda rng, n: pl.Series(_pick(rng, COUNTY_NAMES, n).tolist())
    if code in ("xzqh", "xzqhdm", "qhdm") or "区划" in name:
        return lambda rng, n: pl.Series(_pick(rng, LINYI_COUNTIES, n).tolist())
    if code in ("xb", "xbdm") or "性别" in name:
        return lambda rng, n: pl.Series(_pick(rng, ["1", "2"], n).tolist())
    for hints, make in _BY_HINT:
        if any(h == code or (not h.isascii() and h in name) for h in hints):
            return make
    return None


def generate(items: Sequence[ItemShape], n: int, seed: int) -> pl.DataFrame:
    """`n` rows for `items`, reproducible from `seed`."""
    rng = np.random.default_rng(seed)
    columns = []
    for item in items:
        make = _hinted(item)
        series = make(rng, n) if make else _kind_column(item, rng, n)
        if item.kind == "string" and item.length:
            series = series.cast(pl.String).str.head(item.length)
        columns.append(series.alias(item.code))
    return pl.DataFrame(columns, height=n)
