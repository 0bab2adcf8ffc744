"""A first load: one batch into an empty keyed table, on PostgreSQL.

Into an empty table every key of the batch is new (the exchange holds back and judges the
keys a batch repeats before merging), so no chunk looks up stored rows, and the load
writes the way PostgreSQL loads fastest:

- the table's indexes, its primary key too, are dropped for the load and built once at
  its end (inserting millions of random ID numbers into a unique index larger than
  shared_buffers costs a random page read and write per row; building it sorts once);
- the table is emptied again (TRUNCATE) in the load's transaction, so that its rows can
  go with COPY FREEZE straight into their partitions: no routing of each row, no hint
  bits and no freezing by a later VACUUM;
- row ids are reserved from the table's sequence once per chunk, not drawn per row.

PostgreSQL's DDL is transactional: a crash leaves the table as it was (empty, indexed)
and a commit leaves it loaded and indexed. The table is locked (ACCESS EXCLUSIVE, by the
DROP INDEX and the TRUNCATE) until the batch commits: readers of the empty table wait for
the load. (Frozen rows are visible at once to a REPEATABLE READ transaction that began
before the load and had not read the table: the one caveat of COPY FREEZE.)

    begin(session, resource_code=..., batch_id=...) -> bool   # before the first chunk
    merge.merge_chunk(...)                                     # as usual, per chunk
    finish(session, resource_code=...)                         # after the last chunk

SQLite keeps the usual path.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization
from cityhub.errors import Conflict
from cityhub.library import datastore as ds
from cityhub.library import golden, pgcopy, write
from cityhub.library.golden import DEFAULT_PART, REGION, Layout
from cityhub.library.models import LibraryMerge
from cityhub.library.target import target_of

STATE = "cityhub.library.first_load"  # session.info: stored resource code -> Loading
_SORT_MEMORY = "256MB"  # for the index builds at the end (SET LOCAL: this transaction only)


@dataclass
class Loading:
    batch_id: int
    primary_key: tuple[str, str] | None = None  # (name, definition) of the dropped key
    indexed: bool = False  # the indexes are built again (the load is over)
    # what the first chunk looked up (provider, partitions, the merge's row): the same
    # for every chunk of the load
    merged: tuple[Organization, list[str], LibraryMerge] | None = None


def _indexes(layout: Layout) -> list[str]:
    """Names of the secondary indexes the load drops."""
    names = [index.name for index in ds.table(layout.spec).indexes if index.name]
    return [*names, golden.key_index_name(layout)]


def _primary_key(conn: Connection, layout: Layout) -> tuple[str, str] | None:
    found = conn.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = to_regclass(%(t)s) AND contype = 'p'",
        {"t": golden.quote(conn, layout.name)},
    ).first()
    return (str(found[0]), str(found[1])) if found is not None else None


def begin(session: Session, *, resource_code: str, batch_id: int) -> bool:
    """Start a first load when the table of `resource_code` is empty (PostgreSQL)."""
    from cityhub.library.merge import lock, partitions_for

    conn = session.connection()
    target = target_of(session, resource_code)
    layout = target.layout
    if conn.dialect.name != "postgresql" or not layout.key_columns:
        return False
    lock(conn, target.stored_code)  # no other merge of the table until this one commits
    parts = partitions_for(session, target)
    golden.ensure(conn, layout, parts)
    table = golden.quote(conn, layout.name)
    if conn.exec_driver_sql(f"SELECT 1 FROM {table} LIMIT 1").first() is not None:
        return False
    for name in _indexes(layout):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {golden.quote(conn, name)}")
    primary_key = _primary_key(conn, layout)
    if primary_key is not None:
        name = golden.quote(conn, primary_key[0])
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    conn.exec_driver_sql(f"TRUNCATE {table}")  # new files in this transaction: COPY FREEZE
    session.info.setdefault(STATE, {})[target.stored_code] = Loading(batch_id, primary_key)
    return True


def loading(session: Session, stored_code: str, batch_id: int) -> Loading | None:
    """The first load of `batch_id` into `stored_code`'s table, if one is under way."""
    state: Loading | None = session.info.get(STATE, {}).get(stored_code)
    return state if state is not None and state.batch_id == batch_id else None


def insert(conn: Connection, layout: Layout, frame: pl.DataFrame) -> int:
    """Write new rows during a first load: ids reserved at once, each partition's rows
    copied (FREEZE) into it directly, behind the caller (`behind`)."""
    if frame.height == 0:
        return 0
    frame = write.storable(layout, frame)
    sequence = conn.exec_driver_sql(
        "SELECT pg_get_serial_sequence(%(t)s, %(c)s)",
        {"t": golden.quote(conn, layout.name), "c": ds.ROW_ID},
    ).scalar_one()
    last = conn.exec_driver_sql(
        "SELECT setval(%(s)s::regclass, nextval(%(s)s::regclass) + %(n)s - 1)",
        {"s": sequence, "n": frame.height},
    ).scalar_one()
    ids = pl.int_range(int(last) - frame.height + 1, int(last) + 1, dtype=pl.Int64, eager=True)
    frame = frame.with_columns(ids.alias(ds.ROW_ID))
    if not layout.partitioned:
        copies = [(layout.name, frame)]
    else:
        parts = frame.partition_by(REGION, as_dict=True, maintain_order=True)
        copies = [
            (golden.partition_table(layout, str(part or DEFAULT_PART)), rows)
            for (part,), rows in parts.items()
        ]
    # behind the caller: the next chunk is prepared while the server takes this one
    pgcopy.copy_frames_behind(conn, copies, freeze=True)
    return frame.height


def finish(session: Session, *, resource_code: str) -> None:
    """Build the dropped primary key and indexes again (the unique key index checks the
    load)."""
    from cityhub.library.merge import partitions_for

    target = target_of(session, resource_code)
    state: Loading | None = session.info.get(STATE, {}).get(target.stored_code)
    if state is None or state.indexed:
        return
    conn = session.connection()
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{_SORT_MEMORY}'")
    if state.primary_key is not None:
        name, definition = state.primary_key
        conn.exec_driver_sql(
            f"ALTER TABLE {golden.quote(conn, target.layout.name)} "
            f"ADD CONSTRAINT {golden.quote(conn, name)} {definition}"
        )
    try:
        golden.ensure(conn, target.layout, partitions_for(session, target))
    except Conflict as exc:  # a key twice in the load: the whole batch fails, nothing lands
        raise Conflict(
            f"第一次装载中有重复的主键，批次未入库 / the first load of {resource_code} holds a "
            "key twice; nothing of the batch was stored"
        ) from exc
    state.indexed = True


def done(session: Session, stored_code: str) -> None:
    """Forget the load (after the batch's last step)."""
    session.info.get(STATE, {}).pop(stored_code, None)
