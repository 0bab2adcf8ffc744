"""Reading and writing lineage: which merge (provider, batch, time) set a field, and the
conflict log."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.library import pgcopy, write
from cityhub.library.golden import Layout
from cityhub.library.models import LibraryConflict, LibraryMerge


def source_ids(stored: pl.DataFrame, layout: Layout) -> list[int]:
    srcs = [layout.src(c.name) for c in layout.value_columns if layout.lineage]
    if not srcs or stored.height == 0:
        return []
    # Few distinct merges per column: deduplicate column by column, then together.
    distinct = [stored.get_column(s).drop_nulls().unique() for s in srcs]
    return [int(v) for v in pl.concat(distinct).unique().to_list()]


def source_providers(session: Session, stored: pl.DataFrame, layout: Layout) -> dict[int, int]:
    """merge id → provider organization id, for every merge `stored` rows point to."""
    ids = source_ids(stored, layout)
    if not ids:
        return {}
    rows = session.execute(
        select(LibraryMerge.id, LibraryMerge.provider_id).where(LibraryMerge.id.in_(ids))
    )
    return {merge_id: provider_id for merge_id, provider_id in rows}


def record_conflicts(conn: Connection, library: str, merge_id: int, frame: pl.DataFrame) -> int:
    """Append conflicts (see `resolve.CONFLICT_SCHEMA`) to the log; returns how many."""
    if frame.height == 0:
        return 0
    rows = frame.with_columns(
        pl.lit(library).alias("library"),
        pl.lit(merge_id, pl.Int64).alias("merge_id"),
        pl.lit(utcnow(), dtype=pl.Datetime("us", "UTC")).alias("at"),
    )
    table = LibraryConflict.__tablename__
    if conn.dialect.name == "postgresql":
        pgcopy.copy_frame(conn, table, rows)
    else:
        converted = write.sqlite_values(rows)
        cols = ", ".join(converted.columns)
        marks = ", ".join("?" for _ in converted.columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", converted.rows())
    return frame.height
