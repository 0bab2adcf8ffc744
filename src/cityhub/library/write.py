"""Bulk writes to keyed tables, inside the caller's transaction.

PostgreSQL: COPY (inserts straight into the table; updates into a temporary staging
table, then one `UPDATE ... FROM`). SQLite: executemany. Never a statement per row
issued from Python beyond what the driver batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import polars as pl
from sqlalchemy import Connection

from cityhub.library import behind
from cityhub.library import datastore as ds
from cityhub.library.golden import REGION, SRC_PREFIX, Layout, compact_lineage
from cityhub.library.pgcopy import copy_frame

if TYPE_CHECKING:
    import psycopg

CHUNK_ROWS = 50_000


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def sqlite_values(frame: pl.DataFrame) -> pl.DataFrame:
    """The text forms SQLAlchemy itself stores in SQLite, so that reads parse them back."""
    return frame.with_columns(
        [
            pl.col(name).dt.strftime("%Y-%m-%d")
            if dtype == pl.Date
            else pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            if isinstance(dtype, pl.Datetime)
            else pl.col(name).cast(pl.Int8)
            if dtype == pl.Boolean
            else pl.col(name)
            for name, dtype in frame.schema.items()
        ]
    )


def storable(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    """New rows as stored: lineage compacted, lineage columns that are all NULL left out
    (a column left out of an insert stores NULL: the same, and less to send)."""
    frame = compact_lineage(layout, frame)
    unset = [
        c
        for c in frame.columns
        if c.startswith(SRC_PREFIX) and frame[c].null_count() == frame.height
    ]
    return frame.drop(unset)


def insert(conn: Connection, layout: Layout, frame: pl.DataFrame) -> int:
    """Append rows (item columns in storage dtypes, `_updated_at` and the extras)."""
    if frame.height == 0:
        return 0
    # In partition and key order: each index page is visited once per chunk rather than
    # once per row (random ID numbers otherwise scatter the writes over the whole index).
    order = [c for c in (REGION, layout.key_column) if c in frame.columns]
    if order and layout.key_columns:
        frame = frame.sort(order)
    frame = storable(layout, frame)
    if conn.dialect.name == "postgresql":
        copy_frame(conn, layout.name, frame)
    else:
        converted = sqlite_values(frame)
        cols = ", ".join(_q(conn, c) for c in converted.columns)
        marks = ", ".join("?" for _ in converted.columns)
        sql = f"INSERT INTO {_q(conn, layout.name)} ({cols}) VALUES ({marks})"
        for offset in range(0, converted.height, CHUNK_ROWS):
            conn.exec_driver_sql(sql, converted.slice(offset, CHUNK_ROWS).rows())
    return frame.height


def _match(conn: Connection, layout: Layout, target: str, source: str) -> str:
    row_id = _q(conn, ds.ROW_ID)
    clause = f"{target}.{row_id} = {source}.{row_id}"
    if layout.partitioned:  # lets PostgreSQL prune to the row's partition
        clause += f" AND {target}.{_q(conn, REGION)} = {source}.{_q(conn, REGION)}"
    return clause


def update(conn: Connection, layout: Layout, frame: pl.DataFrame) -> int:
    """Rewrite the given columns of the rows `frame._row_id` names."""
    if frame.height == 0:
        return 0
    frame = compact_lineage(layout, frame)
    setting = [c for c in frame.columns if c not in (ds.ROW_ID, REGION)]
    if conn.dialect.name == "postgresql":
        stage = f"stg_{layout.name}"[:63]
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {_q(conn, stage)} "
            f"(LIKE {_q(conn, layout.name)}) ON COMMIT DROP"
        )
        conn.exec_driver_sql(f"TRUNCATE {_q(conn, stage)}")
        copy_frame(conn, stage, frame)
        conn.exec_driver_sql(f"ANALYZE {_q(conn, stage)}")  # row count: probe, do not scan
        assignments = ", ".join(f"{_q(conn, c)} = s.{_q(conn, c)}" for c in setting)
        conn.exec_driver_sql(
            f"UPDATE {_q(conn, layout.name)} AS t SET {assignments} "
            f"FROM {_q(conn, stage)} AS s WHERE {_match(conn, layout, 't', 's')}"
        )
        conn.exec_driver_sql(f"TRUNCATE {_q(conn, stage)}")
        return frame.height
    converted = sqlite_values(frame.select([*setting, ds.ROW_ID]))
    assignments = ", ".join(f"{_q(conn, c)} = ?" for c in setting)
    sql = f"UPDATE {_q(conn, layout.name)} SET {assignments} WHERE {_q(conn, ds.ROW_ID)} = ?"
    for offset in range(0, converted.height, CHUNK_ROWS):
        conn.exec_driver_sql(sql, converted.slice(offset, CHUNK_ROWS).rows())
    return frame.height


def delete(conn: Connection, layout: Layout, row_ids: Sequence[int] | pl.Series) -> int:
    """Remove rows by `_row_id`."""
    ids = list(row_ids) if not isinstance(row_ids, pl.Series) else row_ids.to_list()
    if not ids:
        return 0
    row_id = _q(conn, ds.ROW_ID)
    tbl = _q(conn, layout.name)
    if conn.dialect.name == "postgresql":
        raw = cast("psycopg.Connection[Any]", behind.raw(conn))
        with raw.cursor() as cur:
            cur.execute(f"DELETE FROM {tbl} WHERE {row_id} = ANY(%(ids)s)", {"ids": ids})
        return len(ids)
    step = 5_000
    for offset in range(0, len(ids), step):
        part = ids[offset : offset + step]
        marks = ", ".join("?" for _ in part)
        conn.exec_driver_sql(f"DELETE FROM {tbl} WHERE {row_id} IN ({marks})", tuple(part))
    return len(ids)


def insert_ignore(conn: Connection, table_name: str, frame: pl.DataFrame) -> None:
    """Append rows, skipping those whose primary key is already there."""
    if frame.height == 0:
        return
    cols = ", ".join(_q(conn, c) for c in frame.columns)
    if conn.dialect.name == "postgresql":
        stage = f"stg_{table_name}"[:63]
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {_q(conn, stage)} "
            f"(LIKE {_q(conn, table_name)}) ON COMMIT DROP"
        )
        conn.exec_driver_sql(f"TRUNCATE {_q(conn, stage)}")
        copy_frame(conn, stage, frame)
        conn.exec_driver_sql(
            f"INSERT INTO {_q(conn, table_name)} ({cols}) SELECT {cols} FROM {_q(conn, stage)} "
            "ON CONFLICT DO NOTHING"
        )
        conn.exec_driver_sql(f"TRUNCATE {_q(conn, stage)}")
        return
    converted = sqlite_values(frame)
    marks = ", ".join("?" for _ in converted.columns)
    sql = f"INSERT INTO {_q(conn, table_name)} ({cols}) VALUES ({marks}) ON CONFLICT DO NOTHING"
    for offset in range(0, converted.height, CHUNK_ROWS):
        conn.exec_driver_sql(sql, converted.slice(offset, CHUNK_ROWS).rows())
