"""Datastore pages for JSON answers, straight from the driver's cursor (see `datastore`).

The SQL of a query shape is compiled once; a call then only binds values and reads rows,
without SQLAlchemy's per-statement work, which costs more than a small indexed query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

from cityhub.library import behind
from cityhub.library._ds_query import RowPage, RowQuery, _bind, _json_key, _Shape, _statement
from cityhub.library._ds_schema import ColumnKind, TableSpec


@lru_cache(maxsize=1024)
def _compiled(
    dialect: Dialect, spec: TableSpec, shape: _Shape
) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
    """SQL text, parameter order (positional drivers) and the statement's own constants."""
    compiled = _statement(spec, shape).compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    constants = {
        compiled.bind_names[bind]: bind.effective_value
        for bind in compiled.binds.values()
        if not bind.required
    }
    return compiled.string, order, constants


def _driver_value(value: Any, sqlite: bool) -> Any:
    if not sqlite:
        return value
    if isinstance(value, datetime):  # as SQLAlchemy stores them in SQLite: naive UTC text
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _to_datetime(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _to_float(value: Any) -> Any:
    return None if value is None else float(value)


def _to_bool(value: Any) -> Any:
    return None if value is None else bool(value)


@lru_cache(maxsize=1024)
def _converters(sqlite: bool, spec: TableSpec, shape: _Shape) -> tuple[tuple[int, Any], ...]:
    """Per selected column, how a raw driver value becomes what `fetch` would return."""
    transformed = {name for name, _ in shape.transforms}
    out = []
    for index, name in enumerate(shape.columns):
        if name in transformed:
            continue  # masked text, as is
        kind = spec.column(name).kind
        if kind in (ColumnKind.decimal, ColumnKind.float):
            out.append((index, _to_float))
        elif sqlite and kind is ColumnKind.boolean:
            out.append((index, _to_bool))
        elif sqlite and kind is ColumnKind.datetime:
            out.append((index, _to_datetime))
    return tuple(out)


def page(conn: Connection, spec: TableSpec, query: RowQuery) -> RowPage:
    """`fetch` for answers serialized as JSON, straight from the driver's cursor.

    The SQL text is compiled once per query shape and run without SQLAlchemy's per-call
    statement work. Values are those of `fetch` except that SQLite dates come back as
    ISO text (what JSON shows anyway).
    """
    shape, params = _bind(spec, query)
    sqlite = conn.dialect.name == "sqlite"
    sql, order, constants = _compiled(conn.dialect, spec, shape)
    values = {**constants, **params}
    raw = behind.raw(conn)
    assert raw is not None
    cursor = raw.cursor()
    driver_error = conn.dialect.loaded_dbapi.Error
    try:
        if order is not None:
            cursor.execute(sql, [_driver_value(values[name], sqlite) for name in order])
        else:
            cursor.execute(sql, values)
        result = cursor.fetchall()
    except driver_error as exc:  # the same error type as SQLAlchemy's own path raises
        raise DBAPIError.instance(sql, values, exc, driver_error) from exc
    finally:
        cursor.close()
    width = len(shape.columns)
    more = query.limit is not None and len(result) > query.limit
    kept = result[: query.limit] if more else result
    converters = _converters(sqlite, spec, shape)
    rows: list[tuple[Any, ...]] = []
    for record in kept:
        if converters:
            values_out = list(record[:width])
            for index, convert in converters:
                values_out[index] = convert(values_out[index])
            rows.append(tuple(values_out))
        else:
            rows.append(tuple(record[:width]))
    next_key = None
    if more and kept:
        last = kept[-1]
        transformed = {name for name, _ in shape.transforms}
        extra = [
            s.column for s in shape.sort if s.column not in shape.columns or s.column in transformed
        ]
        position = {name: i for i, name in enumerate(shape.columns) if name not in transformed}
        position.update({name: width + i for i, name in enumerate(extra)})
        next_key = [_json_key(last[position[s.column]]) for s in shape.sort] + [last[-1]]
    return RowPage(list(query.columns), rows, next_key)
