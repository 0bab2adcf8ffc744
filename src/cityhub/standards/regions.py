"""GB/T 2260 administrative division codes (行政区划代码).

A code is six digits: province (2), prefecture-level city (2), county-level division (2);
a level whose digits are 00 is absent, so XX0000 is a province and XXXX00 a city. The code
list shipped in ``data/gbt2260.csv`` (code,name,level,parent) was extracted from AMap's
adcodes by ``scripts/extract_region_codes.py``; ``is_valid`` accepts only codes in it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal

import polars as pl

__all__ = [
    "PROVINCE_PREFIXES",
    "Level",
    "Region",
    "all_regions",
    "city_of",
    "is_valid",
    "is_valid_expr",
    "level",
    "name",
    "parent",
    "province_of",
    "validate_series",
]

Level = Literal["province", "city", "county"]

# The two-digit province codes of GB/T 2260 (34 provincial-level divisions). ID numbers and
# credit codes check their region's prefix against this set without needing the full list.
_PROVINCE_NUMBERS = (
    *range(11, 16),
    *range(21, 24),
    *range(31, 38),
    *range(41, 47),
    *range(50, 55),
    *range(61, 66),
    71,
    81,
    82,
)
PROVINCE_PREFIXES: frozenset[str] = frozenset(str(n) for n in _PROVINCE_NUMBERS)

_SIX_DIGITS = re.compile(r"[0-9]{6}")


@dataclass(frozen=True, slots=True)
class Region:
    """One row of the shipped code list."""

    code: str
    name: str
    level: Level
    parent: str | None


def _level_of(code: str) -> Level:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


@cache
def _table() -> dict[str, Region]:
    """Load the code list once; it is small (a few thousand rows)."""
    text = files("cityhub.standards").joinpath("data/gbt2260.csv").read_text("utf-8")
    table: dict[str, Region] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = row["code"]
        table[code] = Region(code, row["name"], _level_of(code), row["parent"] or None)
    return table


@cache
def _codes() -> pl.Series:
    return pl.Series("code", sorted(_table()), dtype=pl.String)


def all_regions() -> list[Region]:
    """Every shipped region, sorted by code."""
    return [_table()[c] for c in sorted(_table())]


def _well_formed(code: object) -> bool:
    return (
        isinstance(code, str)
        and _SIX_DIGITS.fullmatch(code) is not None
        and code[:2] in PROVINCE_PREFIXES
    )


def is_valid(code: str) -> bool:
    """True for six ASCII digits under a known province that are in the shipped list."""
    return _well_formed(code) and code in _table()


def name(code: str) -> str | None:
    """Chinese name of a listed code, else None."""
    region = _table().get(code) if isinstance(code, str) else None
    return region.name if region else None


def level(code: str) -> Level:
    """Level encoded in the code's structure; ValueError if it is not a well-formed code."""
    if not _well_formed(code):
        raise ValueError(f"not a GB/T 2260 region code: {code!r}")
    return _level_of(code)


def province_of(code: str) -> str | None:
    """XX0000 of a well-formed code, else None."""
    return code[:2] + "0000" if _well_formed(code) else None


def city_of(code: str) -> str | None:
    """XXXX00 of a well-formed city- or county-level code (structural: for a municipality's
    district or a province-administered county this code may itself be unlisted)."""
    if not _well_formed(code) or _level_of(code) == "province":
        return None
    return code[:4] + "00"


def parent(code: str) -> str | None:
    """Nearest listed ancestor: the city for a county when the city is listed, else the
    province; None for a province or a malformed code."""
    if not _well_formed(code):
        return None
    region = _table().get(code)
    if region is not None:
        return region.parent
    lvl = _level_of(code)
    if lvl == "province":
        return None
    city = code[:4] + "00"
    return city if lvl == "county" and city in _table() else code[:2] + "0000"


def is_valid_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``is_valid``: a hash lookup in the shipped list; null -> False."""
    return expr.is_in(_codes().implode()).fill_null(False)


def validate_series(s: pl.Series) -> pl.Series:
    """Boolean Series of ``is_valid`` for each value; non-string input is cast to String."""
    if s.dtype != pl.String:
        s = s.cast(pl.String, strict=False)
    return s.to_frame("v").select(is_valid_expr(pl.col("v"))).to_series().alias(s.name)
