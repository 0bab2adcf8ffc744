"""GB 32100-2015 unified social credit codes (统一社会信用代码).

Layout of the 18 characters, all from a 31-character alphabet without I, O, Z, S, V:
registration authority (1), organization type (1), GB/T 2260 region (6 digits), GB 11714
organization code (8 characters + its own MOD 11 check character, 0-9 or X), and a MOD 31
check character. Letters must be uppercase, as the standard prints them. Beyond the two
checks, the authority must be one of 1-9, A, N, Y, the type a digit 1-9 and the region's
prefix a GB/T 2260 province (or 10, used for bodies registered at national level).
"""

from __future__ import annotations

import re

import polars as pl

from cityhub.standards.regions import PROVINCE_PREFIXES

__all__ = [
    "ALPHABET",
    "AUTHORITIES",
    "check_char",
    "explain",
    "is_valid",
    "is_valid_expr",
    "org_check_char",
    "validate_series",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# Weight of position i (0-based) is 3^i mod 31: 1, 3, 9, 27, 19, 26, ...
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
# GB 11714-1997 organization code: weights for its 8 body characters; letters count A=10..Z=35.
ORG_WEIGHTS: tuple[int, ...] = (3, 7, 9, 10, 5, 8, 4, 2)
# Registration authorities of GB 32100 table 1 and later assignments (A: CMC, N: agriculture).
AUTHORITIES = frozenset("123456789ANY")
# Region codes under provinces, plus 10xxxx for bodies registered at national level.
_REGION_PREFIXES = PROVINCE_PREFIXES | {"10"}

_CHARSET = "0-9A-HJ-NPQRTUWXY"  # ALPHABET as a regex class
_PATTERN = rf"[1-9ANY][1-9][0-9]{{6}}[{_CHARSET}]{{8}}[0-9X][{_CHARSET}]"
_FORMAT_17 = re.compile(rf"[{_CHARSET}]{{17}}")
_FORMAT_18 = re.compile(rf"[{_CHARSET}]{{18}}")
_ORG_BODY = re.compile(r"[0-9A-Z]{8}")
# Byte -> code value (0 for bytes outside the alphabet) and the weights with 1 for the check.
_BYTE_VALUES = pl.Series([_VALUE.get(chr(b), 0) for b in range(256)], dtype=pl.Int32)
_WEIGHTS_18 = pl.Series([[*WEIGHTS, 1]], dtype=pl.Array(pl.Int32, 18))


def _org_value(c: str) -> int:
    return int(c, 36)  # GB 11714 values: digits as is, A=10 ... Z=35


def org_check_char(body8: str) -> str:
    """GB 11714 check character of an 8-character organization code body."""
    if not isinstance(body8, str) or not _ORG_BODY.fullmatch(body8):
        raise ValueError("expected 8 characters 0-9 or A-Z")
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    value = (11 - total % 11) % 11
    return "X" if value == 10 else str(value)


def check_char(first17: str) -> str:
    """The GB 32100 MOD 31 check character for 17 characters of the code alphabet."""
    if not isinstance(first17, str) or not _FORMAT_17.fullmatch(first17):
        raise ValueError(f"expected 17 characters from {ALPHABET}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def explain(s: str) -> str | None:
    """None when ``s`` is a valid credit code, else a short English reason."""
    if not isinstance(s, str):
        return "not a string"
    if len(s) != 18:
        return f"expected 18 characters, got {len(s)}"
    if not _FORMAT_18.fullmatch(s):
        i, c = next((i, c) for i, c in enumerate(s, start=1) if c not in _VALUE)
        return f"character {c!r} at position {i} is not in the code alphabet"
    if s[0] not in AUTHORITIES:
        return f"unknown registration authority code {s[0]}"
    if s[1] not in "123456789":
        return f"unknown organization type code {s[1]}"
    if not s[2:8].isdigit():
        return "region code (positions 3-8) must be digits"
    if s[2:4] not in _REGION_PREFIXES:
        return f"unknown province code {s[2:4]} in region code"
    expected_org = org_check_char(s[8:16])
    if s[16] != expected_org:
        return f"organization code check character should be {expected_org}"
    expected = check_char(s[:17])
    if s[17] != expected:
        return f"check character should be {expected}"
    return None


def is_valid(s: str) -> bool:
    """True for a valid unified social credit code (see ``explain`` for why it is not)."""
    return explain(s) is None


def is_valid_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorized ``is_valid``; null -> False.

    Each part reads the column once (eager ``select`` does not share common subexpressions).
    GB 11714: its weights 3,7,9,10,5,8,4,2 are 2^8..2^1 mod 11 and 35 = 2 (mod 11), so the
    8-character body read as one base-35 number (0-9, A-Y) is half the weighted sum mod 11.
    GB 32100: the 18 bytes become an Array, a lookup table gives each byte's code value,
    and a dot product with the weights (1 for the check character) must be 0 mod 31.
    """
    shape = expr.str.contains(f"^{_PATTERN}$")
    region_ok = expr.str.slice(2, 2).is_in(sorted(_REGION_PREFIXES))

    half_org = expr.str.slice(8, 8).str.to_integer(base=35, strict=False) % 11
    # '0'-'9' read in base 36 are 0-9 and 'X' is 33; mod 23 makes X 10 and keeps digits.
    org_given = expr.str.slice(16, 1).str.to_integer(base=36, strict=False) % 23
    org_ok = (2 * half_org + org_given) % 11 == 0

    # Rows that cannot be 18 bytes get a placeholder so the byte view has no nulls; the
    # shape test rejects them anyway.
    padded = pl.when(expr.str.len_bytes() == 18).then(expr).otherwise(pl.lit("0" * 18))
    raw = padded.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, 18))
    values = pl.lit(_BYTE_VALUES).gather(raw.reshape((-1,))).reshape((-1, 18))
    check_ok = (values * pl.lit(_WEIGHTS_18)).arr.sum() % 31 == 0

    return (shape & region_ok & org_ok & check_ok).fill_null(False)


def validate_series(s: pl.Series) -> pl.Series:
    """Boolean Series of ``is_valid`` for each value (null -> False)."""
    if s.dtype != pl.String:
        s = s.cast(pl.String, strict=False)
    return s.to_frame("v").select(is_valid_expr(pl.col("v"))).to_series().alias(s.name)
