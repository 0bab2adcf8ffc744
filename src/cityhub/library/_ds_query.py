"""Datastore queries: typed filters, sort and keyset pagination as bound SQL (see
`datastore`). No value a user sends is ever formatted into SQL text."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
)

from cityhub.errors import BadRequest, ValidationFailed
from cityhub.library._ds_schema import (
    _FALSY,
    _TEXTUAL,
    _TRUTHY,
    ROW_ID,
    ColumnKind,
    ColumnSpec,
    TableSpec,
    table,
)

FilterOp = Literal["eq", "in", "gt", "gte", "lt", "lte", "prefix"]
FILTER_OPS: tuple[FilterOp, ...] = ("eq", "in", "gt", "gte", "lt", "lte", "prefix")
_COMPARE = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


@dataclass(frozen=True)
class Filter:
    """`column op value`; `value` is raw text (or a list for `in`) and coerced per column."""

    column: str
    op: FilterOp
    value: Any


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool = False


Transform = Callable[[ColumnElement[Any]], ColumnElement[Any]]


@dataclass(frozen=True)
class Search:
    """Rows where any of `columns` contains `text` (a plain substring, no patterns)."""

    columns: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class RowQuery:
    """Which columns, which rows, in what order, after which keyset position."""

    columns: tuple[str, ...]
    filters: tuple[Filter, ...] = ()
    sort: tuple[Sort, ...] = ()
    after: tuple[Any, ...] | None = None  # the sort values then _row_id of the last row seen
    limit: int | None = 100
    offset: int = 0  # only for peers that page by offset (CKAN); keyset is preferred
    search: Search | None = None
    # Column name -> SQL expression read instead of the column (masking in the database);
    # filters, sort and keysets still work on the stored values.
    transforms: tuple[tuple[str, Transform], ...] = ()


@dataclass
class RowPage:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    next_key: list[Any] | None = None  # JSON-friendly keyset of the last row, when more
    extra: dict[str, Any] = field(default_factory=dict)


def coerce(col: ColumnSpec, raw: Any) -> Any:
    """A filter or cursor value as the column's Python type; precise error otherwise."""
    if raw is None:
        return None
    try:
        match col.kind:
            case ColumnKind.integer:
                if isinstance(raw, bool):
                    raise ValueError
                return raw if isinstance(raw, int) else int(str(raw).strip())
            case ColumnKind.decimal | ColumnKind.float:
                return float(raw)
            case ColumnKind.boolean:
                if isinstance(raw, bool):
                    return raw
                lowered = str(raw).strip().lower()
                return {**_TRUTHY, **_FALSY}[lowered]
            case ColumnKind.date:
                return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
            case ColumnKind.datetime:
                value = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            case _:
                return str(raw)
    except (ValueError, KeyError, TypeError):
        raise ValidationFailed(
            f"{col.title}: {raw!r} is not a valid {col.kind.value} value"
        ) from None


def _like(value: str, *, contains: bool = False) -> str:
    """A LIKE pattern matching `value` literally (escape character `/`)."""
    escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%" if contains else f"{escaped}%"


@dataclass(frozen=True)
class _Shape:
    """Everything about a query but its values: queries of one shape share one statement."""

    columns: tuple[str, ...]
    transforms: tuple[tuple[str, Transform], ...]
    filters: tuple[tuple[str, str, int], ...]  # column, op, values (`in`) or 1 (0: IS NULL)
    search: tuple[str, ...] | None
    sort: tuple[Sort, ...]
    after_nulls: tuple[bool, ...] | None  # which keyset values are NULL
    limited: bool
    offset: bool


