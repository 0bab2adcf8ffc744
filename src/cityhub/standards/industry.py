"""GB/T 4754-2017 industrial classification for national economic activities.

Four levels: section (门类, letters A-T), division (大类, 2 digits 01-97), group (中类,
3 digits) and class (小类, 4 digits); a group's or class's first two digits are its division.
``data/gbt4754_2017.csv`` (code,name_zh,section) ships the 20 sections and 97 divisions; group
and class codes are checked by structure only (their division must exist). A code may carry
its section letter in front ("C13", "C1311"), which must then be the division's section.
"""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from importlib.resources import files

import polars as pl

__all__ = [
    "divisions",
    "is_valid",
    "is_valid_expr",
    "name",
    "section_of",
    "section_of_expr",
    "sections",
    "validate_series",
]

_CODE_PATTERN = r"([A-T])?([0-9]{2})(?:[0-9]{1,2})?"
_CODE = re.compile(_CODE_PATTERN)
_DIVISION = re.compile(r"([A-T])?([0-9]{2})")


@cache
def _rows() -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """(section letter -> name, division code -> (name, section letter)), loaded once."""
    text = files("cityhub.standards").joinpath("data/gbt4754_2017.csv").read_text("utf-8")
    secs: dict[str, str] = {}
    divs: dict[str, tuple[str, str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        if row["code"].isalpha():
            secs[row["code"]] = row["name_zh"]
        else:
            divs[row["code"]] = (row["name_zh"], row["section"])
    return secs, divs


def sections() -> dict[str, str]:
    """Section letter -> Chinese name (20 entries)."""
    return dict(_rows()[0])


def divisions() -> dict[str, tuple[str, str]]:
    """Division code -> (Chinese name, section letter) (97 entries)."""
    return dict(_rows()[1])


def section_of(code: str) -> str | None:
    """Section letter of a valid code (a letter is its own section), else None."""
    if not isinstance(code, str):
        return None
    secs, divs = _rows()
    if code in secs:
        return code
    m = _CODE.fullmatch(code)
    if m is None or m.group(2) not in divs:
        return None
    section = divs[m.group(2)][1]
    prefix = m.group(1)
    return section if prefix is None or prefix == section else None


def is_valid(code: str) -> bool:
    """True for a section letter, or a 2-4 digit code under a known division (optionally
    prefixed by that division's section letter)."""
    return section_of(code) is not None


def name(code: str) -> str | None:
    """Chinese name of a section ("C") or division ("13" or "C13"); None for anything else,
    including valid group and class codes, whose names are not shipped."""
    if not isinstance(code, str):
        return None
    secs, divs = _rows()
    if code in secs:
        return secs[code]
    m = _DIVISION.fullmatch(code)
    if m is None or section_of(code) is None:
        return None
    return divs[m.group(2)][0]


def section_of_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``section_of`` (null where invalid)."""
    secs, divs = _rows()
    letter = expr.str.extract(f"^{_CODE_PATTERN}$", 1)
    division = expr.str.extract(f"^{_CODE_PATTERN}$", 2)
    div_section = division.replace_strict(
        {code: sec for code, (_, sec) in divs.items()}, default=None, return_dtype=pl.String
    )
    coded = pl.when(letter.is_null() | (letter == div_section)).then(div_section)
    return pl.when(expr.is_in(sorted(secs))).then(expr).otherwise(coded)


def is_valid_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``is_valid``; null -> False."""
    return section_of_expr(expr).is_not_null()


def validate_series(s: pl.Series) -> pl.Series:
    """Boolean Series of ``is_valid`` for each value (null -> False)."""
    if s.dtype != pl.String:
        s = s.cast(pl.String, strict=False)
    return s.to_frame("v").select(is_valid_expr(pl.col("v"))).to_series().alias(s.name)
