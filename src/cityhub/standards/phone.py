"""Mainland China mobile phone numbers.

Eleven digits starting 1, restricted to the allocated number segments (13x, 145-149, 150-153
and 155-159, 162/165/166/167, 170-178, 18x, 190-193 and 195-199). Input may carry a "+86" or
"86" country prefix and spaces, tabs or dashes anywhere; ``normalize`` strips them.
"""

from __future__ import annotations

import re

import polars as pl

__all__ = [
    "is_valid",
    "is_valid_expr",
    "normalize",
    "normalize_expr",
    "validate_series",
]

_SEPARATORS = r"[ \t-]"
_COUNTRY_AND_NUMBER = r"(?:\+?86)?(1[0-9]{10})"
_SEGMENTS = r"1(?:3[0-9]|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8[0-9]|9[0-35-9])[0-9]{8}"

_SEPARATORS_RE = re.compile(_SEPARATORS)
_COUNTRY_AND_NUMBER_RE = re.compile(_COUNTRY_AND_NUMBER)
_SEGMENTS_RE = re.compile(_SEGMENTS)


def normalize(s: str) -> str | None:
    """The bare 11-digit number, or None when ``s`` is not a valid mobile number."""
    if not isinstance(s, str):
        return None
    m = _COUNTRY_AND_NUMBER_RE.fullmatch(_SEPARATORS_RE.sub("", s))
    if m is None or not _SEGMENTS_RE.fullmatch(m.group(1)):
        return None
    return m.group(1)


def is_valid(s: str) -> bool:
    """True when ``normalize`` accepts ``s``."""
    return normalize(s) is not None


def normalize_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``normalize`` (null where invalid)."""
    number = expr.str.replace_all(_SEPARATORS, "").str.extract(f"^{_COUNTRY_AND_NUMBER}$", 1)
    return pl.when(number.str.contains(f"^{_SEGMENTS}$")).then(number)


def is_valid_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``is_valid``; null -> False."""
    return normalize_expr(expr).is_not_null()


def validate_series(s: pl.Series) -> pl.Series:
    """Boolean Series of ``is_valid`` for each value (null -> False)."""
    if s.dtype != pl.String:
        s = s.cast(pl.String, strict=False)
    return s.to_frame("v").select(is_valid_expr(pl.col("v"))).to_series().alias(s.name)
