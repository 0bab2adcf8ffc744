"""Standardization (标准化), vectorized: every function returns Polars expressions over
text columns, so a chunk of a million rows is a handful of column operations.

- trimming, and full-width (全角) letters, digits and punctuation to half-width;
- dates and times in the usual local spellings (2020/1/2, 2020.01.02, 20200102,
  2020年1月2日, 2020-01-02 08:30) to ISO values; local times to UTC;
- region names to GB/T 2260 codes (兰山区, 临沂市兰山区 → 371302);
- addresses to a region: the district named in the text;
- ID numbers upper-cased and 15 digits upgraded to 18, phone numbers to 11 digits,
  credit codes upper-cased, numbers without thousands separators or currency signs.
"""

from __future__ import annotations

from functools import lru_cache

import polars as pl

from cityhub.library.keys import upgrade_15_expr
from cityhub.standards import phone, regions

# U+FF01..U+FF5E are the full-width forms of U+0021..U+007E; U+3000 is the ideographic space.
_FULL = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALF = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]
FULL_WIDTH = "[\uff01-\uff5e\u3000]"  # a character that needs folding
_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M")
TRUTHY = ("true", "1", "t", "yes", "y", "是", "真")
FALSY = ("false", "0", "f", "no", "n", "否", "假")


def text(col: str, *, keep_width: bool = False) -> pl.Expr:
    """Trimmed text, full-width folded to half-width; empty → null."""
    expr = pl.col(col)
    if not keep_width:
        expr = expr.str.replace_many(_FULL, _HALF)
    expr = expr.str.strip_chars()
    return pl.when(expr.str.len_bytes() > 0).then(expr)


def _date_text(expr: pl.Expr) -> pl.Expr:
    """2020年1月2日, 2020/1/2, 2020.1.2 → 2020-1-2 (the parser takes unpadded parts)."""
    return expr.str.replace_many(["年", "月", "/", "."], ["-"] * 4).str.replace(
        "日", "", literal=True
    )


def date(expr: pl.Expr) -> pl.Expr:
    """A Date, or null where no known spelling parses (the caller reports those)."""
    cleaned = _date_text(expr)
    return pl.coalesce([cleaned.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS])


def datetime_utc(expr: pl.Expr, zone: str) -> pl.Expr:
    """A UTC Datetime: ISO with offset as given, local spellings taken in `zone`."""
    cleaned = _date_text(expr).str.replace("T", " ")
    aware = cleaned.str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False
    )
    aware_z = cleaned.str.replace(r"Z$", "+00:00").str.to_datetime(
        "%Y-%m-%d %H:%M:%S%.f%#z", time_unit="us", time_zone="UTC", strict=False
    )
    naive = pl.coalesce(
        [cleaned.str.to_datetime(fmt, time_unit="us", strict=False) for fmt in _DATETIME_FORMATS]
        + [date(expr).cast(pl.Datetime("us"))]
    )
    local = naive.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
    return pl.coalesce([aware, aware_z, local.dt.convert_time_zone("UTC")])


def number_text(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"[,\s¥￥$]", "")


def boolean(expr: pl.Expr) -> pl.Expr:
    lowered = expr.str.to_lowercase()
    return (
        pl.when(lowered.is_in(TRUTHY))
        .then(pl.lit(True))
        .when(lowered.is_in(FALSY))
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean))
    )


def id_number(expr: pl.Expr, *, upgrade: bool = True) -> pl.Expr:
    """Upper-cased (x → X); 15-digit numbers upgraded to 18 when `upgrade`."""
    cleaned = expr.str.to_uppercase()
    return upgrade_15_expr(cleaned) if upgrade else cleaned


def credit_code(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(r"\s", "").str.to_uppercase()


def mobile(expr: pl.Expr) -> pl.Expr:
    """The bare 11-digit number where it is one; the value as given otherwise."""
    return pl.coalesce([phone.normalize_expr(expr), expr])


@lru_cache(maxsize=8)
def region_names(city_code: str) -> dict[str, str]:
    """Name → code: the city's own divisions first (bare and prefixed with the city's
    name), then names that are unique in the whole national list."""
    table = regions.all_regions()
    counts: dict[str, int] = {}
    for region in table:
        counts[region.name] = counts.get(region.name, 0) + 1
    out = {r.name: r.code for r in table if counts[r.name] == 1}
    city = next((r for r in table if r.code == city_code), None)
    local = [r for r in table if r.parent == city_code]
    for region in local:
        out[region.name] = region.code
        if city is not None:
            out[city.name + region.name] = region.code
    if city is not None:
        out[city.name] = city.code
    return out


@lru_cache(maxsize=8)
def _region_lookup(city_code: str) -> tuple[pl.Series, pl.Series]:
    """`region_names` as two Series (a dict is turned into them at every use: ~2 ms)."""
    names = region_names(city_code)
    return pl.Series(list(names), dtype=pl.String), pl.Series(names.values(), dtype=pl.String)


def region(expr: pl.Expr, city_code: str) -> pl.Expr:
    """A 6-digit code as given; a known name as its code; anything else as given."""
    names, codes = _region_lookup(city_code)
    looked_up = expr.replace_strict(names, codes, default=None, return_dtype=pl.String)
    return (
        pl.when(expr.str.contains(r"^\d{6}$")).then(expr).otherwise(pl.coalesce([looked_up, expr]))
    )


@lru_cache(maxsize=8)
def _district_pattern(city_code: str) -> tuple[str, dict[str, str]]:
    local = {r.name: r.code for r in regions.all_regions() if r.parent == city_code}
    names = sorted(local, key=len, reverse=True)  # longest first: 沂南县 before 沂南
    return "(" + "|".join(names) + ")", local


def address_region(expr: pl.Expr, city_code: str) -> pl.Expr:
    """The code of the city's district named in an address, or null."""
    pattern, local = _district_pattern(city_code)
    if pattern == "()":
        return pl.lit(None, dtype=pl.String)
    found = expr.str.extract(pattern, 1)
    return found.replace_strict(local, default=None, return_dtype=pl.String)
