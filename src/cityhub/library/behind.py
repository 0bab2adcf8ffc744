"""Writes that run behind the caller: a COPY on a connection, in a background thread,
while the caller prepares the next chunk.

A first load spends about a third of its time waiting for PostgreSQL to take a chunk's
rows; meanwhile the next chunk can be resolved and fingerprinted (Polars, NumPy and the
driver all release the GIL). `start(conn, work)` runs `work(raw_connection)` in a thread;
the connection's next use waits for it first (`settle`): every statement through
SQLAlchemy (an event on all engines, ORM flushes included), every commit and rollback,
the pool's reset of a connection handed back, and every raw use that takes the driver
connection through `raw(conn)`. Writes started while one runs queue after it. So statements
still run in the order they were issued, in the same transaction, and an error of the
background write is raised at the next statement: the transaction fails as a whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

_KEY = "cityhub.library.behind"


class _Running:
    """One write behind, after the one started before it (whose error it inherits)."""

    def __init__(self, work: Callable[[Any], None], raw: Any, after: _Running | None) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(
            target=self._run, args=(work, raw, after), name="cityhub-behind", daemon=True
        )

    def _run(self, work: Callable[[Any], None], raw: Any, after: _Running | None) -> None:
        if after is not None:
            after.thread.join()
            if after.error is not None:
                self.error = after.error
                return
        try:
            work(raw)
        except BaseException as exc:  # raised in the caller by `settle`
            self.error = exc


def _join(info: dict[Any, Any], swallow: bool) -> None:
    running: _Running | None = info.pop(_KEY, None)
    if running is None:
        return
    running.thread.join()
    if running.error is not None and not swallow:
        raise running.error


def settle(conn: Connection, *, swallow: bool = False) -> None:
    """Wait for the write running behind on `conn`; raise its error unless `swallow`."""
    _join(conn.info, swallow)


def raw(conn: Connection) -> Any:
    """The driver connection of `conn`, once nothing runs behind on it."""
    settle(conn)
    return conn.connection.dbapi_connection


def start(conn: Connection, work: Callable[[Any], None]) -> None:
    """Run `work(driver connection)` behind the caller, after what already runs there."""
    after: _Running | None = conn.info.pop(_KEY, None)
    running = _Running(work, conn.connection.dbapi_connection, after)
    conn.info[_KEY] = running
    running.thread.start()


@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(conn: Connection, *_: Any) -> None:
    settle(conn)


@event.listens_for(Engine, "commit")
def _before_commit(conn: Connection) -> None:
    settle(conn)


@event.listens_for(Engine, "rollback")
def _before_rollback(conn: Connection) -> None:
    if not (conn.invalidated or conn.closed):  # a lost connection is not asked again
        settle(conn, swallow=True)  # the transaction is abandoned: its write's error too


@event.listens_for(Pool, "reset")
def _before_reset(dbapi_connection: Any, connection_record: Any, reset_state: Any) -> None:
    _join(connection_record.info, True)  # a connection handed back to the pool unsettled
