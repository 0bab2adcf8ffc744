"""Keyed tables: the datastore table of a resource extended for merging.

Beside the datastore's `_row_id`, `_updated_at` and item columns, a keyed table has:

- `_hash`   the row's fingerprint (`fingerprint`), to tell unchanged rows and to digest;
- `_key`    the canonical composite key, only when the key has several items
            (a single key item is its own column);
- `_region` the GB/T 2260 code inside the key (ID numbers, credit codes) when the
            library declares one: PostgreSQL partitions the table by it (LIST, one
            partition per county of the city and a default), SQLite just stores it;
- `_src_<column>` for base libraries: the `library_merges` id that set each field
            (its provider, batch and time: the field's lineage).

A unique index on the key (with `_region` on PostgreSQL, where a unique index must hold
the partition key; `_region` is a function of the key, so it is unique on the key)
makes a concurrent double insert fail rather than duplicate a person.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, cast

import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    inspect,
    text,
)

from cityhub.errors import Conflict
from cityhub.library import datastore as ds

if TYPE_CHECKING:
    import psycopg

HASH = "_hash"
KEY = "_key"
REGION = "_region"
SRC_PREFIX = "_src_"
DEFAULT_PART = "default"
_FILL = "fillfactor = 85"  # room left on each page, so that updates stay HOT
KEY_SEPARATOR = "|"


@dataclass(frozen=True)
class Layout:
    """How a resource's rows are keyed, fingerprinted and traced."""

    spec: ds.TableSpec
    key_columns: tuple[str, ...]
    lineage: bool = False
    region_slice: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key_column(self) -> str:
        return self.key_columns[0] if len(self.key_columns) == 1 else KEY

    @property
    def composite(self) -> bool:
        """Keyed by `_key`: several key items, or none (then the row's fingerprint)."""
        return len(self.key_columns) != 1

    @cached_property
    def value_columns(self) -> tuple[ds.ColumnSpec, ...]:
        return tuple(c for c in self.spec.columns if c.name not in self.key_columns)

    @property
    def hashed_columns(self) -> tuple[ds.ColumnSpec, ...]:
        return self.spec.columns

    @staticmethod
    def src(column: str) -> str:
        return f"{SRC_PREFIX}{column}"[:63]

    @cached_property
    def extra_columns(self) -> tuple[tuple[str, Any], ...]:
        """(name, SQL type) of the columns added to the datastore layout."""
        cols: list[tuple[str, Any]] = [(HASH, BigInteger())]
        if self.composite:
            cols.append((KEY, String(256)))
        if self.region_slice:
            cols.append((REGION, String(16)))
        if self.lineage:
            cols += [(self.src(c.name), Integer()) for c in self.value_columns]
        return tuple(cols)

    @property
    def partitioned(self) -> bool:
        return self.region_slice is not None


@lru_cache(maxsize=256)
def table(layout: Layout) -> Table:
    """The full SQLAlchemy table of a keyed layout (datastore columns + extras)."""
    base = ds.table(layout.spec)
    meta = MetaData()
    cols: list[Column[Any]] = [
        Column(c.name, c.type, primary_key=c.primary_key) for c in base.columns
    ]
    cols += [Column(name, sql_type) for name, sql_type in layout.extra_columns]
    return Table(layout.name, meta, *cols)


def key_expr(layout: Layout) -> pl.Expr:
    """The canonical key of each row: the key column, or the key items joined by `|`."""
    if not layout.composite:
        return pl.col(layout.key_columns[0]).cast(pl.String)
    if not layout.key_columns:
        return pl.col(KEY)
    parts = [pl.col(c).cast(pl.String) for c in layout.key_columns]
    return pl.concat_str(parts, separator=KEY_SEPARATOR)


def region_expr(layout: Layout, known_parts: Sequence[str]) -> pl.Expr:
    """The partition of each key: its region code when the city has a partition for it."""
    assert layout.region_slice is not None
    start, end = layout.region_slice
    code = pl.col(layout.key_column).str.slice(start, end - start)
    return pl.when(code.is_in(list(known_parts))).then(code).otherwise(pl.lit(DEFAULT_PART))


# -- creating ------------------------------------------------------------------------------


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _create_partitioned(conn: Connection, layout: Layout, parts: Sequence[str]) -> None:
    tbl = table(layout)
    defs = []
    for col in tbl.columns:
        if col.name == ds.ROW_ID:
            defs.append(f"{_q(conn, col.name)} BIGSERIAL")
            continue
        sql_type = col.type.compile(dialect=conn.dialect)
        not_null = " NOT NULL" if col.name in (ds.UPDATED_AT, REGION) else ""
        defs.append(f"{_q(conn, col.name)} {sql_type}{not_null}")
    defs.append(f"PRIMARY KEY ({_q(conn, ds.ROW_ID)}, {_q(conn, REGION)})")
    name = _q(conn, layout.name)
    conn.execute(text(f"CREATE TABLE {name} ({', '.join(defs)}) PARTITION BY LIST ({REGION})"))
    for part in parts:
        child = _q(conn, f"{layout.name}_p{part}"[:63])
        conn.execute(
            text(
                f"CREATE TABLE {child} PARTITION OF {name} FOR VALUES IN ('{part}') WITH ({_FILL})"
            )
        )
    default = _q(conn, layout.name + "_pdef")
    conn.execute(text(f"CREATE TABLE {default} PARTITION OF {name} DEFAULT WITH ({_FILL})"))


