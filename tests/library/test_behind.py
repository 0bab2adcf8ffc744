"""Writes behind the caller (`behind`): the connection's next statement, commit or
rollback waits for them, in the order they were started; a failed write fails the
transaction at its next statement. PostgreSQL (the only place they are used)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import polars as pl
import psycopg
import pytest
from sqlalchemy import Engine, exc, text

from cityhub.core.db import make_engine
from cityhub.library import behind, pgcopy

pytestmark = pytest.mark.skipif(
    not os.environ.get("CITYHUB_TEST_DATABASE_URL"),
    reason="set CITYHUB_TEST_DATABASE_URL=postgresql+psycopg://… (PostgreSQL)",
)


@pytest.fixture
def engine(settings: Any) -> Iterator[Engine]:
    engine = make_engine(settings.effective_database_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS behind_t"))
        conn.execute(text("CREATE TABLE behind_t (n int PRIMARY KEY)"))
    yield engine
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS behind_t"))
    engine.dispose()


def _copy(values: list[int], delay: float = 0.0) -> Any:
    def work(raw: psycopg.Connection[Any]) -> None:
        time.sleep(delay)  # a slow server: the caller is long gone by now
        with raw.cursor() as cur, cur.copy("COPY behind_t (n) FROM STDIN") as copy:
            copy.write("".join(f"{v}\n" for v in values))

    return work


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM behind_t")).scalar_one())


def test_the_next_statement_sees_the_writes_in_order(engine: Engine) -> None:
    with engine.begin() as conn:
        behind.start(conn, _copy([1, 2], delay=0.3))
        behind.start(conn, _copy([3]))  # queued after the first
        assert conn.execute(text("SELECT array_agg(n ORDER BY n) FROM behind_t")).scalar_one() == [
            1,
            2,
            3,
        ]
    assert _count(engine) == 3


def test_commit_waits_for_the_write(engine: Engine) -> None:
    with engine.begin() as conn:
        behind.start(conn, _copy(list(range(100)), delay=0.3))
    assert _count(engine) == 100


def test_a_failed_write_fails_the_transaction(engine: Engine) -> None:
    with pytest.raises(exc.IntegrityError, match="behind_t_pkey"), engine.begin() as conn:
        conn.execute(text("INSERT INTO behind_t VALUES (7)"))
        behind.start(conn, _copy([7], delay=0.1))
        behind.start(conn, _copy([8]))  # not run: the one before it failed
        conn.execute(text("SELECT 1"))
    assert _count(engine) == 0  # the insert before it went with the transaction


def test_a_rollback_abandons_the_write_and_its_error(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.begin()
        behind.start(conn, _copy([5, 5], delay=0.1))
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM behind_t")).scalar_one() == 0


def test_a_connection_handed_back_unsettled_is_settled_first(engine: Engine) -> None:
    conn = engine.connect()
    conn.begin()
    behind.start(conn, _copy([1], delay=0.2))
    threads = {t.name for t in threading.enumerate()}
    assert "cityhub-behind" in threads
    conn.close()  # the pool's reset rolls back, after the write
    assert "cityhub-behind" not in {t.name for t in threading.enumerate()}
    assert _count(engine) == 0


def test_copied_text_comes_back_as_sent(engine: Engine) -> None:
    """The library's COPY (CSV, quoting only where needed): empty strings stay apart from
    NULL, and separators, quotes, line ends and backslashes come back as they were."""
    values = ["", None, "a,b", 'say "hi"', "two\nlines", "\\N", " 张三 ", "x"]
    frame = pl.DataFrame(
        {"n": list(range(len(values))), "s": values}, schema={"n": pl.Int32, "s": pl.String}
    )
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE behind_t ADD COLUMN s text"))
        pgcopy.copy_frame(conn, "behind_t", frame.slice(0, 4))
        pgcopy.copy_frames_behind(conn, [("behind_t", frame.slice(4))])
        rows = conn.execute(text("SELECT n, s FROM behind_t ORDER BY n")).all()
    assert [s for _, s in rows] == values
