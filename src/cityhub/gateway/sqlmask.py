"""The catalog's masking rules as SQL expressions, so that the database masks while reading.

Masked values then never leave the database in clear, and a page costs no Python per
value. The rules and their edge cases are those of `catalog.masking` (which masks
DataFrames with Polars): `keep:firstN,lastM` stars the middle, or the whole value when
it is too short; `name` keeps the first character; `email` keeps the mailbox's first
character and the domain; `hide` gives NULL; NULL stays NULL. A test checks that both
agree value for value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal_column, null
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from cityhub.catalog.masking import MaskRule


class stars(FunctionElement[str]):
    """`n` asterisks."""

    type = String()
    inherit_cache = True


@compiles(stars, "sqlite")
def _stars_sqlite(element: stars, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite has no repeat(): n zero bytes, hex-encoded, each "00" turned into a star.
    (n,) = list(element.clauses)
    return f"replace(hex(zeroblob({compiler.process(n, **kw)})), '00', '*')"


@compiles(stars)
def _stars_default(element: stars, compiler: SQLCompiler, **kw: Any) -> str:
    (n,) = list(element.clauses)
    return f"repeat('*', {compiler.process(n, **kw)})"


class position(FunctionElement[int]):
    """1-based position of `needle` in `text` (0 when absent)."""

    inherit_cache = True


@compiles(position, "sqlite")
def _position_sqlite(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    text, needle = list(element.clauses)
    return f"instr({compiler.process(text, **kw)}, {compiler.process(needle, **kw)})"


@compiles(position)
def _position_default(element: position, compiler: SQLCompiler, **kw: Any) -> str:
    text, needle = list(element.clauses)
    return f"strpos({compiler.process(text, **kw)}, {compiler.process(needle, **kw)})"


class tail(FunctionElement[str]):
    """The last `n` characters of `text`."""

    type = String()
    inherit_cache = True


@compiles(tail, "sqlite")
def _tail_sqlite(element: tail, compiler: SQLCompiler, **kw: Any) -> str:
    text, n = list(element.clauses)
    return f"substr({compiler.process(text, **kw)}, -{compiler.process(n, **kw)})"


@compiles(tail)
def _tail_default(element: tail, compiler: SQLCompiler, **kw: Any) -> str:
    text, n = list(element.clauses)
    return f"right({compiler.process(text, **kw)}, {compiler.process(n, **kw)})"


MAX_LITERAL = 512


def _stars(n: ColumnElement[Any], width: int | None) -> ColumnElement[Any]:
    """`n` stars: a slice of a constant when values are short (cheapest), else generated."""
    if width is not None and width <= MAX_LITERAL:
        return func.substr(literal_column("'" + "*" * width + "'"), 1, n)
    return stars(n)


def _keep(
    text: ColumnElement[Any], first: int, last: int, width: int | None
) -> tuple[tuple[ColumnElement[bool], ColumnElement[Any]], ColumnElement[Any]]:
    """(when long enough, kept) and the all-stars fallback."""
    length = func.length(text)
    kept: ColumnElement[Any] = _stars(length - (first + last), width)
    if first:
        kept = func.substr(text, 1, first).op("||")(kept)
    if last:
        kept = kept.op("||")(tail(text, last))
    return (length > first + last, kept), _stars(length, width)


def _email(
    text: ColumnElement[Any], width: int | None
) -> tuple[tuple[ColumnElement[bool], ColumnElement[Any]], ColumnElement[Any]]:
    at = position(text, literal_column("'@'"))
    rest = func.substr(text, at)
    # As the catalog's regex ^[^@]+@.+$: a mailbox, an @, then a domain on one line.
    valid = and_(at > 1, func.length(text) > at, position(rest, literal_column("'\n'")) == 0)
    masked = func.substr(text, 1, 1).op("||")(literal_column("'***'")).op("||")(rest)
    return (valid, masked), _stars(func.length(text), width)


def masked(
    column: ColumnElement[Any], rule: MaskRule, *, textual: bool = True, width: int | None = None
) -> ColumnElement[Any]:
    """`column` masked by `rule`, as text (NULL for `hide`, and for NULL).

    `textual`: the column already holds text (no cast needed); `width`: its maximum length.
    """
    if rule.kind == "hide":
        return null()
    text = column if textual else cast(column, String())
    if rule.kind == "keep":
        branch, fallback = _keep(text, rule.first, rule.last, width)
    elif rule.kind == "name":
        branch, fallback = _keep(text, 1, 0, width)
    else:
        branch, fallback = _email(text, width)
    return case((column.is_(None), null()), branch, else_=fallback)
