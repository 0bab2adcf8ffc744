"""The datastore: one physical table per published tabular resource.

A table is described by a `TableSpec` (the resource code and its typed columns, usually
one per information item). The API is small on purpose:

- `ensure_table(conn, spec)`  create the table, or add the columns new items need;
- `insert(conn, spec, frame)` bulk insert a Polars DataFrame / Arrow table, in chunks
  (PostgreSQL: COPY through psycopg; SQLite: executemany), inside the caller's
  transaction so that a failed load leaves nothing behind;
- `replace`, `truncate`, `drop`, `exists`, `count`;
- `RowQuery` + `fetch` / `stream`: a query builder with typed filters, sort and keyset
  pagination; user values only ever travel as bound parameters.

Every table has a surrogate key `_row_id` and `_updated_at` (UTC). Names starting with
an underscore are reserved for such system columns. Tables live outside the ORM
metadata: they are data, not schema, so migrations never see them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, inspect, text
from sqlalchemy.types import Boolean, Date, DateTime, Float, Integer, Numeric, String

from cityhub.errors import Conflict, ValidationFailed
from cityhub.library import pgcopy
from cityhub.library._ds_page import page
from cityhub.library._ds_query import (
    FILTER_OPS,
    Filter,
    FilterOp,
    RowPage,
    RowQuery,
    Search,
    Sort,
    Transform,
    build,
    coerce,
    count,
    fetch,
    sample,
    stream,
)
from cityhub.library._ds_schema import (
    _FALSY,
    _POLARS,
    _TEXTUAL,
    _TRUTHY,
    DEFAULT_CHUNK_ROWS,
    ROW_ID,
    TABLE_PREFIX,
    UPDATED_AT,
    ColumnKind,
    ColumnSpec,
    TableSpec,
    column_name,
    polars_dtype,
    table,
    table_name,
)

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "FILTER_OPS",
    "ROW_ID",
    "TABLE_PREFIX",
    "UPDATED_AT",
    "ColumnKind",
    "ColumnSpec",
    "Filter",
    "FilterOp",
    "RowPage",
    "RowQuery",
    "Search",
    "Sort",
    "TableSpec",
    "Transform",
    "build",
    "coerce",
    "column_name",
    "count",
    "drop",
    "ensure_table",
    "exists",
    "fetch",
    "insert",
    "page",
    "polars_dtype",
    "prepare",
    "replace",
    "sample",
    "stream",
    "table",
    "table_name",
    "truncate",
]


def exists(conn: Connection, resource_code: str) -> bool:
    return inspect(conn).has_table(table_name(resource_code))


def _family(sql_type: Any) -> str:
    """Coarse type family, to tell a compatible column from one that needs migrating."""
    for kind, family in (
        (DateTime, "datetime"),
        (Date, "date"),
        (Boolean, "boolean"),
        (Integer, "integer"),
        (Numeric, "number"),
        (Float, "number"),  # not a Numeric subclass in SQLAlchemy 2.1
        (String, "text"),
    ):
        if isinstance(sql_type, kind):
            return family
    return type(sql_type).__name__.lower()


_FAMILY = {
    ColumnKind.string: "text",
    ColumnKind.text: "text",
    ColumnKind.integer: "integer",
    ColumnKind.decimal: "number",
    ColumnKind.float: "number",
    ColumnKind.boolean: "boolean",
    ColumnKind.date: "date",
    ColumnKind.datetime: "datetime",
}


def ensure_table(conn: Connection, spec: TableSpec) -> Literal["created", "altered", "current"]:
    """Create the table, or add the columns of new items; existing data is never dropped.

    A column whose kind changed incompatibly (an integer item that became a date) is a
    Conflict: the data must be migrated deliberately, not by publishing.
    """
    tbl = table(spec)
    if not inspect(conn).has_table(spec.name):
        tbl.create(conn)
        return "created"
    existing = {c["name"]: c for c in inspect(conn).get_columns(spec.name)}
    prep = conn.dialect.identifier_preparer
    changed = False
    for col in spec.columns:
        sql_type = tbl.c[col.name].type
        found = existing.get(col.name)
        if found is None:
            compiled = sql_type.compile(dialect=conn.dialect)
            conn.execute(
                text(
                    f"ALTER TABLE {prep.quote(spec.name)} ADD COLUMN {prep.quote(col.name)} "
                    f"{compiled}"
                )
            )
            changed = True
            continue
        if _family(found["type"]) != _FAMILY[col.kind]:
            raise Conflict(
                f"column {col.title} of resource {spec.resource_code} holds "
                f"{found['type']} data but the item is now {col.kind.value}; migrate the "
                "data before publishing the change"
            )
        old_len = getattr(found["type"], "length", None)
        if conn.dialect.name == "postgresql" and col.kind is ColumnKind.string:
            wider = col.length is None or (old_len is not None and col.length > old_len)
            if old_len is not None and wider:
                conn.execute(
                    text(
                        f"ALTER TABLE {prep.quote(spec.name)} ALTER COLUMN "
                        f"{prep.quote(col.name)} TYPE {sql_type.compile(dialect=conn.dialect)}"
                    )
                )
                changed = True
    for index in tbl.indexes:
        index.create(conn, checkfirst=True)
    return "altered" if changed else "current"


def drop(conn: Connection, resource_code: str) -> None:
    prep = conn.dialect.identifier_preparer
    conn.execute(text(f"DROP TABLE IF EXISTS {prep.quote(table_name(resource_code))}"))


def truncate(conn: Connection, spec: TableSpec) -> None:
    conn.execute(table(spec).delete())


def _as_frame(frame: Any) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    try:
        converted = pl.from_arrow(frame)
    except TypeError:
        raise ValidationFailed("rows must be a Polars DataFrame or an Arrow table") from None
    if not isinstance(converted, pl.DataFrame):
        raise ValidationFailed("rows must be a table, not a single column")
    return converted


def _cast(series: pl.Series, col: ColumnSpec) -> pl.Series:
    """`series` as the column's storage dtype; strings are parsed; a bad value is an error."""
    target = _POLARS[col.kind]
    try:
        if series.dtype == pl.String and col.kind is ColumnKind.date:
            return series.str.to_date("%Y-%m-%d")
        if series.dtype == pl.String and col.kind is ColumnKind.datetime:
            return series.str.to_datetime(time_unit="us", time_zone="UTC")
        if series.dtype == pl.String and col.kind is ColumnKind.boolean:
            lowered = series.str.strip_chars().str.to_lowercase()
            return lowered.replace_strict(_TRUTHY | _FALSY, return_dtype=pl.Boolean)
        if isinstance(series.dtype, pl.Datetime) and col.kind is ColumnKind.datetime:
            if series.dtype.time_zone is None:  # naive values are taken as UTC
                return series.dt.replace_time_zone("UTC").dt.cast_time_unit("us")
            return series.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        if series.dtype == pl.Null:
            return pl.Series(series.name, [None] * len(series), dtype=target)
        if col.kind in _TEXTUAL and series.dtype != pl.String:
            return series.cast(pl.String)
        return series.cast(target, strict=True)
    except (pl.exceptions.PolarsError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ValidationFailed(
            f"column {col.title} cannot be stored as {col.kind.value}: {reason}"
        ) from None


def prepare(spec: TableSpec, frame: Any, now: datetime | None = None) -> pl.DataFrame:
    """Check and convert rows for `spec`: known columns, storage dtypes, lengths."""
    df = _as_frame(frame)
    known = {c.name for c in spec.columns}
    if unknown := [c for c in df.columns if c not in known]:
        raise ValidationFailed(
            f"unknown column(s) {', '.join(unknown)} for resource {spec.resource_code}; "
            f"it has: {', '.join(sorted(known))}"
        )
    out = []
    for col in spec.columns:
        if col.name not in df.columns:
            continue
        series = _cast(df.get_column(col.name), col)
        if col.kind is ColumnKind.string and col.length:
            longest = series.str.len_chars().max()
            if isinstance(longest, int) and longest > col.length:
                raise ValidationFailed(
                    f"column {col.title} allows {col.length} characters but a value has {longest}"
                )
        out.append(series.alias(col.name))
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    result = pl.DataFrame(out, height=df.height) if out else pl.DataFrame(height=df.height)
    return result.with_columns(pl.lit(stamp, dtype=pl.Datetime("us", "UTC")).alias(UPDATED_AT))


def insert(
    conn: Connection,
    spec: TableSpec,
    frame: Any,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    now: datetime | None = None,
) -> int:
    """Append rows (a Polars DataFrame or an Arrow table); returns how many were written.

    Runs in the caller's transaction: a bad value anywhere rejects the whole load before
    the first row is written, and a database error rolls every chunk back.
    """
    df = prepare(spec, frame, now)
    if df.height == 0:
        return 0
    if conn.dialect.name == "postgresql":
        pgcopy.copy_frame(conn, spec.name, df)
    else:
        _executemany(conn, spec, df, chunk_rows)
    return df.height


def replace(conn: Connection, spec: TableSpec, frame: Any, **kwargs: Any) -> int:
    """All rows swapped for `frame`, atomically with the caller's transaction."""
    df = prepare(spec, frame)  # check before deleting anything
    truncate(conn, spec)
    return insert(conn, spec, df.drop(UPDATED_AT), **kwargs)


def _executemany(conn: Connection, spec: TableSpec, df: pl.DataFrame, chunk_rows: int) -> None:
    # The formats SQLAlchemy itself stores in SQLite, so that reads parse them back.
    converted = df.with_columns(
        [
            pl.col(name).dt.strftime("%Y-%m-%d")
            if dtype == pl.Date
            else pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            if isinstance(dtype, pl.Datetime)
            else pl.col(name).cast(pl.Int8)
            if dtype == pl.Boolean
            else pl.col(name)
            for name, dtype in df.schema.items()
        ]
    )
    prep = conn.dialect.identifier_preparer
    cols = ", ".join(prep.quote(c) for c in converted.columns)
    marks = ", ".join("?" for _ in converted.columns)
    sql = f"INSERT INTO {prep.quote(spec.name)} ({cols}) VALUES ({marks})"
    for offset in range(0, converted.height, chunk_rows):
        conn.exec_driver_sql(sql, converted.slice(offset, chunk_rows).rows())
