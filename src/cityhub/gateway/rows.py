"""The dataset query language of `/resources/{code}/rows`, and the answers it produces.

Query parameters:
    <item>=v, <item>__in=a,b, <item>__gte / __lte / __gt / __lt=v, <item>__prefix=v
    fields=a,b   sort=a,-b   limit=1..1000   cursor=<next>   format=csv|json|ndjson

Only granted items may be filtered, selected or sorted on; masked items (no clear-text
permission) allow equality and `in` only, since ranges, prefixes and ordering would leak
what the mask hides. The database masks as it reads (`sqlmask`): clear values of masked
items never reach this process.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

import orjson
import polars as pl
from sqlalchemy import Engine

from cityhub.catalog.masking import MaskRule
from cityhub.core.pagination import decode_cursor, encode_cursor
from cityhub.errors import BadRequest, Forbidden, ValidationFailed
from cityhub.gateway import sqlmask
from cityhub.gateway.access import View
from cityhub.gateway.resources import ItemInfo
from cityhub.library import datastore as ds

Format = Literal["page", "csv", "json", "ndjson"]
RESERVED = frozenset({"fields", "sort", "limit", "cursor", "format", "lang"})
SUFFIX_OP: dict[str, ds.FilterOp] = {
    "eq": "eq",
    "exact": "eq",
    "in": "in",
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "prefix": "prefix",
}
TEXTUAL = frozenset({ds.ColumnKind.string, ds.ColumnKind.text})
REVEALING = frozenset({"gt", "gte", "lt", "lte", "prefix"})
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
EXPORT_CHUNK = 5000
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}


@dataclass(frozen=True)
class Plan:
    """A parsed call: what to run, how to answer."""

    view: View
    fields: tuple[ItemInfo, ...]
    query: ds.RowQuery
    sort_key: str  # the sort as written, bound into cursors
    format: Format

    @property
    def masked(self) -> list[str]:
        return [i.code for i in self.fields if self.view.masked(i)]


def _item(view: View, code: str, what: str) -> ItemInfo:
    item = view.resource.item(code)
    if item is None:
        known = ", ".join(i.code for i in view.resource.items)
        raise BadRequest(
            f"unknown {what} {code!r}: resource {view.resource.code} has the items {known}",
            field=code,
        )
    if not view.allows(item.code):
        raise Forbidden(
            f"item {item.title} is not granted to you; request it with POST /api/v1/requests",
            field=item.code,
            item_name=item.name,
        )
    return item


def _no_leak(view: View, item: ItemInfo, what: str) -> None:
    if view.masked(item):
        raise Forbidden(
            f"item {item.title} is masked for you: {what} on it would reveal what the mask "
            "hides; filter it with = or __in, or request it in clear text",
            field=item.code,
            item_name=item.name,
        )


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse(view: View, params: Sequence[tuple[str, str]], *, allow_export: bool = True) -> Plan:
    seen: set[str] = set()
    filters: list[ds.Filter] = []
    options: dict[str, str] = {}
    for key, value in params:
        if key in seen:
            raise BadRequest(f"parameter {key!r} is given twice; use __in for several values")
        seen.add(key)
        if key in RESERVED:
            options[key] = value
            continue
        code, sep, suffix = key.rpartition("__")
        if not sep or suffix not in SUFFIX_OP:
            code, suffix = key, "eq"
        item = _item(view, code, "filter field")
        op = SUFFIX_OP[suffix]
        if op in REVEALING:
            _no_leak(view, item, f"a {suffix} filter")
        raw: Any = _split(value) if op == "in" else value
        if op == "in" and not raw:
            raise ValidationFailed(f"{key}: give at least one value, separated by commas")
        filters.append(ds.Filter(item.column, op, raw))
        for one in raw if isinstance(raw, list) else [raw]:
            if op != "prefix":
                ds.coerce(view.resource.table_spec.column(item.column), one)  # fail early
    fields = (
        tuple(_item(view, c, "field") for c in _split(options["fields"]))
        if options.get("fields")
        else view.items
    )
    if not fields:
        raise ValidationFailed("fields: name at least one item")
    sort: list[ds.Sort] = []
    for part in _split(options.get("sort", "")):
        descending = part.startswith("-")
        item = _item(view, part.lstrip("-"), "sort field")
        _no_leak(view, item, "sorting")
        sort.append(ds.Sort(item.column, descending))
    fmt = options.get("format", "page") or "page"
    if fmt not in ("page", "csv", "json", "ndjson"):
        raise ValidationFailed(f"format: {fmt!r} is not one of csv, json, ndjson")
    if fmt != "page" and not allow_export:
        raise ValidationFailed("format: exports are served by /api/v1/resources/{code}/rows")
    limit = _limit(options.get("limit"), export=fmt != "page")
    sort_key = options.get("sort", "")
    after = _after(options.get("cursor"), sort_key, len(sort))
    transforms = tuple(
        (i.column, _masker(i.rule, i.kind in TEXTUAL, i.length))
        for i in fields
        if view.masked(i) and i.rule is not None
    )
    query = ds.RowQuery(
        tuple(i.column for i in fields),
        tuple(filters),
        tuple(sort),
        after,
        limit,
        transforms=transforms,
    )
    return Plan(view, fields, query, sort_key, fmt)  # type: ignore[arg-type]


@lru_cache(maxsize=256)
def _masker(rule: MaskRule, textual: bool, width: int | None) -> ds.Transform:
    """The SQL masking of `rule` (one function per rule, so statements cache well)."""
    return lambda column: sqlmask.masked(column, rule, textual=textual, width=width)


def _limit(raw: str | None, *, export: bool) -> int | None:
    if raw is None or raw == "":
        return None if export else DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"limit: {raw!r} is not a whole number") from None
    top = 10**9 if export else MAX_LIMIT
    if not 1 <= value <= top:
        raise ValidationFailed(f"limit: must be between 1 and {top}")
    return value


def _after(cursor: str | None, sort_key: str, width: int) -> tuple[Any, ...] | None:
    values = decode_cursor(cursor)
    if values is None:
        return None
    if len(values) != width + 2 or values[0] != sort_key:
        raise BadRequest("cursor was issued for another sort; start again without it")
    return tuple(values[1:])


# -- answers ------------------------------------------------------------------------------


def frame(plan: Plan, rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """Rows (masked by the database already) as a DataFrame keyed by item code."""
    schema = {
        i.code: pl.String() if plan.view.masked(i) else ds.polars_dtype(i.kind) for i in plan.fields
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def records(plan: Plan, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    codes = [i.code for i in plan.fields]
    return [dict(zip(codes, row, strict=True)) for row in rows]


def page_body(plan: Plan, page: ds.RowPage) -> bytes:
    """A page as JSON; a page is small, so plain dicts and orjson beat a DataFrame."""
    nxt = encode_cursor([plan.sort_key, *page.next_key]) if page.next_key else None
    return orjson.dumps(
        {
            "items": records(plan, page.rows),
            "next": nxt,
            "fields": [i.code for i in plan.fields],
            "masked": plan.masked,
        }
    )


def _serialize(df: pl.DataFrame, fmt: str, first: bool) -> bytes:
    if fmt == "csv":
        return df.write_csv(
            include_header=first, datetime_format="%Y-%m-%dT%H:%M:%S%.f%:z"
        ).encode()
    lines = df.write_ndjson()
    if fmt == "ndjson":
        return lines.encode()
    body = ",\n".join(lines.splitlines())
    return (b"" if first else b",\n") + body.encode() if body else b""


@dataclass
class Tally:
    rows: int = 0
    bytes: int = 0
    status: int = 200


def export(engine: Engine, plan: Plan, tally: Tally, *, cap: int | None = None) -> Iterator[bytes]:
    """Every matching row, masked and serialized chunk by chunk: memory stays bounded.

    `cap` (the rows left in the daily quota) stops the export there.
    """
    query = plan.query
    if cap is not None:
        limit = min(query.limit, cap) if query.limit is not None else cap
        query = replace(query, limit=limit)
    spec = plan.view.resource.table_spec
    fmt = plan.format

    def out(chunk: bytes) -> bytes:
        tally.bytes += len(chunk)
        return chunk

    if fmt == "json":
        yield out(b"[\n")
    first = True
    with engine.connect() as conn:
        for rows in ds.stream(conn, spec, query, chunk_rows=EXPORT_CHUNK):
            tally.rows += len(rows)
            chunk = _serialize(frame(plan, rows), fmt, first)
            if chunk:
                yield out(chunk)
            first = False
    if first and fmt == "csv":  # no rows: still a header line
        yield out(",".join(i.code for i in plan.fields).encode() + b"\n")
    if fmt == "json":
        yield out(b"\n]\n")
