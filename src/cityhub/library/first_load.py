"""A first load: one batch into an empty keyed table, on PostgreSQL.

Into an empty table every key of the batch is new (the exchange holds back and judges the
keys a batch repeats before merging), so no chunk looks up stored rows, and the table's
secondary indexes (the unique key index above all) are dropped for the load and built
once at its end, in the same transaction: PostgreSQL's DDL is transactional, so a crash
leaves the table as it was (empty, indexed) and a commit leaves it loaded and indexed.
Inserting millions of random ID numbers into a unique index larger than shared_buffers
costs a random page read and write per row; building it sorts once.

    begin(session, resource_code=..., batch_id=...) -> bool   # before the first chunk
    merge.merge_chunk(...)                                     # as usual, per chunk
    finish(session, resource_code=...)                         # after the last chunk

The table is locked (ACCESS EXCLUSIVE, by the DROP INDEX) until the batch commits:
readers of the empty table wait for the load. SQLite keeps the usual path.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from cityhub.errors import Conflict
from cityhub.library import datastore as ds
from cityhub.library import golden
from cityhub.library.golden import Layout
from cityhub.library.target import target_of

STATE = "cityhub.library.first_load"  # session.info: stored resource code -> Loading
_SORT_MEMORY = "256MB"  # for the index builds at the end (SET LOCAL: this transaction only)


@dataclass
class Loading:
    batch_id: int
    indexed: bool = False  # the indexes are built again (the load is over)


def _indexes(conn: Connection, layout: Layout) -> list[str]:
    """Names of the indexes the load drops: all but the primary key."""
    names = [index.name for index in ds.table(layout.spec).indexes if index.name]
    return [*names, golden.key_index_name(layout)]


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
    found = conn.exec_driver_sql(f"SELECT 1 FROM {golden._q(conn, layout.name)} LIMIT 1")
    if found.first() is not None:
        return False
    for name in _indexes(conn, layout):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {golden._q(conn, name)}")
    session.info.setdefault(STATE, {})[target.stored_code] = Loading(batch_id)
    return True


def loading(session: Session, stored_code: str, batch_id: int) -> Loading | None:
    """The first load of `batch_id` into `stored_code`'s table, if one is under way."""
    state: Loading | None = session.info.get(STATE, {}).get(stored_code)
    return state if state is not None and state.batch_id == batch_id else None


def finish(session: Session, *, resource_code: str) -> None:
    """Build the dropped indexes again (the unique key index checks the load)."""
    from cityhub.library.merge import partitions_for

    target = target_of(session, resource_code)
    state: Loading | None = session.info.get(STATE, {}).get(target.stored_code)
    if state is None or state.indexed:
        return
    conn = session.connection()
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{_SORT_MEMORY}'")
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
