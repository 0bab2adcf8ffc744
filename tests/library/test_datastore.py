"""The datastore on SQLite and PostgreSQL: tables, typed bulk loads, the query builder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import polars as pl
import pyarrow as pa
import pytest
from sqlalchemy import Connection, inspect
from sqlalchemy.exc import DBAPIError

from cityhub.core.db import make_engine
from cityhub.errors import BadRequest, Conflict, ValidationFailed
from cityhub.library import datastore as ds
from cityhub.settings import Settings

CODE = "101001-LYGA-000001"
SPEC = ds.TableSpec(
    CODE,
    (
        ds.ColumnSpec("xm", ds.ColumnKind.string, 8, label="姓名"),
        ds.ColumnSpec("nl", ds.ColumnKind.integer, label="年龄", indexed=True),
        ds.ColumnSpec("csrq", ds.ColumnKind.date, label="出生日期"),
        ds.ColumnSpec("dj", ds.ColumnKind.datetime, label="登记时间"),
        ds.ColumnSpec("sr", ds.ColumnKind.decimal, scale=2, label="收入"),
        ds.ColumnSpec("hz", ds.ColumnKind.boolean, label="户主"),
        ds.ColumnSpec("bz", ds.ColumnKind.text, label="备注"),
    ),
)
ROWS = pl.DataFrame(
    {
        "xm": ["张三", "", None, "李四", "王五"],
        "nl": [30, None, 5, 7, 30],
        "csrq": ["1990-01-01", None, "2020-01-01", "2019-01-01", "1994-06-30"],
        "dj": [datetime(2024, 1, 1, 8), None, None, datetime(2024, 5, 1), None],
        "sr": [1.5, 2.25, None, 3.0, 10.0],
        "hz": ["true", "0", None, "是", "否"],
        "bz": ['a\nb, "c"', None, "x", "", "%_"],
    }
)


@pytest.fixture
def conn(settings: Settings) -> Iterator[Connection]:
    engine = make_engine(settings.effective_database_url)
    with engine.begin() as connection:
        ds.drop(connection, CODE)
        ds.ensure_table(connection, SPEC)
        ds.insert(connection, SPEC, ROWS)
        yield connection
        ds.drop(connection, CODE)
    engine.dispose()


def _values(conn: Connection, query: ds.RowQuery) -> list[tuple[object, ...]]:
    return ds.fetch(conn, SPEC, query).rows


def test_the_table_has_typed_columns_and_system_columns(conn: Connection) -> None:
    columns = {c["name"] for c in inspect(conn).get_columns(SPEC.name)}
    assert columns == {ds.ROW_ID, ds.UPDATED_AT, *(c.name for c in SPEC.columns)}
    assert SPEC.name.startswith("ds_101001_lyga_000001_")
    assert ds.count(conn, SPEC) == 5
    rows = _values(conn, ds.RowQuery(("xm", "nl", "csrq", "dj", "sr", "hz", "bz")))
    assert rows[0] == (
        "张三",
        30,
        date(1990, 1, 1),
        datetime(2024, 1, 1, 8, tzinfo=UTC),
        1.5,
        True,
        'a\nb, "c"',
    )
    assert rows[1][0] == "" and rows[2][0] is None  # empty text stays distinct from NULL
    assert [r[5] for r in rows] == [True, False, None, True, False]


def test_arrow_tables_load_too(conn: Connection) -> None:
    ds.insert(conn, SPEC, pa.table({"xm": ["赵六"], "nl": [41]}))
    assert ds.count(conn, SPEC, [ds.Filter("xm", "eq", "赵六")]) == 1


def test_filters_are_typed_and_bound(conn: Connection) -> None:
    def names(*filters: ds.Filter) -> list[object]:
        return [r[0] for r in _values(conn, ds.RowQuery(("xm",), tuple(filters)))]

    assert names(ds.Filter("nl", "eq", "30")) == ["张三", "王五"]
    assert names(ds.Filter("nl", "in", ["5", "7"])) == [None, "李四"]
    assert names(ds.Filter("csrq", "gte", "2019-01-01")) == [None, "李四"]
    assert names(ds.Filter("dj", "lt", "2024-03-01T00:00:00+00:00")) == ["张三"]
    assert names(ds.Filter("sr", "gt", "2.5")) == ["李四", "王五"]
    assert names(ds.Filter("hz", "eq", "true")) == ["张三", "李四"]
    assert names(ds.Filter("bz", "prefix", "%")) == ["王五"]  # a wildcard is just a character
    assert names(ds.Filter("xm", "prefix", "张")) == ["张三"]
    assert names(ds.Filter("xm", "eq", "' OR 1=1 --")) == []
    with pytest.raises(ValidationFailed, match="年龄 \\(nl\\): 'x' is not a valid integer"):
        names(ds.Filter("nl", "eq", "x"))
    with pytest.raises(ValidationFailed, match="text items only"):
        names(ds.Filter("nl", "prefix", "3"))
    with pytest.raises(BadRequest, match="no column 'nope'"):
        names(ds.Filter("nope", "eq", "1"))


def test_keyset_pages_follow_the_sort_with_nulls_last(conn: Connection) -> None:
    for descending in (False, True):
        sort = (ds.Sort("nl", descending),)
        seen: list[object] = []
        after = None
        while True:
            page = ds.fetch(conn, SPEC, ds.RowQuery(("nl",), (), sort, after, limit=2))
            seen += [r[0] for r in page.rows]
            if page.next_key is None:
                break
            after = tuple(page.next_key)
        numbers = [n for n in seen if n is not None]
        assert numbers == sorted(numbers, reverse=descending)
        assert seen[-1] is None and len(seen) == 5


def test_streams_come_in_chunks(conn: Connection) -> None:
    chunks = list(ds.stream(conn, SPEC, ds.RowQuery(("xm",)), chunk_rows=2))
    assert [len(c) for c in chunks] == [2, 2, 1]


def test_bad_loads_write_nothing(conn: Connection) -> None:
    with pytest.raises(ValidationFailed, match="年龄 \\(nl\\) cannot be stored as integer"):
        ds.insert(conn, SPEC, pl.DataFrame({"nl": ["1", "abc"]}))
    with pytest.raises(ValidationFailed, match="unknown column\\(s\\) colour"):
        ds.insert(conn, SPEC, pl.DataFrame({"colour": ["red"]}))
    with pytest.raises(ValidationFailed, match="allows 8 characters but a value has 9"):
        ds.insert(conn, SPEC, pl.DataFrame({"xm": ["一二三四五六七八九"]}))
    with pytest.raises(ValidationFailed, match="出生日期 \\(csrq\\) cannot be stored as date"):
        ds.insert(conn, SPEC, pl.DataFrame({"csrq": ["2020-13-01"]}))
    assert ds.count(conn, SPEC) == 5


def test_new_items_add_columns_and_changed_kinds_conflict(conn: Connection) -> None:
    wider = ds.TableSpec(CODE, (*SPEC.columns, ds.ColumnSpec("dh", ds.ColumnKind.string, 11)))
    assert ds.ensure_table(conn, wider) == "altered"
    assert ds.ensure_table(conn, wider) == "current"
    ds.insert(conn, wider, pl.DataFrame({"dh": ["13812345678"]}))
    assert ds.count(conn, wider) == 6
    changed = ds.TableSpec(CODE, (ds.ColumnSpec("nl", ds.ColumnKind.date),))
    with pytest.raises(Conflict, match=r"holds .* data but the item is now date"):
        ds.ensure_table(conn, changed)


def test_replace_swaps_every_row(conn: Connection) -> None:
    assert ds.replace(conn, SPEC, pl.DataFrame({"xm": ["甲", "乙"]})) == 2
    assert [r[0] for r in _values(conn, ds.RowQuery(("xm",)))] == ["甲", "乙"]


def test_names_are_safe_identifiers() -> None:
    assert ds.column_name("GMSFHM") == "gmsfhm"
    assert ds.column_name("身份证号").startswith("c_")
    assert ds.table_name("a-b") != ds.table_name("a_b")
    with pytest.raises(ValidationFailed):
        ds.ColumnSpec("Robert'); DROP TABLE x;--", ds.ColumnKind.text)


def test_page_answers_as_fetch_does(conn: Connection) -> None:
    """The driver-level JSON path and the SQLAlchemy path agree (dates aside: ISO text)."""

    def plain(value: object) -> object:
        return (
            value.isoformat()
            if isinstance(value, date) and not isinstance(value, datetime)
            else value
        )

    queries = [
        ds.RowQuery(("xm", "nl", "csrq", "dj", "sr", "hz", "bz"), limit=2),
        ds.RowQuery(("xm", "nl"), (ds.Filter("nl", "in", ["5", "30"]),), (ds.Sort("nl", True),)),
        ds.RowQuery(("xm",), (ds.Filter("xm", "prefix", "张"),), limit=10),
        ds.RowQuery(("xm", "csrq"), (), (ds.Sort("csrq"),), after=("1994-06-30", 5), limit=2),
        ds.RowQuery(("xm",), (ds.Filter("dj", "gte", "2024-01-01T00:00:00Z"),)),
    ]
    for query in queries:
        slow, fast = ds.fetch(conn, SPEC, query), ds.page(conn, SPEC, query)
        assert [tuple(plain(v) for v in row) for row in slow.rows] == [
            tuple(plain(v) for v in row) for row in fast.rows
        ], query
        assert slow.next_key == fast.next_key, query
    other = ds.TableSpec("999999-NONE-000001", SPEC.columns)
    with conn.engine.connect() as separate, pytest.raises(DBAPIError):  # as SQLAlchemy's
        ds.page(separate, other, ds.RowQuery(("xm",)))


def test_every_kind_reads_back_as_current(conn: Connection) -> None:
    """Reflected types of every kind match their spec: re-publishing changes nothing."""
    every = ds.TableSpec(
        "101001-LYGA-000009", tuple(ds.ColumnSpec(f"c_{k.value}", k) for k in ds.ColumnKind)
    )
    ds.ensure_table(conn, every)
    assert ds.ensure_table(conn, every) == "current"
    ds.drop(conn, every.resource_code)
