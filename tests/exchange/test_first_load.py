"""A first load (a batch into an empty library table; PostgreSQL drops its indexes for the
load and builds them at the end) ends in the same rows and change feed as the ordinary
path, fails as a whole, and leaves the table keyed; and the packed change log serves the
same feed across its blocks."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect

from cityhub.core.db import make_engine
from cityhub.exchange import changes
from cityhub.library import datastore as ds
from cityhub.library import first_load, golden
from cityhub.library import merge as library_merge
from cityhub.library import target as library_target

from .conftest import HEADER, PEOPLE, PEOPLE_ITEMS, World, id_number, people_csv, person_row

OTHER = "301501-LYGA-000002"  # the same items, loaded the ordinary way


def _chunks(world: World, rows: int) -> None:
    world.settings.exchange_chunk_rows = rows
    world.client.app.state.settings.exchange_chunk_rows = rows  # type: ignore[attr-defined]


def _rows(world: World, code: str) -> list[tuple[Any, ...]]:
    cols = [i["code"] for i in PEOPLE_ITEMS] + [golden.HASH]
    return sorted(tuple(r[c] for c in cols) for r in world.rows(code))


def _feed(world: World, code: str) -> list[tuple[int, str]]:
    with world.db() as session:
        return [(r.seq, r.key) for r in changes.records(session, code, after=0, limit=100_000)]


def _key_indexed(world: World, code: str) -> bool:
    """The table has its unique key index and its primary key (a first load drops both)."""
    engine = make_engine(world.settings.effective_database_url)
    try:
        with engine.connect() as conn:
            names = {i["name"] for i in inspect(conn).get_indexes(ds.table_name(code))}
            primary = inspect(conn).get_pk_constraint(ds.table_name(code))["constrained_columns"]
    finally:
        engine.dispose()
    with world.db() as session:
        layout = library_target.target_of(session, code).layout
    return golden.key_index_name(layout) in names and ds.ROW_ID in primary


def _postgres(world: World) -> bool:
    return world.settings.effective_database_url.startswith("postgresql")


def test_a_first_load_ends_like_the_ordinary_path(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.publish(OTHER)
    _chunks(world, 40)
    taken: list[tuple[str, bool]] = []
    begin = first_load.begin

    def spy(session: Any, *, resource_code: str, batch_id: int) -> bool:
        started = resource_code == PEOPLE and begin(
            session, resource_code=resource_code, batch_id=batch_id
        )
        taken.append((resource_code, started))
        return started

    monkeypatch.setattr(first_load, "begin", spy)
    twice = person_row(7, xm="重复")  # a key twice in the batch: both occurrences refused
    first = people_csv(150, extra=[twice, person_row(160)])
    later = HEADER + "\n" + "\n".join(
        [person_row(i, xm="新名") for i in range(1, 30)] + [person_row(i) for i in range(200, 260)]
    ) + "\n"  # fmt: skip
    for code in (PEOPLE, OTHER):
        for content in (first, later):
            response = world.deliver(content, resource=code, mode="incremental")
            assert response.status_code in (200, 201, 202), response.text
            assert response.json()["status"] == "completed", response.json()
    assert taken[0] == (PEOPLE, _postgres(world))  # into the empty table
    assert taken[1] == (PEOPLE, False)  # the table holds rows now: the ordinary path
    assert _rows(world, PEOPLE) == _rows(world, OTHER)
    # 7 is refused (twice in the first batch), then delivered once
    assert len(_rows(world, PEOPLE)) == 150 + 1 + 60
    assert [k for _, k in _feed(world, PEOPLE)] == [k for _, k in _feed(world, OTHER)]
    assert _key_indexed(world, PEOPLE)
    # the same content again changes nothing
    again = world.deliver(first, resource=PEOPLE, mode="incremental").json()
    assert again["status"] == "duplicate"
    assert _rows(world, PEOPLE) == _rows(world, OTHER)


def test_a_full_first_load_withdraws_nothing_and_a_later_full_delivery_does(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _chunks(world, 25)
    remembered: list[int] = []
    remember = library_merge._remember

    def spy(conn: Any, target: Any, batch_id: int, keys: Any) -> None:
        remembered.append(keys.len())
        remember(conn, target, batch_id, keys)

    monkeypatch.setattr(library_merge, "_remember", spy)
    done = world.deliver(people_csv(100), mode="full").json()
    assert done["status"] == "completed" and done["inserted"] == 100, done
    assert len(world.rows()) == 100
    assert remembered == []  # into an empty table: no key to remember (SQLite too)
    done = world.deliver(people_csv(60, start=41), mode="full").json()
    assert done["status"] == "completed", done
    assert sum(remembered) == 60
    assert sorted(r["sfzh"] for r in world.rows()) == sorted(id_number(i) for i in range(41, 101))
    assert _key_indexed(world, PEOPLE)


def test_a_first_load_failing_in_a_later_chunk_leaves_the_table_empty_and_keyed(
    world: World,
) -> None:
    # the table exists and is empty again: its next load is a first load
    world.deliver(people_csv(3))
    gone = "\n".join(f"delete,{id_number(i)},张三" for i in range(1, 4))
    world.deliver("_op,sfzh,xm\n" + gone + "\n", filename="d.csv")
    assert world.rows() == [] and _key_indexed(world, PEOPLE)
    with world.db() as session:
        seq = changes.last_seq(session, PEOPLE)
    _chunks(world, 100)
    lines = [person_row(i) for i in range(1, 251)]
    lines[240] += ",多出的字段"  # row 241: more fields than the header
    response = world.deliver(HEADER + "\n" + "\n".join(lines) + "\n")
    body = response.json()
    assert body.get("status") == "failed" or response.status_code >= 400, body
    assert world.rows() == []
    assert _key_indexed(world, PEOPLE)  # the dropped indexes came back with the rollback
    with world.db() as session:
        assert changes.last_seq(session, PEOPLE) == seq
    done = world.deliver(people_csv(20)).json()
    assert done["status"] == "completed" and len(world.rows()) == 20
    assert _key_indexed(world, PEOPLE)


def test_the_change_log_reads_the_same_across_its_blocks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "BLOCK_KEYS", 3)
    world.deliver(people_csv(10))
    world.deliver(HEADER + "\n" + person_row(4, xm="新名") + "\n" + person_row(11) + "\n")
    expected = [id_number(i) for i in range(1, 11)] + [id_number(4), id_number(11)]
    with world.db() as session:
        assert changes.last_seq(session, PEOPLE) == 12
        got = changes.records(session, PEOPLE, after=0, limit=100)
        assert [(r.seq, r.key) for r in got] == list(enumerate(expected, start=1))
        for after in range(13):  # every cursor, inside a block or on its edge
            page = changes.records(session, PEOPLE, after=after, limit=4)
            assert [r.seq for r in page] == list(range(after + 1, min(after + 4, 12) + 1))
            assert changes.count_after(session, PEOPLE, after) == 12 - after
        upto = changes.records(session, PEOPLE, after=2, limit=100, upto=7)
        assert [r.seq for r in upto] == [3, 4, 5, 6, 7]