def ensure(conn: Connection, layout: Layout, parts: Sequence[str] = ()) -> None:
    """Create the keyed table (partitioned on PostgreSQL) or add what it lacks."""
    postgres = conn.dialect.name == "postgresql"
    if layout.partitioned and postgres and not inspect(conn).has_table(layout.name):
        _create_partitioned(conn, layout, [p for p in parts if p.isdigit()])
    if not inspect(conn).has_table(layout.name):
        ds.ensure_table(conn, layout.spec)
    existing = {c["name"] for c in inspect(conn).get_columns(layout.name)}
    # Columns the table lacks (new items, our extras); existing ones are left alone: a
    # kind change is the datastore's business (`ds.ensure_table`), not a merge's.
    tbl = table(layout)
    wanted = [(c.name, tbl.c[c.name].type) for c in layout.spec.columns]
    for name, sql_type in [*wanted, *layout.extra_columns]:
        if name not in existing:
            compiled = sql_type.compile(dialect=conn.dialect)
            conn.execute(
                text(f"ALTER TABLE {_q(conn, layout.name)} ADD COLUMN {_q(conn, name)} {compiled}")
            )
    for index in ds.table(layout.spec).indexes:
        index.create(conn, checkfirst=True)
    _ensure_key_index(conn, layout)


def _ensure_key_index(conn: Connection, layout: Layout) -> None:
    tbl = table(layout)
    cols = [tbl.c[layout.key_column]]
    if layout.partitioned and conn.dialect.name == "postgresql":
        cols.append(tbl.c[REGION])
    index = Index(f"uq_{layout.name}_key"[:63], *cols, unique=True)
    try:
        with conn.begin_nested():
            index.create(conn, checkfirst=True)
    except Exception as exc:  # duplicates written before the table was keyed
        raise Conflict(
            f"resource {layout.spec.resource_code} already holds several rows with the same "
            f"key ({', '.join(layout.key_columns)}); remove the duplicates before merging"
        ) from exc


# -- reading -------------------------------------------------------------------------------

_FETCH_KEYS = {"postgresql": 50_000, "sqlite": 5_000}


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


def _select_sql(conn: Connection, layout: Layout, names: Sequence[str], alias: str = "") -> str:
    rendered = []
    for name in names:
        col = next((c for c in layout.spec.columns if c.name == name), None)
        quoted = f"{alias}.{_q(conn, name)}" if alias else _q(conn, name)
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
    if unique.len() and _empty(conn, layout):  # a first load: nothing to look up
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


def _empty(conn: Connection, layout: Layout) -> bool:
    found = conn.exec_driver_sql(f"SELECT 1 FROM {_q(conn, layout.name)} LIMIT 1").first()
    return found is None


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
    key = _q(conn, layout.key_column)
    sql = (
        f"COPY (SELECT {_select_sql(conn, layout, names, alias='t')} "
        f"FROM {_q(conn, layout.name)} AS t JOIN {stage} AS k ON t.{key} = k.k) "
        "TO STDOUT WITH (FORMAT csv, FORCE_QUOTE *)"
    )
    raw = cast("psycopg.Connection[Any]", conn.connection.dbapi_connection)
    out = bytearray()
    with raw.cursor() as cur:
        cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (k text) ON COMMIT DROP")
        cur.execute(f"TRUNCATE {stage}")
        with cur.copy(f"COPY {stage} (k) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(keys.to_frame().write_csv(include_header=False, quote_style="always"))
        cur.execute(f"ANALYZE {stage}")  # the planner then probes the key index
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
        f"SELECT {select_list} FROM {_q(conn, layout.name)} "
        f"WHERE {_q(conn, layout.key_column)} IN ({marks})"
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
    tbl = _q(conn, layout.name)
    while True:
        sql = (
            f"SELECT {select_list} FROM {tbl} WHERE {_q(conn, ds.ROW_ID)} > :after "
            f"ORDER BY {_q(conn, ds.ROW_ID)} LIMIT {int(chunk_rows)}"
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
    tbl, row_id = _q(conn, layout.name), _q(conn, ds.ROW_ID)
    sql = (
        f"SELECT {select_list} FROM {tbl} AS t WHERE t.{row_id} > :after AND NOT EXISTS "
        "(SELECT 1 FROM library_seen_keys AS s WHERE s.resource_code = :code "
        f"AND s.batch_id = :batch AND s.key = t.{_q(conn, layout.key_column)}) "
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
