"""COPY of Polars frames into PostgreSQL tables, inside the caller's transaction: the one
way the library and the exchange bulk-load rows there (CSV, quoted only where needed).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
from sqlalchemy import Connection

from cityhub.core.prefetch import prefetch
from cityhub.library import behind

if TYPE_CHECKING:
    import psycopg

COPY_SLICE_ROWS = 20_000  # rows per CSV slice sent to COPY


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _csv_slices(frame: pl.DataFrame) -> Iterator[bytes]:
    for offset in range(0, frame.height, COPY_SLICE_ROWS):
        out = io.BytesIO()
        # NULL an empty field, an empty string "" (Polars quotes it): the two stay apart
        frame.slice(offset, COPY_SLICE_ROWS).write_csv(
            out,
            include_header=False,
            quote_style="necessary",
            null_value="",
            date_format="%Y-%m-%d",
            datetime_format="%Y-%m-%dT%H:%M:%S%.6fZ",
        )
        yield out.getvalue()


def _copy_sql(conn: Connection, table_name: str, frame: pl.DataFrame, freeze: bool) -> str:
    cols = ", ".join(_q(conn, c) for c in frame.columns)
    options = "FORMAT csv, FREEZE" if freeze else "FORMAT csv"
    return f"COPY {_q(conn, table_name)} ({cols}) FROM STDIN WITH ({options})"


def _copy(raw: psycopg.Connection[Any], sql: str, frame: pl.DataFrame) -> None:
    # The next slice is formatted as CSV in a background thread while the server takes
    # this one: the client's formatting hides behind the server's parsing.
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for data in prefetch(_csv_slices(frame), depth=2):
            copy.write(data)


def copy_frame(
    conn: Connection, table_name: str, frame: pl.DataFrame, *, freeze: bool = False
) -> None:
    """COPY `frame` into `table_name` (PostgreSQL), columns by name. `freeze`: the table
    was created or emptied in this transaction (see `first_load`)."""
    if frame.height:
        _copy(behind.raw(conn), _copy_sql(conn, table_name, frame, freeze), frame)


def copy_frames_behind(
    conn: Connection, frames: Sequence[tuple[str, pl.DataFrame]], *, freeze: bool = False
) -> None:
    """COPY each (table, frame) in a background thread (`behind`): the caller goes on,
    and the connection's next statement waits for the copies."""
    jobs = [(_copy_sql(conn, t, f, freeze), f) for t, f in frames if f.height]

    def work(raw: psycopg.Connection[Any]) -> None:
        for sql, frame in jobs:
            _copy(raw, sql, frame)

    behind.start(conn, work)
