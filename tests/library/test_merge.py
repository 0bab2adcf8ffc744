"""merge_chunk on a plain tabular resource: keyed upserts, counts, deletions, full
deliveries, and bad input rejected before anything is written."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog.vocab import DataType
from cityhub.core.db import transaction
from cityhub.errors import Forbidden, NotFound, ValidationFailed
from cityhub.library import datastore as ds
from cityhub.library import target
from cityhub.library.merge import finish_full, merge_chunk

from .conftest import Merge

CODE = "301099-LYJT-000099"
ITEMS = [
    ("bh", "编号", DataType.string),
    ("mc", "名称", DataType.string),
    ("sl", "数量", DataType.integer),
    ("rq", "日期", DataType.date),
]


@pytest.fixture
def keyed(publish: Callable[..., str], db: sessionmaker[Session]) -> str:
    publish(CODE, "LYJT", ITEMS)
    with transaction(db) as session:
        target.set_key(session, CODE, ["bh"])
    return CODE


def rows(db: sessionmaker[Session], code: str = CODE) -> list[tuple[object, ...]]:
    with db() as session:
        spec = target.target_of(session, code).layout.spec
        query = ds.RowQuery(("bh", "mc", "sl", "rq"), sort=(ds.Sort("bh"),), limit=None)
        return ds.fetch(session.connection(), spec, query).rows


def test_counts_inserts_updates_unchanged_and_deletes(
    keyed: str, merge: Merge, db: sessionmaker[Session]
) -> None:
    first = merge(CODE, "LYJT", [
        {"bh": "A1", "mc": "甲", "sl": 1, "rq": "2024-01-01"},
        {"bh": "A2", "mc": "乙", "sl": 2, "rq": "2024-01-02"},
        {"bh": "A3", "mc": "丙", "sl": 3, "rq": None},
    ])  # fmt: skip
    assert (first.inserted, first.updated, first.unchanged, first.deleted) == (3, 0, 0, 0)

    second = merge(CODE, "LYJT", [
        {"bh": "A1", "mc": "甲", "sl": 1, "rq": "2024-01-01"},  # identical
        {"bh": "A2", "mc": "乙二", "sl": 2, "rq": "2024-01-02"},  # changed
        {"bh": "A4", "mc": "丁", "sl": 4, "rq": "2024-01-04"},  # new
    ], deleted=["A3", "A9"])  # fmt: skip
    assert (second.inserted, second.updated, second.unchanged, second.deleted) == (1, 1, 1, 1)
    assert [r[:2] for r in rows(db)] == [("A1", "甲"), ("A2", "乙二"), ("A4", "丁")]


def test_columns_not_delivered_are_kept_and_nulls_overwrite(
    keyed: str, merge: Merge, db: sessionmaker[Session]
) -> None:
    merge(CODE, "LYJT", [{"bh": "A1", "mc": "甲", "sl": 1, "rq": "2024-01-01"}])
    result = merge(CODE, "LYJT", [{"bh": "A1", "sl": None}])
    assert result.updated == 1
    assert rows(db) == [("A1", "甲", None, __import__("datetime").date(2024, 1, 1))]


def test_duplicate_keys_in_a_chunk_last_wins(
    keyed: str, merge: Merge, db: sessionmaker[Session]
) -> None:
    result = merge(CODE, "LYJT", [{"bh": "A1", "mc": "旧"}, {"bh": "A1", "mc": "新"}])
    assert result.inserted == 1
    assert rows(db)[0][1] == "新"


def test_full_delivery_removes_what_it_no_longer_carries(
    keyed: str, merge: Merge, db: sessionmaker[Session]
) -> None:
    merge(CODE, "LYJT", [{"bh": b, "mc": b} for b in ("A1", "A2", "A3")])
    merge(CODE, "LYJT", [{"bh": "A1", "mc": "A1"}], batch=50, mode="full")
    merge(CODE, "LYJT", [{"bh": "A3", "mc": "A3x"}], batch=50, mode="full")
    with transaction(db) as session:
        done = finish_full(session, resource_code=CODE, provider_code="LYJT", batch_id=50)
    assert done.deleted == 1
    assert [r[:2] for r in rows(db)] == [("A1", "A1"), ("A3", "A3x")]


def test_keyless_resources_keep_distinct_rows(
    publish: Callable[..., str], merge: Merge, db: sessionmaker[Session]
) -> None:
    publish(CODE, "LYJT", ITEMS)
    first = merge(CODE, "LYJT", [{"bh": "A1", "mc": "甲"}, {"bh": "A1", "mc": "甲"}])
    again = merge(CODE, "LYJT", [{"bh": "A1", "mc": "甲"}, {"bh": "A1", "mc": "乙"}])
    assert (first.inserted, again.inserted, again.unchanged) == (1, 1, 1)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"bh": ["A1"], "xx": [1]}, "unknown column"),
        ({"mc": ["甲"]}, "key column"),
        ({"bh": [None], "mc": ["甲"]}, "missing or invalid key"),
        ({"bh": ["A1"], "sl": ["many"]}, "cannot be stored as integer"),
    ],
)
def test_bad_chunks_write_nothing(
    keyed: str,
    merge: Merge,
    db: sessionmaker[Session],
    frame: dict[str, list[object]],
    message: str,
) -> None:
    merge(CODE, "LYJT", [{"bh": "A0", "mc": "零"}])
    with pytest.raises(ValidationFailed, match=message):
        merge(CODE, "LYJT", pl.DataFrame(frame))
    assert rows(db) == [("A0", "零", None, None)]


def test_only_the_provider_merges_and_the_resource_must_exist(
    keyed: str, db: sessionmaker[Session], providers: dict[str, int]
) -> None:
    frame = pl.DataFrame({"bh": ["A1"]})
    with transaction(db) as session, pytest.raises(Forbidden, match="does not provide"):
        merge_chunk(
            session,
            resource_code=CODE,
            provider_code="LYGA",
            batch_id=1,
            frame=frame,
            mode="incremental",
        )
    with transaction(db) as session, pytest.raises(NotFound):
        merge_chunk(
            session,
            resource_code="301099-LYJT-000098",
            provider_code="LYJT",
            batch_id=1,
            frame=frame,
            mode="incremental",
        )


def test_keyless_changes_reach_the_change_feed(
    publish: Callable[..., str], merge: Merge, db: sessionmaker[Session]
) -> None:
    from sqlalchemy import text

    from cityhub.exchange import changes  # registers the change log's merge listener
    from cityhub.library import golden

    publish(CODE, "LYJT", ITEMS)
    merge(CODE, "LYJT", [{"bh": "A1", "mc": "甲"}, {"bh": "A2", "mc": "乙"}])
    with db() as session:
        layout = target.target_of(session, CODE).layout
        stored = session.execute(text(f'SELECT "{golden.KEY}" FROM "{layout.name}"')).scalars()
        recorded = [r.key for r in changes.records(session, CODE, after=0, limit=100)]
        assert changes.last_seq(session, CODE) == 2
    assert sorted(recorded) == sorted(stored)
