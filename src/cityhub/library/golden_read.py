"""Reading keyed tables (see `golden`): the stored rows of given keys, every row in
chunks, the rows a full delivery did not carry; lineage expanded from its compact form.
`golden` re-exports these; import them from there."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import polars as pl
from sqlalchemy import Connection, text

from cityhub.library import behind
from cityhub.library import datastore as ds
from cityhub.library.golden import DEFAULT_PART, HASH, KEY, REGION, ROW_SRC, Layout, quote

if TYPE_CHECKING:
    import psycopg

_FETCH_KEYS = {"postgresql": 200_000, "sqlite": 5_000}


def _raw_dtype(kind: ds.ColumnKind) -> pl.DataType:
    """The dtype rows arrive in before parsing (dates as text on SQLite's raw path)."""
    if kind in (ds.ColumnKind.date, ds.ColumnKind.datetime):
        return pl.String()
    if kind is ds.ColumnKind.boolean:
        return pl.Int64()
    return ds.polars_dtype(kind)


def _parse(frame: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    exprs = []
    for col in layout.spec.columns:
        if col.name not in frame.columns:
            continue
        c = pl.col(col.name)
        if col.kind is ds.ColumnKind.date:
            exprs.append(c.str.slice(0, 10).str.to_date("%Y-%m-%d"))
        elif col.kind is ds.ColumnKind.datetime:
            exprs.append(
                c.str.replace("T", " ")
                .str.slice(0, 26)
                .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
            )
        elif col.kind is ds.ColumnKind.boolean:
            exprs.append(c.cast(pl.Boolean))
    return frame.with_columns(exprs) if exprs else frame


def fetch_columns(layout: Layout) -> list[tuple[str, pl.DataType]]:
    """What `fetch` returns: row id, the item columns, fingerprint, partition and lineage."""
    cols: list[tuple[str, pl.DataType]] = [(ds.ROW_ID, pl.Int64())]
    cols += [(c.name, _raw_dtype(c.kind)) for c in layout.spec.columns]
    if layout.composite:
        cols.append((KEY, pl.String()))
    cols.append((HASH, pl.Int64()))
    if layout.partitioned:
        cols.append((REGION, pl.String()))
    if layout.lineage:
        cols += [(layout.src(c.name), pl.Int64()) for c in layout.value_columns]
    return cols


def _expanded_src(conn: Connection, layout: Layout, name: str, alias: str) -> str | None:
    """A field's merge id from its compact form: its own, else the row's (see `_src`)."""
    col = next((c for c in layout.value_columns if layout.src(c.name) == name), None)
    if col is None or not layout.lineage:
        return None
    prefix = f"{alias}." if alias else ""
    value, own, row = (prefix + quote(conn, n) for n in (col.name, name, ROW_SRC))
    return f"CASE WHEN {value} IS NULL THEN {own} ELSE COALESCE({own}, {row}) END"


def compact_lineage(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    """Rows about to be written: `_src` set to the row's latest merge, and each
    `_src_<column>` kept only where it differs from it (the inverse of the reads)."""
    srcs = [layout.src(c.name) for c in layout.value_columns]
    if not layout.lineage or not srcs or not set(srcs) <= set(frame.columns):
        return frame  # a partial write leaves `_src` alone: stored NULLs keep their meaning
    row = pl.max_horizontal(srcs)
    return frame.with_columns(
        row.alias(ROW_SRC),
        *[pl.when(pl.col(s).ne_missing(row)).then(pl.col(s)).alias(s) for s in srcs],
    )


def _select_sql(conn: Connection, layout: Layout, names: Sequence[str], alias: str = "") -> str:
    rendered = []
    for name in names:
        col = next((c for c in layout.spec.columns if c.name == name), None)
        quoted = f"{alias}.{quote(conn, name)}" if alias else quote(conn, name)
        quoted = _expanded_src(conn, layout, name, alias) or quoted
        if col is not None and conn.dialect.name == "postgresql":
            if col.kind is ds.ColumnKind.datetime:  # text in UTC whatever the session zone
                quoted = f"to_char({quoted} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
            elif col.kind is ds.ColumnKind.date:
                quoted = f"to_char({quoted}, 'YYYY-MM-DD')"
            elif col.kind is ds.ColumnKind.boolean:
                quoted = f"{quoted}::int"
        rendered.append(quoted)
    return ", ".join(rendered)


def fetch(conn: Connection, layout: Layout, keys: pl.Series) -> pl.DataFrame:
    """The stored rows whose key is in `keys`, fetched in sorted key chunks."""
    columns = fetch_columns(layout)
    schema = dict(columns)
    unique = keys.drop_nulls().unique().sort()
    frames = [pl.DataFrame(schema=schema)]
    if unique.len() and is_empty(conn, layout):  # a first load: nothing to look up
        unique = unique.clear()
    step = _FETCH_KEYS.get(conn.dialect.name, 5_000)
    names = [name for name, _ in columns]
    for offset in range(0, unique.len(), step):
        chunk = unique.slice(offset, step)
        if conn.dialect.name == "postgresql":
            frames.append(_fetch_copy(conn, layout, names, chunk, schema))
        else:
            frames.append(_fetch_chunk(conn, layout, names, chunk, schema))
    return _parse(pl.concat(frames, how="vertical"), layout)


def is_empty(conn: Connection, layout: Layout) -> bool:
    """Whether the keyed table holds no row."""
    found = conn.exec_driver_sql(f"SELECT 1 FROM {quote(conn, layout.name)} LIMIT 1").first()
    return found is None


def _fetch_sql(conn: Connection, layout: Layout, names: list[str], regions: list[str]) -> str:
    """Index probes, never a join: a hash join would scan the whole table for every
    chunk (quadratic over a load of millions); `key = ANY(...)` descends the key index once
    per key whatever the table's size. Keys go by their region to its partition (and the
    default one), so each probe looks in one or two partitions, not all of them."""
    stage = "stg_library_keys"
    select_list = _select_sql(conn, layout, names, alias="t")
    tbl, key = quote(conn, layout.name), quote(conn, layout.key_column)
    if not regions:
        return (
            f"SELECT {select_list} FROM {tbl} AS t "
            f"WHERE t.{key} = ANY(ARRAY(SELECT k FROM {stage}))"
        )
    parts = []
    for code in regions:
        literal = "'" + code.replace("'", "''") + "'"
        parts.append(
            f"(SELECT {select_list} FROM {tbl} AS t WHERE t.{quote(conn, REGION)} IN "
            f"({literal}, '{DEFAULT_PART}') AND t.{key} = ANY(ARRAY(SELECT k FROM {stage} "
            f"WHERE r = {literal})))"
        )
    return " UNION ALL ".join(parts)


def _fetch_copy(
    conn: Connection,
    layout: Layout,
    names: list[str],
    keys: pl.Series,
    schema: dict[str, pl.DataType],
) -> pl.DataFrame:
    """PostgreSQL: the keys go in by COPY, the rows come out by COPY as CSV that Polars
    parses: no Python object per row either way."""
    stage = "stg_library_keys"
    staged = keys.to_frame("k")
    if layout.region_slice is not None:
        start, end = layout.region_slice
        staged = staged.with_columns(pl.col("k").str.slice(start, end - start).alias("r"))
    else:
        staged = staged.with_columns(pl.lit("").alias("r"))
    regions = sorted(staged.get_column("r").unique().to_list()) if layout.region_slice else []
    query = _fetch_sql(conn, layout, names, regions)
    sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)"
    raw = cast("psycopg.Connection[Any]", behind.raw(conn))
    out = bytearray()
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (k text, r text) ON COMMIT DROP")
        cur.execute(f"TRUNCATE {stage}")
        cur.execute("SET LOCAL jit = off")  # compiling costs more than these probes take
        with cur.copy(f"COPY {stage} (k, r) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(staged.write_csv(include_header=False, quote_style="always"))
        with cur.copy(sql) as copy:
            for block in copy:
                out += block
    if not out:
        return pl.DataFrame(schema=schema)
    text_schema = dict.fromkeys(names, pl.String())
    frame = pl.read_csv(bytes(out), has_header=False, new_columns=names, schema=text_schema)
    return frame.with_columns([pl.col(n).cast(t) for n, t in schema.items() if t != pl.String()])


def _fetch_chunk(
    conn: Connection,
    layout: Layout,
    names: list[str],
    keys: pl.Series,
    schema: dict[str, pl.DataType],
) -> pl.DataFrame:
    select_list = _select_sql(conn, layout, names)
    marks = ", ".join("?" for _ in range(keys.len()))
    sql = (
        f"SELECT {select_list} FROM {quote(conn, layout.name)} "
        f"WHERE {quote(conn, layout.key_column)} IN ({marks})"
    )
    rows = conn.exec_driver_sql(sql, tuple(keys.to_list())).all()
    return pl.DataFrame(rows, schema=schema, orient="row", strict=False)


def iterate(
    conn: Connection, layout: Layout, names: Sequence[str], chunk_rows: int = 100_000
) -> Iterator[pl.DataFrame]:
    """Every row of the table (`names` columns), by `_row_id` ranges: memory bounded."""
    schema = {n: t for n, t in fetch_columns(layout) if n in names}
    after = -1
    select_list = _select_sql(conn, layout, list(schema))
    tbl = quote(conn, layout.name)
    while True:
        sql = (
            f"SELECT {select_list} FROM {tbl} WHERE {quote(conn, ds.ROW_ID)} > :after "
            f"ORDER BY {quote(conn, ds.ROW_ID)} LIMIT {int(chunk_rows)}"
        )
        rows = conn.execute(text(sql), {"after": after}).all()
        if not rows:
            return
        frame = _parse(pl.DataFrame(rows, schema=schema, orient="row", strict=False), layout)
        yield frame
        after = int(frame.get_column(ds.ROW_ID).max())  # type: ignore[arg-type]


def iterate_unseen(
    conn: Connection, layout: Layout, resource_code: str, batch_id: int, chunk_rows: int = 50_000
) -> Iterator[pl.DataFrame]:
    """Stored rows whose key a full delivery (`library_seen_keys`) did not carry."""
    columns = fetch_columns(layout)
    schema = dict(columns)
    select_list = _select_sql(conn, layout, [n for n, _ in columns])
    tbl, row_id = quote(conn, layout.name), quote(conn, ds.ROW_ID)
    sql = (
        f"SELECT {select_list} FROM {tbl} AS t WHERE t.{row_id} > :after AND NOT EXISTS "
        "(SELECT 1 FROM library_seen_keys AS s WHERE s.resource_code = :code "
        f"AND s.batch_id = :batch AND s.key = t.{quote(conn, layout.key_column)}) "
        f"ORDER BY t.{row_id} LIMIT {int(chunk_rows)}"
    )
    after = -1
    while True:
        rows = conn.execute(
            text(sql), {"after": after, "code": resource_code, "batch": batch_id}
        ).all()
        if not rows:
            return
        frame = _parse(pl.DataFrame(rows, schema=schema, orient="row", strict=False), layout)
        after = int(frame.get_column(ds.ROW_ID).max())  # type: ignore[arg-type]
        yield frame
