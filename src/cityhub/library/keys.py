"""Canonical keys of golden records, vectorized: ID numbers (GB 11643, 15-digit numbers
upgraded to 18) and unified social credit codes (GB 32100). Invalid keys become null."""

from __future__ import annotations

import polars as pl

from cityhub.standards import credit_code, id_number

_CHECK_CHARS = "10X98765432"


def upgrade_15_expr(expr: pl.Expr) -> pl.Expr:
    """15-digit first-generation numbers (births 19xx) as 18 characters; others as is.

    The check character uses the base-13 trick of `id_number.is_valid_expr`: the 17
    digits read in base 13 are half the MOD 11-2 weighted sum (mod 11).
    """
    first17 = expr.str.slice(0, 6) + pl.lit("19") + expr.str.slice(6, 9)
    half_sum = first17.str.to_integer(base=13, strict=False) % 11
    check = pl.lit(pl.Series(list(_CHECK_CHARS))).gather((2 * half_sum) % 11)
    is_15 = expr.str.contains(r"^[0-9]{15}$")
    return pl.when(is_15).then(first17 + check).otherwise(expr)


def id_number_key(values: pl.Series) -> pl.Series:
    """Trimmed, upper-cased, 15→18 upgraded; null where the number is not valid."""
    frame = values.cast(pl.String).to_frame("v").lazy()
    cleaned = frame.select(upgrade_15_expr(pl.col("v").str.strip_chars()).str.to_uppercase())
    checked = cleaned.select(
        pl.when(id_number.is_valid_expr(pl.col("v"))).then(pl.col("v")).alias("v")
    )
    return checked.collect().to_series().alias(values.name)


def credit_code_key(values: pl.Series) -> pl.Series:
    """Trimmed and upper-cased; null where the code is not valid."""
    frame = values.cast(pl.String).to_frame("v").lazy()
    cleaned = frame.select(pl.col("v").str.strip_chars().str.to_uppercase())
    checked = cleaned.select(
        pl.when(credit_code.is_valid_expr(pl.col("v"))).then(pl.col("v")).alias("v")
    )
    return checked.collect().to_series().alias(values.name)
