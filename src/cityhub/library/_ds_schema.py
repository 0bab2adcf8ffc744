"""Datastore tables: column kinds, table specs, names and SQL types (see `datastore`)."""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from cityhub.errors import BadRequest, ValidationFailed

ROW_ID = "_row_id"
UPDATED_AT = "_updated_at"
TABLE_PREFIX = "ds_"
DEFAULT_CHUNK_ROWS = 50_000
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class ColumnKind(enum.StrEnum):
    """Storage kinds; the catalog's item data types map onto these."""

    string = "string"  # 字符型 with a maximum length
    text = "text"  # 备注型, unbounded
    integer = "integer"  # 整型
    decimal = "decimal"  # 数值型 / 货币型
    float = "float"  # 浮点型 / 双精度型
    boolean = "boolean"  # 逻辑型
    date = "date"  # 日期型
    datetime = "datetime"  # 日期时间型, stored in UTC


_TEXTUAL = frozenset({ColumnKind.string, ColumnKind.text})
_POLARS: dict[ColumnKind, pl.DataType] = {
    ColumnKind.string: pl.String(),
    ColumnKind.text: pl.String(),
    ColumnKind.integer: pl.Int64(),
    ColumnKind.decimal: pl.Float64(),
    ColumnKind.float: pl.Float64(),
    ColumnKind.boolean: pl.Boolean(),
    ColumnKind.date: pl.Date(),
    ColumnKind.datetime: pl.Datetime("us", "UTC"),
}
_TRUTHY = {"true": True, "1": True, "t": True, "yes": True, "是": True}
_FALSY = {"false": False, "0": False, "f": False, "no": False, "否": False}


@dataclass(frozen=True)
class ColumnSpec:
    """One column: `name` is a lower-case SQL identifier, `label` the item's name."""

    name: str
    kind: ColumnKind
    length: int | None = None  # characters, for `string`
    scale: int = 4  # digits after the point, for `decimal`
    label: str = ""
    indexed: bool = False

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.name):
            raise ValidationFailed(
                f"column name {self.name!r} must be a lower-case identifier "
                "(a letter, then letters, digits or _; at most 63 characters)"
            )

    @property
    def title(self) -> str:
        return (
            f"{self.label} ({self.name})" if self.label and self.label != self.name else self.name
        )


@dataclass(frozen=True)
class TableSpec:
    """The table behind one resource."""

    resource_code: str
    columns: tuple[ColumnSpec, ...]

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if dupes := sorted({n for n in names if names.count(n) > 1}):
            raise ValidationFailed(f"duplicate column names: {', '.join(dupes)}")

    @property
    def name(self) -> str:
        return table_name(self.resource_code)

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise BadRequest(f"resource {self.resource_code} has no column {name!r}")


def polars_dtype(kind: ColumnKind) -> pl.DataType:
    """The Polars dtype rows of this kind are read and written as."""
    return _POLARS[kind]


def table_name(resource_code: str) -> str:
    """`ds_<readable part>_<hash>`: stable, unique per code, a valid identifier anywhere."""
    readable = re.sub(r"[^0-9a-z]+", "_", resource_code.lower()).strip("_")[:40]
    digest = hashlib.sha1(resource_code.encode()).hexdigest()[:8]
    return f"{TABLE_PREFIX}{readable}_{digest}" if readable else f"{TABLE_PREFIX}{digest}"


def column_name(code: str) -> str:
    """A safe column name for an item code (`XM` → `xm`, `身份证号` → `c_…`)."""
    name = re.sub(r"[^0-9a-z_]+", "_", code.lower()).strip("_")
    if not name or not name[0].isalpha() or not name.isascii():
        name = "c_" + (name or hashlib.sha1(code.encode()).hexdigest()[:10])
    return name[:63]


# -- table definitions --------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps come back aware (UTC) from SQLite too, which stores them naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None and dialect.name == "sqlite":
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _sql_type(col: ColumnSpec) -> TypeEngine[Any]:
    match col.kind:
        case ColumnKind.string:
            return String(col.length) if col.length else Text()
        case ColumnKind.text:
            return Text()
        case ColumnKind.integer:
            return BigInteger()
        case ColumnKind.decimal:
            return _Decimal(20, col.scale)
        case ColumnKind.float:
            return Float()
        case ColumnKind.boolean:
            return Boolean(create_constraint=False)
        case ColumnKind.date:
            return Date()
        case ColumnKind.datetime:
            return UTCDateTime()


class _Decimal(TypeDecorator[float]):
    """Exact NUMERIC storage, read back as float (SQLite would hand back ints for 3.0)."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else float(value)


@lru_cache(maxsize=512)
def table(spec: TableSpec) -> Table:
    """The SQLAlchemy table of `spec` (cached: specs are immutable)."""
    meta = MetaData()
    cols: list[Column[Any]] = [
        Column(ROW_ID, BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column(UPDATED_AT, UTCDateTime(), nullable=False),
    ]
    cols += [Column(c.name, _sql_type(c)) for c in spec.columns]
    tbl = Table(spec.name, meta, *cols)
    Index(f"ix_{spec.name}_updated", tbl.c[UPDATED_AT])
    for c in spec.columns:
        if c.indexed:
            Index(f"ix_{spec.name}_{c.name}"[:63], tbl.c[c.name])
    return tbl
