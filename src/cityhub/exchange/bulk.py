"""Bulk inserts of the exchange's own bookkeeping (quarantined rows, change records) from
Polars frames: COPY on PostgreSQL, executemany on SQLite, inside the caller's
transaction."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection

from cityhub.library import pgcopy

CHUNK = 50_000


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def insert(conn: Connection, table: str, frame: pl.DataFrame) -> int:
    """Append `frame` (columns named as the table's) to `table`."""
    if frame.height == 0:
        return 0
    if conn.dialect.name == "postgresql":  # behind the caller: read by nobody before commit
        pgcopy.copy_frames_behind(conn, [(table, frame)])
        return frame.height
    cols = ", ".join(_q(conn, c) for c in frame.columns)
    converted = frame.with_columns(
        [
            pl.col(name).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime)
        ]
    )
    marks = ", ".join("?" for _ in converted.columns)
    sql = f"INSERT INTO {_q(conn, table)} ({cols}) VALUES ({marks})"
    for offset in range(0, converted.height, CHUNK):
        conn.exec_driver_sql(sql, converted.slice(offset, CHUNK).rows())
    return frame.height