def _bind(spec: TableSpec, query: RowQuery) -> tuple[_Shape, dict[str, Any]]:
    """The query's shape and its parameters, every value coerced to its column's type."""
    for name in query.columns:
        spec.column(name)
    params: dict[str, Any] = {}
    filters = []
    for i, flt in enumerate(query.filters):
        col = spec.column(flt.column)
        name = f"f{i}"
        if flt.op == "in":
            values = flt.value if isinstance(flt.value, list | tuple) else [flt.value]
            if not values:
                raise ValidationFailed(f"{col.title}: `in` needs at least one value")
            for k, v in enumerate(values):
                params[f"{name}_{k}"] = coerce(col, v)
        elif flt.op == "prefix":
            if col.kind not in _TEXTUAL:
                raise ValidationFailed(f"{col.title}: prefix filters apply to text items only")
            params[name], params[f"{name}l"] = str(flt.value), _like(str(flt.value))
        else:
            params[name] = coerce(col, flt.value)
        if flt.op == "in":
            count = len(values)
        else:
            count = 0 if flt.op == "eq" and params[name] is None else 1
        filters.append((col.name, flt.op, count))
    search = None
    if query.search is not None:
        search = tuple(spec.column(c).name for c in query.search.columns)
        params["q"] = _like(query.search.text, contains=True)
    after_nulls = None
    if query.after is not None:
        if len(query.after) != len(query.sort) + 1:
            raise BadRequest("cursor does not match the requested sort")
        try:
            params["rid"] = int(query.after[-1])
        except (TypeError, ValueError):
            raise BadRequest("cursor is not one this server issued") from None
        nulls = []
        for j, (key, raw) in enumerate(zip(query.sort, query.after[:-1], strict=True)):
            params[f"k{j}"] = coerce(spec.column(key.column), raw)
            nulls.append(params[f"k{j}"] is None)
        after_nulls = tuple(nulls)
    for key in query.sort:
        spec.column(key.column)
    if query.limit is not None:
        params["lim"] = query.limit + 1  # one more tells whether a next page exists
    if query.offset:
        params["off"] = query.offset
    shape = _Shape(
        query.columns,
        query.transforms,
        tuple(filters),
        search,
        query.sort,
        after_nulls,
        query.limit is not None,
        bool(query.offset),
    )
    return shape, params


def _where(tbl: Table, shape: _Shape) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    for i, (column, op, count) in enumerate(shape.filters):
        target = tbl.c[column]
        value = bindparam(f"f{i}", type_=target.type)
        if op == "in":  # one parameter per value: plain SQL, no expanding parameters
            out.append(
                target.in_([bindparam(f"f{i}_{k}", type_=target.type) for k in range(count)])
            )
        elif op == "prefix":
            # LIKE narrows (and can use an index); substr keeps it exact and case-sensitive.
            pattern = bindparam(f"f{i}l", type_=String())
            out.append(target.like(pattern, escape="/"))
            out.append(func.substr(target, 1, func.length(value)) == value)
        elif count == 0:
            out.append(target.is_(None))
        else:
            out.append(cast(ColumnElement[bool], _COMPARE[op](target, value)))
    if shape.search is not None:
        pattern = bindparam("q", type_=String())
        matches = [tbl.c[c].like(pattern, escape="/") for c in shape.search]
        out.append(or_(*matches) if matches else false())
    return out


def _keyset(tbl: Table, shape: _Shape) -> ColumnElement[bool]:
    """Rows strictly after the cursor in the order sort + _row_id, NULLs last everywhere."""
    assert shape.after_nulls is not None
    clause: ColumnElement[bool] = tbl.c[ROW_ID] > bindparam("rid", type_=Integer())
    steps = list(enumerate(zip(shape.sort, shape.after_nulls, strict=True)))
    for j, (key, is_null) in reversed(steps):
        target = tbl.c[key.column]
        if is_null:  # NULLs come last: only more NULLs can follow
            beyond: ColumnElement[bool] = false()
            same: ColumnElement[bool] = target.is_(None)
        else:
            value = bindparam(f"k{j}", type_=target.type)
            past = target < value if key.descending else target > value
            beyond = or_(past, target.is_(None))
            same = target == value
        clause = or_(beyond, and_(same, clause))
    return clause


