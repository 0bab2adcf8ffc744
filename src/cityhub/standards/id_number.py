"""GB 11643-1999 citizen identity numbers (公民身份号码).

Layout of the 18 characters: region code (6, GB/T 2260), birth date YYYYMMDD (8), sequence
(3, odd for men), ISO 7064 MOD 11-2 check character (0-9 or X). Only the region's province
prefix is checked: IDs keep the region code they were issued under, long after a county has
been renamed or merged. Input is taken as is (no trimming); a lowercase x is accepted.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

import polars as pl

from cityhub.standards.regions import PROVINCE_PREFIXES

__all__ = [
    "birth_date",
    "check_digit",
    "explain",
    "gender",
    "is_valid",
    "is_valid_expr",
    "upgrade_15_to_18",
    "validate_series",
]

# MOD 11-2: weight of position i (1-based, left to right) is 2^(18-i) mod 11.
WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)
_FORMAT = re.compile(r"[0-9]{17}[0-9Xx]")
_FORMAT_15 = re.compile(r"[0-9]{15}")
_FORMAT_17 = re.compile(r"[0-9]{17}")
_EARLIEST = date(1900, 1, 1)


def check_digit(first17: str) -> str:
    """The MOD 11-2 check character ('0'-'9' or 'X') for 17 ASCII digits."""
    if not isinstance(first17, str) or not _FORMAT_17.fullmatch(first17):
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _date_problem(yyyymmdd: str, today: date) -> str | None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return f"no such birth date {yyyymmdd}"
    if born < _EARLIEST:
        return "birth date before 1900"
    if born > today:
        return "birth date in the future"
    return None


def explain(s: str) -> str | None:
    """None when ``s`` is a valid 18-character ID number, else a short English reason."""
    if not isinstance(s, str):
        return "not a string"
    if len(s) != 18:
        return f"expected 18 characters, got {len(s)}"
    if not _FORMAT.fullmatch(s):
        return "expected 17 ASCII digits then a digit or X"
    if s[:2] not in PROVINCE_PREFIXES:
        return f"unknown province code {s[:2]}"
    problem = _date_problem(s[6:14], date.today())
    if problem:
        return problem
    expected = check_digit(s[:17])
    if s[17].upper() != expected:
        return f"check digit should be {expected}"
    return None


def is_valid(s: str) -> bool:
    """True for a valid 18-character ID number (see ``explain`` for the reasons it is not)."""
    return explain(s) is None


def upgrade_15_to_18(s: str) -> str:
    """Convert a 15-digit first-generation number (YYMMDD, 19xx births) to 18 characters."""
    if not isinstance(s, str) or not _FORMAT_15.fullmatch(s):
        raise ValueError("expected 15 ASCII digits")
    first17 = s[:6] + "19" + s[6:]
    full = first17 + check_digit(first17)
    problem = explain(full)
    if problem:
        raise ValueError(problem)
    return full


def _valid_18(s: str) -> str:
    """Accept an 18- or 15-character number; return the valid 18-character form."""
    if isinstance(s, str) and len(s) == 15:
        return upgrade_15_to_18(s)
    problem = explain(s)
    if problem:
        raise ValueError(problem)
    return s.upper()


def birth_date(s: str) -> date:
    """Birth date of a valid 18- or 15-digit number; ValueError otherwise."""
    full = _valid_18(s)
    return date(int(full[6:10]), int(full[10:12]), int(full[12:14]))


def gender(s: str) -> Literal["M", "F"]:
    """'M' when the sequence number is odd, 'F' when even; ValueError if invalid."""
    return "M" if int(_valid_18(s)[16]) % 2 else "F"


def is_valid_expr(expr: pl.Expr, *, today: date | None = None) -> pl.Expr:
    """Vectorized ``is_valid``; null -> False.

    Each part reads the column once (eager ``select`` does not share common subexpressions):
    a regex for the shape, a date parse for the birth date, and for the check digit the
    first 17 digits read as one base-13 number: 13 = 2 (mod 11), so that number is
    sum(d_i * 2^(17-i)) mod 11, half the MOD 11-2 weighted sum. ``today`` bounds the birth
    date (default: the date when the expression is built).
    """
    today = today or date.today()
    shape = expr.str.contains(r"^[0-9]{17}[0-9Xx]$")
    province = expr.str.slice(0, 2).is_in(sorted(PROVINCE_PREFIXES))
    born = expr.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    good_date = born.is_between(_EARLIEST, today)
    half_sum = expr.str.slice(0, 17).str.to_integer(base=13, strict=False) % 11
    # '0'-'9' read in base 36 are 0-9 and 'X'/'x' is 33; mod 23 makes X 10 and keeps digits.
    given = expr.str.slice(17, 1).str.to_integer(base=36, strict=False) % 23
    # ISO 7064 MOD 11-2: weighted sum + check value = 1 (mod 11).
    check_ok = (2 * half_sum + given) % 11 == 1
    return (shape & province & good_date & check_ok).fill_null(False)


def validate_series(s: pl.Series) -> pl.Series:
    """Boolean Series of ``is_valid`` for each value (null -> False)."""
    if s.dtype != pl.String:
        s = s.cast(pl.String, strict=False)
    return s.to_frame("v").select(is_valid_expr(pl.col("v"))).to_series().alias(s.name)
