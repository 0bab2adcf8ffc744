"""Synthetic Linyi residents for the demo and the benchmarks, vectorized (numpy + Polars)
and streamed in chunks: memory is bounded by the chunk size, not by N.

- where people live: the 12 counties of Linyi in proportion to their 2020 census
  populations (approximate, 第七次全国人口普查); sex ratio 51% male;
- ages from an age pyramid close to Linyi's (about 20% under 15, 20% aged 60+),
  as of a fixed reference date so that a seed always gives the same people;
- valid 18-character ID numbers (GB 11643) with the county's region code: unique across
  the whole population thanks to a small counter per (county, birth date, sex) cell
  (438,000 cells whatever N) that hands out sequence numbers chunk after chunk;
- names from common Chinese surnames (weighted) and given names by sex; addresses in
  real towns of each county; valid mobile numbers.

`departments(people, rng, ...)` then splits a chunk into what each department delivers
(公安 household registration, 卫健 births and deaths, 民政 marriages, 人社 social
insurance) with deliberate overlaps, conflicts and a few percent of bad rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from cityhub.standards.id_number import WEIGHTS as ID_WEIGHTS

REFERENCE_DATE = date(2024, 12, 31)
MALE_SHARE = 0.51
# County code, name, approximate 2020 census population.
COUNTIES: tuple[tuple[str, str, int], ...] = (
    ("371302", "兰山区", 1_739_546),
    ("371311", "罗庄区", 657_178),
    ("371312", "河东区", 741_958),
    ("371321", "沂南县", 841_935),
    ("371322", "郯城县", 869_476),
    ("371323", "沂水县", 1_010_296),
    ("371324", "兰陵县", 1_184_447),
    ("371325", "费县", 778_786),
    ("371326", "平邑县", 897_085),
    ("371327", "莒南县", 872_519),
    ("371328", "蒙阴县", 467_183),
    ("371329", "临沭县", 557_960),
)
COUNTY_CODES = tuple(c for c, _, _ in COUNTIES)
COUNTY_WEIGHTS = np.array([p for _, _, p in COUNTIES], dtype=float) / sum(p for *_, p in COUNTIES)
TOWNS: dict[str, tuple[str, ...]] = {
    "371302": ("兰山街道", "银雀山街道", "金雀山街道", "柳青街道", "白沙埠镇", "枣园镇"),
    "371311": ("罗庄街道", "傅庄街道", "盛庄街道", "高都街道", "褚墩镇"),
    "371312": ("九曲街道", "芝麻墩街道", "凤凰岭街道", "汤河镇", "八湖镇"),
    "371321": ("界湖街道", "岸堤镇", "孙祖镇", "双堠镇", "青驼镇"),
    "371322": ("郯城街道", "马头镇", "重坊镇", "李庄镇", "港上镇"),
    "371323": ("沂城街道", "龙家圈街道", "许家湖镇", "马站镇", "高庄镇"),
    "371324": ("卞庄街道", "苍山街道", "兰陵镇", "尚岩镇", "向城镇"),
    "371325": ("费城街道", "上冶镇", "薛庄镇", "探沂镇", "朱田镇"),
    "371326": ("平邑街道", "仲村镇", "武台镇", "保太镇", "柏林镇"),
    "371327": ("十字路街道", "大店镇", "坊前镇", "板泉镇", "相沟镇"),
    "371328": ("蒙阴街道", "常路镇", "岱崮镇", "垛庄镇", "野店镇"),
    "371329": ("临沭街道", "郑山街道", "蛟龙镇", "曹庄镇", "石门镇"),
}
PLACES = ("村", "社区", "小区")
# 5-year age bands 0-4 ... 95-99, percent of residents (an approximation of Linyi, 2020).
AGE_BANDS = (5.8, 6.8, 6.6, 5.4, 4.8, 5.9, 8.0, 6.8, 6.2, 7.6,
             8.2, 7.2, 5.0, 5.5, 4.0, 2.6, 1.7, 0.9, 0.3, 0.07)  # fmt: skip
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 9.5), ("张", 8.0), ("李", 7.6), ("刘", 6.0), ("陈", 3.2), ("杨", 2.8), ("赵", 2.6),
    ("孙", 2.6), ("徐", 2.0), ("高", 1.9), ("马", 1.6), ("朱", 1.5), ("胡", 1.2), ("郭", 1.2),
    ("何", 1.0), ("林", 1.0), ("宋", 1.0), ("于", 1.0), ("董", 0.9), ("韩", 0.9), ("唐", 0.6),
    ("冯", 0.8), ("吴", 0.9), ("周", 1.1), ("黄", 0.8), ("吕", 0.6), ("许", 0.6), ("邵", 0.6),
    ("颜", 0.4), ("孔", 0.5), ("魏", 0.6), ("庄", 0.4), ("薛", 0.4), ("杜", 0.5), ("丁", 0.5),
)  # fmt: skip
GIVEN_MALE = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林博文建国志永春"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英红梅琳雪婷倩颖欣怡萱涵晶燕慧莉玉兰凤佳楠丹璐蕾"
MOBILE_PREFIXES = ("134", "135", "136", "137", "138", "139", "150", "151", "152", "157",
                   "158", "159", "178", "182", "183", "187", "188", "130", "131", "132",
                   "155", "156", "185", "186", "176", "133", "153", "180", "181", "189",
                   "177", "199")  # fmt: skip

_SEQ_SLOTS = 500  # sequence numbers per (county, birth date, sex): 000-999, odd for men
_DAYS = 100 * 366 + 1
Rng = np.random.Generator


def _digits(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int64]:
    return (values[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10


class IdAllocator:
    """Unique sequence numbers per (county, birth date, sex), handed out chunk by chunk.

    The counters (12 counties x 36,600 days x 2 sexes) are the only state carried from a
    chunk to the next: a few MB whatever the population.
    """

    def __init__(self, reference: date = REFERENCE_DATE) -> None:
        self.origin = np.datetime64(reference.isoformat(), "D") - (_DAYS - 1)
        self.used = np.zeros(len(COUNTY_CODES) * _DAYS * 2, dtype=np.int32)

    def allocate(
        self,
        county: npt.NDArray[np.int64],
        born: npt.NDArray[np.datetime64],
        male: npt.NDArray[np.bool_],
    ) -> tuple[npt.NDArray[np.datetime64], npt.NDArray[np.int64]]:
        """(birth dates, sequence numbers): a full cell moves its newcomer a day earlier."""
        born = born.copy()
        seq = np.zeros(len(born), dtype=np.int64)
        todo = np.arange(len(born))
        while todo.size:
            day = (born[todo] - self.origin).astype(np.int64)
            cell = (county[todo] * _DAYS + day) * 2 + male[todo]
            order = np.argsort(cell, kind="stable")
            sorted_cells = cell[order]
            first = np.r_[True, sorted_cells[1:] != sorted_cells[:-1]]
            start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order)) - start
            slot = self.used[cell] + rank
            ok = slot < _SEQ_SLOTS
            np.add.at(self.used, cell[ok], 1)
            seq[todo[ok]] = slot[ok] * 2 + male[todo[ok]]
            todo = todo[~ok]
            born[todo] -= np.timedelta64(1, "D")
        return born, seq


def _take(choices: tuple[str, ...] | list[str], index: npt.NDArray[np.int64]) -> pl.Series:
    """choices[index] as a Polars Series (a gather: no Python string per row)."""
    return pl.Series(list(choices), dtype=pl.String).gather(pl.Series(index))


def id_numbers(
    county: npt.NDArray[np.int64], born: npt.NDArray[np.datetime64], seq: npt.NDArray[np.int64]
) -> pl.Series:
    year = born.astype("datetime64[Y]").astype(np.int64) + 1970
    month = born.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    region = np.array([int(c) for c in COUNTY_CODES], dtype=np.int64)[county]
    body = (region * 100_000_000 + year * 10_000 + month * 100 + day) * 1000 + seq
    digits = _digits(body, 17)
    check = ((digits * np.array(ID_WEIGHTS)).sum(axis=1) % 11).astype(np.int64)
    return pl.Series(body).cast(pl.String) + _take(list("10X98765432"), check)


def _names(rng: Rng, male: npt.NDArray[np.bool_]) -> pl.Series:
    n = len(male)
    weights = np.array([w for _, w in SURNAMES])
    surname = _take(
        [s for s, _ in SURNAMES], rng.choice(len(SURNAMES), n, p=weights / weights.sum())
    )
    given = list(GIVEN_MALE) + list(GIVEN_FEMALE)
    offset = np.where(male, 0, len(GIVEN_MALE))
    size = np.where(male, len(GIVEN_MALE), len(GIVEN_FEMALE))
    first = _take(given, offset + rng.integers(0, size))
    second_index = np.where(rng.random(n) < 0.7, offset + rng.integers(0, size), len(given))
    return surname + first + _take([*given, ""], second_index)


def mobiles(rng: Rng, n: int) -> pl.Series:
    prefix = _take(MOBILE_PREFIXES, rng.integers(0, len(MOBILE_PREFIXES), n))
    return prefix + pl.Series(rng.integers(0, 100_000_000, n)).cast(pl.String).str.zfill(8)


def _addresses(rng: Rng, county: npt.NDArray[np.int64]) -> pl.Series:
    n = len(county)
    towns = [t for code in COUNTY_CODES for t in TOWNS[code][:5]]
    town = _take(towns, county * 5 + rng.integers(0, 5, n))
    name = _take([name for _, name, _ in COUNTIES], county)
    number = pl.Series(rng.integers(1, 300, n)).cast(pl.String)
    place = _take(PLACES, rng.integers(0, len(PLACES), n))
    return "山东省临沂市" + name + town + number + "号" + place


# GB/T 3304 民族: 01 汉族 and the largest minorities in Shandong (回 03, 满 11, 蒙古 02).
ETHNIC = ("01", "03", "11", "02", "08")
ETHNIC_SHARE = np.array([0.993, 0.004, 0.0015, 0.001, 0.0005])
# GB/T 4658 文化程度: 10 研究生, 20 大学本科, 30 大学专科, 60 高中, 70 初中, 80 小学, 90 其他
EDUCATION = ("10", "20", "30", "60", "70", "80", "90")


def _education(rng: Rng, age: npt.NDArray[np.float64]) -> pl.Series:
    adult = np.array([0.02, 0.12, 0.13, 0.18, 0.35, 0.15, 0.05])
    elder = np.array([0.002, 0.02, 0.03, 0.1, 0.3, 0.4, 0.148])
    pick_adult = rng.choice(len(EDUCATION), len(age), p=adult)
    pick_elder = rng.choice(len(EDUCATION), len(age), p=elder)
    child = np.where(age < 12, 5, np.where(age < 15, 4, 3))  # 小学, 初中, 高中 in school
    index = np.where(age < 18, child, np.where(age >= 60, pick_elder, pick_adult))
    return _take(EDUCATION, index.astype(np.int64))


def _ages_in_days(rng: Rng, n: int, reference: date) -> npt.NDArray[np.datetime64]:
    bands = np.array(AGE_BANDS) / sum(AGE_BANDS)
    band = rng.choice(len(bands), n, p=bands)
    days = (band * 5 * 365.25 + rng.random(n) * 5 * 365.25).astype(np.int64)
    return np.datetime64(reference.isoformat(), "D") - days


@dataclass(frozen=True)
class Population:
    """A reproducible population: same seed and N, same people, chunk after chunk."""

    n: int
    seed: int = 2020
    chunk_rows: int = 200_000
    reference: date = REFERENCE_DATE

    def chunks(self) -> Iterator[pl.DataFrame]:
        """People as 公安 registers them (the items of 人口基础信息 it holds)."""
        allocator = IdAllocator(self.reference)
        for index, start in enumerate(range(0, self.n, self.chunk_rows)):
            size = min(self.chunk_rows, self.n - start)
            rng = np.random.default_rng([self.seed, index])
            yield self._chunk(rng, allocator, size)

    def _chunk(self, rng: Rng, allocator: IdAllocator, n: int) -> pl.DataFrame:
        county = rng.choice(len(COUNTY_CODES), n, p=COUNTY_WEIGHTS).astype(np.int64)
        male = rng.random(n) < MALE_SHARE
        born, seq = allocator.allocate(county, _ages_in_days(rng, n, self.reference), male)
        phone = mobiles(rng, n)
        age = (np.datetime64(self.reference.isoformat(), "D") - born).astype(np.int64) / 365.25
        household = pl.Series(rng.integers(0, 10**9, n)).cast(pl.String).str.zfill(9)
        return pl.DataFrame(
            {
                "gmsfhm": id_numbers(county, born, seq),
                "xm": _names(rng, male),
                "xb": _take(["2", "1"], male.astype(np.int64)),
                "csrq": pl.Series(born.astype("datetime64[D]")).cast(pl.Date),
                "mz": _take(ETHNIC, rng.choice(len(ETHNIC), n, p=ETHNIC_SHARE)),
                "hjdz": _addresses(rng, county),
                "lxdh": phone.scatter(np.flatnonzero(rng.random(n) >= 0.6), None),
                "whcd": _education(rng, age),
                "hh": _take(COUNTY_CODES, county) + household,
                "hjqh": _take(COUNTY_CODES, county),
            }
        )


# -- what each department delivers ---------------------------------------------------------

BAD_KINDS = ("check_digit", "impossible_date", "unknown_region")


def _years(born: pl.Expr, reference: date) -> pl.Expr:
    return (pl.lit(reference) - born).dt.total_days() / 365.25


def _shift_days(rng: Rng, frame: pl.DataFrame, column: str, share: float) -> pl.DataFrame:
    """A different value from a non-authoritative department: a few days off."""
    hit = pl.Series(rng.random(frame.height) < share)
    delta = pl.Series(rng.integers(1, 40, frame.height)).cast(pl.Duration("ms")) * 86_400_000
    shifted = frame.get_column(column) - delta
    return frame.with_columns(pl.when(hit).then(shifted).otherwise(pl.col(column)).alias(column))


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """CSV-ready text columns (dates as YYYY-MM-DD), so bad values can be written."""
    return frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
    )


def spoil(
    rng: Rng, frame: pl.DataFrame, rate: float, *, region: str | None = None
) -> tuple[pl.DataFrame, int]:
    """Make about `rate` of the rows invalid (bad check digit, impossible date, unknown
    region); returns the frame (all text) and how many rows were spoiled."""
    text = _as_text(frame)
    n = text.height
    bad = rng.random(n) < rate
    kinds = rng.integers(0, 3 if region else 2, n)
    ids = text.get_column("gmsfhm")
    flipped = ids.str.slice(0, 17) + ids.str.slice(17, 1).replace_strict(
        {c: "0" if c != "0" else "1" for c in "0123456789X"}, default="0"
    )
    exprs = [
        pl.when(pl.Series(bad & (kinds == 0)))
        .then(flipped)
        .otherwise(pl.col("gmsfhm"))
        .alias("gmsfhm")
    ]
    if "csrq" in text.columns:
        impossible = pl.col("csrq").str.slice(0, 5) + pl.lit("02-30")
        exprs.append(
            pl.when(pl.Series(bad & (kinds == 1)))
            .then(impossible)
            .otherwise(pl.col("csrq"))
            .alias("csrq")
        )
    else:  # no date column: spoil the ID's birth date instead
        month13 = pl.col("gmsfhm").str.slice(0, 10) + pl.lit("13") + pl.col("gmsfhm").str.slice(12)
        exprs[0] = (
            pl.when(pl.Series(bad & (kinds == 0))).then(flipped)
            .when(pl.Series(bad & (kinds == 1))).then(month13)
            .otherwise(pl.col("gmsfhm")).alias("gmsfhm")
        )  # fmt: skip
    if region:
        exprs.append(
            pl.when(pl.Series(bad & (kinds == 2)))
            .then(pl.lit("371399"))
            .otherwise(pl.col(region))
            .alias(region)
        )
    return text.with_columns(exprs), int(bad.sum())


def departments(
    rng: Rng, people: pl.DataFrame, *, reference: date = REFERENCE_DATE, bad_rate: float = 0.03
) -> dict[str, tuple[pl.DataFrame, int]]:
    """What 公安, 卫健, 民政 and 人社 deliver about `people`: (frame as text, bad rows)."""
    n = people.height
    age = people.select(_years(pl.col("csrq"), reference)).to_series().to_numpy()
    male = (people.get_column("xb") == "1").to_numpy()
    newborn = age < (60 / 365.25)  # not yet registered by 公安: only 卫健 has them

    ga = people.filter(pl.Series(~newborn))

    births = age < 2
    deaths = (age >= 60) & (rng.random(n) < 0.012 * (age - 50) / 10)
    wj = people.filter(pl.Series(births | deaths)).select("gmsfhm", "xm", "xb", "csrq")
    died = deaths[births | deaths]
    death_day = np.datetime64(reference.isoformat()) - rng.integers(1, 365, len(died))
    wj = wj.with_columns(
        pl.Series("swrq", death_day.astype("datetime64[D]"))
        .cast(pl.Date)
        .scatter(np.flatnonzero(~died), None)
    )
    wj = _shift_days(rng, wj, "csrq", 0.05)

    adult = age >= np.where(male, 22, 20)
    married_rows = adult & (rng.random(n) < 0.8)
    roll = rng.random(n)
    status = np.select(
        [age < 30, age < 60],
        [
            np.where(roll < 0.5, "10", np.where(roll < 0.95, "20", "40")),
            np.where(
                roll < 0.05, "10", np.where(roll < 0.90, "20", np.where(roll < 0.98, "40", "30"))
            ),
        ],
        np.where(roll < 0.01, "10", np.where(roll < 0.76, "20", np.where(roll < 0.80, "40", "30"))),
    )
    mz = people.with_columns(pl.Series("hyzk", status)).filter(pl.Series(married_rows))
    mz = _shift_days(rng, mz.select("gmsfhm", "xm", "csrq", "hyzk"), "csrq", 0.02)
    old = mz.get_column("csrq").dt.year() < 1999
    fifteen = mz.get_column("gmsfhm").str.slice(0, 6) + mz.get_column("gmsfhm").str.slice(8, 9)
    use15 = pl.Series(rng.random(mz.height) < 0.05) & old
    mz = mz.with_columns(pl.when(use15).then(fifteen).otherwise(pl.col("gmsfhm")).alias("gmsfhm"))

    insured = (age >= 16) & (rng.random(n) < 0.85)
    roll = rng.random(n)
    sbzt = np.where(roll < 0.9, 0, np.where(roll < 0.98, 1, 2))
    born = people.get_column("csrq").to_numpy().astype("datetime64[D]")
    adult_at = born + np.timedelta64(6575, "D")  # 18 years
    jitter = rng.integers(0, 3650, n).astype("timedelta64[D]")
    start = np.maximum(adult_at, np.datetime64("1995-01-01")) + jitter
    start = np.minimum(start, np.datetime64(reference.isoformat()))
    new_phone = rng.random(n) < 0.3
    phone = people.get_column("lxdh").zip_with(pl.Series(~new_phone), mobiles(rng, n))
    rs = pl.DataFrame(
        {
            "gmsfhm": people.get_column("gmsfhm"),
            "xm": people.get_column("xm"),
            "lxdh": phone,
            "sbzt": _take(["参保", "暂停", "终止"], sbzt),
            "cbrq": pl.Series(start.astype("datetime64[D]")).cast(pl.Date),
        }
    ).filter(pl.Series(insured))
    typo = pl.Series(rng.random(rs.height) < 0.005)
    rs = rs.with_columns(
        pl.when(typo)
        .then(pl.col("xm").str.slice(0, 1) + pl.lit("晓"))
        .otherwise(pl.col("xm"))
        .alias("xm")
    )
    return {
        "ga": spoil(rng, ga, bad_rate, region="hjqh"),
        "wj": spoil(rng, wj, bad_rate),
        "mz": spoil(rng, mz, bad_rate),
        "rs": spoil(rng, rs, bad_rate),
    }
