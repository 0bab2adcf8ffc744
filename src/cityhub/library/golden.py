"""Keyed tables: the datastore table of a resource extended for merging.

Beside the datastore's `_row_id`, `_updated_at` and item columns, a keyed table has:

- `_hash`   the row's fingerprint (`fingerprint`), to tell unchanged rows and to digest;
- `_key`    the canonical composite key, only when the key has several items
            (a single key item is its own column);
- `_region` the GB/T 2260 code inside the key (ID numbers, credit codes) when the
            library declares one: PostgreSQL partitions the table by it (LIST, one
            partition per county of the city and a default), SQLite just stores it;
- `_src_<column>` for base libraries: the `library_merges` id that set each field
            (its provider, batch and time: the field's lineage), stored compactly:
- `_src`    the merge that set the row's fields; a `_src_<column>` is stored only where
            its field came from another merge (NULL otherwise, and for empty fields).
            Reads (`fetch`, `iterate`) expand it back to one merge id per field, so a
            first load writes one lineage number per row, not one per field.

A unique index on the key (with `_region` on PostgreSQL, where a unique index must hold
the partition key; `_region` is a function of the key, so it is unique on the key)
makes a concurrent double insert fail rather than duplicate a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

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

HASH = "_hash"
KEY = "_key"
REGION = "_region"
SRC_PREFIX = "_src_"
ROW_SRC = "_src"
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
            cols.append((ROW_SRC, Integer()))
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


def partition_table(layout: Layout, part: str) -> str:
    """The name of the PostgreSQL partition holding `part` (a county code, or the default)."""
    if part == DEFAULT_PART:
        return f"{layout.name}_pdef"
    return f"{layout.name}_p{part}"[:63]


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _create_partitioned(conn: Connection, layout: Layout, parts: Sequence[str]) -> None:
    tbl = table(layout)
    defs = []
    for col in tbl.columns:
        if col.name == ds.ROW_ID:
            defs.append(f"{quote(conn, col.name)} BIGSERIAL")
            continue
        sql_type = col.type.compile(dialect=conn.dialect)
        if col.name in (layout.key_column, REGION) and isinstance(col.type, String):
            # compared byte by byte: the same order for codes (UTF-8 bytes sort as code
            # points), and indexes on them sort several times faster than by a locale
            sql_type += ' COLLATE "C"'
        not_null = " NOT NULL" if col.name in (ds.UPDATED_AT, REGION) else ""
        defs.append(f"{quote(conn, col.name)} {sql_type}{not_null}")
    defs.append(f"PRIMARY KEY ({quote(conn, ds.ROW_ID)}, {quote(conn, REGION)})")
    name = quote(conn, layout.name)
    conn.execute(text(f"CREATE TABLE {name} ({', '.join(defs)}) PARTITION BY LIST ({REGION})"))
    for part in parts:
        child = quote(conn, partition_table(layout, part))
        conn.execute(
            text(
                f"CREATE TABLE {child} PARTITION OF {name} FOR VALUES IN ('{part}') WITH ({_FILL})"
            )
        )
    default = quote(conn, partition_table(layout, DEFAULT_PART))
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
            table_name, column = quote(conn, layout.name), quote(conn, name)
            conn.execute(text(f"ALTER TABLE {table_name} ADD COLUMN {column} {compiled}"))
    for index in ds.table(layout.spec).indexes:
        index.create(conn, checkfirst=True)
    _ensure_key_index(conn, layout)


def key_index_name(layout: Layout) -> str:
    return f"uq_{layout.name}_key"[:63]


def _ensure_key_index(conn: Connection, layout: Layout) -> None:
    tbl = table(layout)
    cols = [tbl.c[layout.key_column]]
    if layout.partitioned and conn.dialect.name == "postgresql":
        cols.append(tbl.c[REGION])
    index = Index(key_index_name(layout), *cols, unique=True)
    try:
        with conn.begin_nested():
            index.create(conn, checkfirst=True)
    except Exception as exc:  # duplicates written before the table was keyed
        raise Conflict(
            f"resource {layout.spec.resource_code} already holds several rows with the same "
            f"key ({', '.join(layout.key_columns)}); remove the duplicates before merging"
        ) from exc


from cityhub.library.golden_read import (  # noqa: E402  (they need Layout above)
    compact_lineage,
    fetch,
    fetch_columns,
    is_empty,
    iterate,
    iterate_unseen,
)

__all__ = [
    "Layout",
    "compact_lineage",
    "ensure",
    "fetch",
    "fetch_columns",
    "is_empty",
    "iterate",
    "iterate_unseen",
    "key_expr",
    "key_index_name",
    "partition_table",
    "quote",
    "region_expr",
    "table",
]
