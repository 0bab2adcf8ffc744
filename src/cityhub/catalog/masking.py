"""Masking rules (脱敏规则) for information items, applied column-wise with Polars.

The vocabulary, one rule per item:

    keep:first6,last4   keep the first 6 and last 4 characters, star the rest
                        371302198001011234 → 371302********1234
    keep:first3 / keep:last4
                        keep only a head or only a tail
    name                keep the family name's first character: 张三 → 张*, 欧阳娜娜 → 欧***
    phone               138****5678 (keep:first3,last4)
    email               first character of the mailbox: zhang.san@example.cn → z***@example.cn
    hide                the value is withheld: null, whatever the column type

A value too short to keep anything (its length is at most first + last) is starred whole,
so a rule never reveals a complete value. Nulls stay null. Everything is vectorized:
`mask_frame` masks millions of rows without a Python loop per row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

MAX_KEEP = 64
_KEEP = re.compile(r"^keep:(?P<parts>[a-z0-9,]+)$")
_PART = re.compile(r"^(?P<side>first|last)(?P<n>\d{1,2})$")
_ANY = r"(?s)."  # one character, newlines included
STAR = "*"
RULE_HELP = "keep:firstN,lastM, keep:firstN, keep:lastM, name, phone, email or hide"


@dataclass(frozen=True)
class MaskRule:
    """A parsed rule: `kind` is keep, name, email or hide."""

    kind: str
    first: int = 0
    last: int = 0

    def __str__(self) -> str:
        if self.kind != "keep":
            return self.kind
        parts = [
            f"first{self.first}" if self.first else "",
            f"last{self.last}" if self.last else "",
        ]
        return "keep:" + ",".join(p for p in parts if p)


def parse_rule(text: str) -> MaskRule:
    """The rule `text` names, or ValueError saying what is wrong with it."""
    rule = text.strip()
    if rule in ("name", "email", "hide"):
        return MaskRule(rule)
    if rule == "phone":
        return MaskRule("keep", 3, 4)
    match = _KEEP.match(rule)
    if match is None:
        raise ValueError(f"unknown masking rule {text!r}; use {RULE_HELP}")
    first = last = 0
    seen: set[str] = set()
    for part in match.group("parts").split(","):
        m = _PART.match(part)
        if m is None:
            raise ValueError(f"masking rule {text!r}: {part!r} is not firstN or lastM")
        side, n = m.group("side"), int(m.group("n"))
        if side in seen:
            raise ValueError(f"masking rule {text!r} names {side} twice")
        seen.add(side)
        if not 1 <= n <= MAX_KEEP:
            raise ValueError(f"masking rule {text!r}: keep between 1 and {MAX_KEEP} characters")
        first, last = (n, last) if side == "first" else (first, n)
    return MaskRule("keep", first, last)


def is_valid_rule(text: str) -> bool:
    try:
        parse_rule(text)
    except ValueError:
        return False
    return True


def _stars(length: pl.Expr) -> pl.Expr:
    return pl.lit("").str.pad_end(length, STAR)


def _keep(value: pl.Expr, first: int, last: int) -> pl.Expr:
    length = value.str.len_chars()
    middle = length - first - last
    kept = pl.concat_str(
        [value.str.head(first), _stars(middle), value.str.tail(last) if last else pl.lit("")]
    )
    return pl.when(length > first + last).then(kept).otherwise(_stars(length))


def _email(value: pl.Expr) -> pl.Expr:
    masked = value.str.replace(r"^([^@])[^@]*(@.*)$", "${1}***${2}")
    return (
        pl.when(value.str.contains(r"^[^@]+@.+$"))
        .then(masked)
        .otherwise(_stars(value.str.len_chars()))
    )


def mask_expr(column: str | pl.Expr, rule: str | MaskRule, dtype: Any = None) -> pl.Expr:
    """An expression masking `column` by `rule`; the result keeps the column's name.

    Text rules work on the column as text (non-text columns are cast); `hide` gives a null
    of `dtype` (default: text).
    """
    parsed = rule if isinstance(rule, MaskRule) else parse_rule(rule)
    expr = pl.col(column) if isinstance(column, str) else column
    name = column if isinstance(column, str) else None
    if parsed.kind == "hide":
        out = pl.lit(None, dtype=dtype or pl.String)
    else:
        text = expr.cast(pl.String)
        if parsed.kind == "keep":
            out = _keep(text, parsed.first, parsed.last)
        elif parsed.kind == "name":
            out = _keep(text, 1, 0)
        else:
            out = _email(text)
        out = pl.when(text.is_null()).then(pl.lit(None, dtype=pl.String)).otherwise(out)
    return out.alias(name) if name else out


def mask_frame(frame: pl.DataFrame, rules: Mapping[str, str | MaskRule | None]) -> pl.DataFrame:
    """`frame` with every column that has a rule masked; other columns untouched.

    Rules for columns not in the frame are ignored (the caller selected fewer items).
    """
    exprs = [
        mask_expr(name, rule, frame.schema[name])
        for name, rule in rules.items()
        if rule and name in frame.columns
    ]
    return frame.with_columns(exprs) if exprs else frame


def mask_lazy(frame: pl.LazyFrame, rules: Mapping[str, str | MaskRule | None]) -> pl.LazyFrame:
    """The same as `mask_frame` for a LazyFrame (streaming exports)."""
    schema = frame.collect_schema()
    exprs = [
        mask_expr(name, rule, schema[name])
        for name, rule in rules.items()
        if rule and name in schema.names()
    ]
    return frame.with_columns(exprs) if exprs else frame


def mask_values(values: Iterable[Any], rule: str | MaskRule) -> list[Any]:
    """Mask a handful of values (a page of rows, a sample): same rules, via one Series."""
    series = pl.Series("v", list(values))
    frame = pl.DataFrame([series]).with_columns(mask_expr("v", rule, series.dtype))
    return frame["v"].to_list()


def mask_value(value: Any, rule: str | MaskRule) -> Any:
    return mask_values([value], rule)[0]