@lru_cache(maxsize=1024)
def _statement(spec: TableSpec, shape: _Shape) -> Select[Any]:
    tbl = table(spec)
    sort_cols = [tbl.c[s.column] for s in shape.sort]
    transforms = dict(shape.transforms)
    wanted = [
        transforms[name](tbl.c[name]).label(name) if name in transforms else tbl.c[name]
        for name in shape.columns
    ]
    extra = [
        c.label(f"_sort_{c.name}") if c.name in transforms else c
        for c in sort_cols
        if c.name not in shape.columns or c.name in transforms
    ]
    stmt = select(*wanted, *extra, tbl.c[ROW_ID]).where(*_where(tbl, shape))
    if shape.after_nulls is not None:
        stmt = stmt.where(_keyset(tbl, shape))
    order: list[Any] = []
    for key, target in zip(shape.sort, sort_cols, strict=True):
        # Explicit NULLS LAST: SQLite and PostgreSQL disagree by default.
        order += [target.is_(None), target.desc() if key.descending else target.asc()]
    stmt = stmt.order_by(*order, tbl.c[ROW_ID])
    if shape.offset:
        stmt = stmt.offset(bindparam("off", type_=Integer()))
    if shape.limited:
        stmt = stmt.limit(bindparam("lim", type_=Integer()))
    return stmt


def build(spec: TableSpec, query: RowQuery) -> tuple[Select[Any], dict[str, Any]]:
    """The SELECT of `query` and its parameters: values only ever travel as parameters.

    Statements are cached by shape (columns, filter operators, sort, ...), so a busy API
    builds each kind of query once and then only binds new values.
    """
    shape, params = _bind(spec, query)
    return _statement(spec, shape), params


def _json_key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def fetch(conn: Connection, spec: TableSpec, query: RowQuery) -> RowPage:
    """One page: the asked columns of up to `limit` rows, and the keyset of the last."""
    stmt, params = build(spec, query)
    result = conn.execute(stmt, params).all()
    width = len(query.columns)
    more = query.limit is not None and len(result) > query.limit
    rows = result[: query.limit] if more else result
    next_key = None
    if more and rows:
        last = rows[-1]
        by_name = dict(zip(last._fields, last, strict=True))
        transformed = dict(query.transforms)

        def raw(column: str) -> Any:
            return by_name[f"_sort_{column}" if column in transformed else column]

        next_key = [_json_key(raw(s.column)) for s in query.sort] + [by_name[ROW_ID]]
    return RowPage(list(query.columns), [tuple(r[:width]) for r in rows], next_key)


def stream(
    conn: Connection, spec: TableSpec, query: RowQuery, *, chunk_rows: int = 5000
) -> Iterator[list[tuple[Any, ...]]]:
    """Every matching row in chunks, with a server-side cursor where the database has one."""
    stmt, params = build(spec, query)
    if query.limit is not None:
        params["lim"] = query.limit  # exactly: no look-ahead row when streaming
    width = len(query.columns)
    options = {"stream_results": True, "yield_per": chunk_rows}
    result = conn.execute(stmt, params, execution_options=options)
    for part in result.partitions(chunk_rows):
        yield [tuple(r[:width]) for r in part]


def sample(conn: Connection, spec: TableSpec, columns: Sequence[str], n: int = 5) -> RowPage:
    return fetch(conn, spec, RowQuery(tuple(columns), limit=n))


def count(
    conn: Connection, spec: TableSpec, filters: Sequence[Filter] = (), search: Search | None = None
) -> int:
    shape, params = _bind(spec, RowQuery((), tuple(filters), search=search))
    tbl = table(spec)
    stmt = select(func.count()).select_from(tbl).where(*_where(tbl, shape))
    return int(conn.execute(stmt, params).scalar_one())
