"""Derived libraries: dirty keys marked with each merge, rebuilt incrementally (only the
affected keys), outputs removed when their inputs go."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.library import derive, golden
from cityhub.library.derived import E_LICENCES, FLOOD, SOCIAL_SECURITY, _social_rows
from cityhub.library.models import LibraryDirtyKey
from cityhub.library.specs import POIS, POPULATION
from cityhub.library.target import target_of

from .conftest import Merge

POP = POPULATION.resource_code
PEOPLE = [
    {
        "gmsfhm": "371302198001011239",
        "xm": "张三",
        "xb": "1",
        "csrq": "1980-01-01",
        "hjqh": "371302",
    },
    {
        "gmsfhm": "371311195001011231",
        "xm": "王五",
        "xb": "1",
        "csrq": "1950-01-01",
        "hjqh": "371311",
    },
    {
        "gmsfhm": "371302201801010028",
        "xm": "赵六",
        "xb": "2",
        "csrq": "2018-01-01",
        "hjqh": "371302",
    },
]


def dirty(db: sessionmaker[Session], slug: str) -> list[str]:
    with db() as session:
        where = LibraryDirtyKey.derivation == slug
        return sorted(session.scalars(select(LibraryDirtyKey.key).where(where)))


def output(db: sessionmaker[Session], code: str, key: str) -> dict[str, object] | None:
    with db() as session:
        layout = target_of(session, code).layout
        found = golden.fetch(session.connection(), layout, pl.Series([key]))
        return found.row(0, named=True) if found.height else None


def rebuild(db: sessionmaker[Session], slug: str) -> derive.Rebuilt | None:
    with transaction(db) as session:
        return derive.rebuild(session, slug)


def test_only_affected_keys_are_rebuilt(merge: Merge, db: sessionmaker[Session]) -> None:
    merge(POP, "LYGA", PEOPLE)
    assert dirty(db, "social_security") == sorted(p["gmsfhm"] for p in PEOPLE)
    assert dirty(db, "flood") == ["371302", "371311"]
    first = rebuild(db, "social_security")
    assert first is not None and (first.keys, first.result.inserted) == (3, 3)
    assert rebuild(db, "social_security") is None  # nothing dirty any more

    merge(POP, "LYGA", [{"gmsfhm": PEOPLE[1]["gmsfhm"], "xm": "王伍"}])
    assert dirty(db, "social_security") == [PEOPLE[1]["gmsfhm"]]
    again = rebuild(db, "social_security")
    assert again is not None and (again.keys, again.result.updated, again.result.unchanged) == (
        1,
        1,
        0,
    )
    row = output(db, SOCIAL_SECURITY.resource_code, str(PEOPLE[1]["gmsfhm"]))
    assert row is not None and row["xm"] == "王伍"

    merge(POP, "LYGA", [], deleted=[str(PEOPLE[0]["gmsfhm"])])
    gone = rebuild(db, "social_security")
    assert gone is not None and gone.result.deleted == 1
    assert output(db, SOCIAL_SECURITY.resource_code, str(PEOPLE[0]["gmsfhm"])) is None


def test_flood_aggregates_by_county_and_follows_moves(
    merge: Merge, db: sessionmaker[Session]
) -> None:
    merge(POP, "LYGA", PEOPLE)
    merge(
        POIS.resource_code,
        "LYZRZY",
        [
            {"poibm": "371302P1", "mc": "避难所1", "lb": "避难场所", "qhdm": "371302"},
            {"poibm": "371302P2", "mc": "学校1", "lb": "学校", "qhdm": "371302"},
        ],
    )
    rebuild(db, "flood")
    lanshan = output(db, FLOOD.resource_code, "371302")
    assert lanshan is not None
    assert (lanshan["hjrk"], lanshan["etrk"], lanshan["lnrk"], lanshan["bnzc"]) == (2, 1, 0, 1)
    # 赵六 moves to 罗庄: both counties are recomputed.
    merge(POP, "LYGA", [{"gmsfhm": PEOPLE[2]["gmsfhm"], "hjqh": "371311"}])
    assert dirty(db, "flood") == ["371302", "371311"]
    rebuild(db, "flood")
    luozhuang = output(db, FLOOD.resource_code, "371311")
    assert luozhuang is not None and (luozhuang["hjrk"], luozhuang["etrk"], luozhuang["lnrk"]) == (
        2,
        1,
        1,
    )


def test_e_licences_come_from_people_and_firms(merge: Merge, db: sessionmaker[Session]) -> None:
    merge(POP, "LYGA", PEOPLE[:1])
    merge("301002-LYMZ-000011", "LYMZ", [{"gmsfhm": PEOPLE[0]["gmsfhm"], "hyzk": "20"}])
    merge(
        "102007-LYSJ-000001",
        "LYSJ",
        [{"tyshxydm": "91371302MA08H1376T", "dwmc": "临沂测试有限公司", "djzt": "存续"}],
    )
    rebuild(db, "e_licences")
    ids = str(PEOPLE[0]["gmsfhm"])
    assert output(db, E_LICENCES.resource_code, "SFZ-" + ids) is not None
    marriage = output(db, E_LICENCES.resource_code, "JHZ-" + ids)
    assert marriage is not None and marriage["zzlx"] == "结婚证"


def test_bulk_changes_ask_for_a_full_rebuild(merge: Merge, db: sessionmaker[Session]) -> None:
    from cityhub.library.generate import Population

    people = next(
        Population(derive.BULK_CHANGE + 1, seed=3, chunk_rows=derive.BULK_CHANGE + 1).chunks()
    )
    merge(POP, "LYGA", people.select("gmsfhm", "xm", "csrq"))
    assert dirty(db, "social_security") == [derive.FULL]
    done = rebuild(db, "social_security")
    assert done is not None and done.full and done.result.inserted == people.height


def test_pension_status_rules() -> None:
    people = pl.DataFrame(
        {
            "gmsfhm": ["a", "b", "c", "d"],
            "xm": ["甲", "乙", "丙", "丁"],
            "xb": ["1", "2", "1", "1"],
            "csrq": [date(1960, 1, 1), date(1968, 1, 1), date(1990, 1, 1), date(1950, 1, 1)],
            "hjqh": ["371302"] * 4,
            "sbzt": ["参保", "参保", None, "参保"],
            "cbrq": [None] * 4,
            "swrq": [None, None, None, date(2024, 1, 1)],
        }
    )
    rows = _social_rows(people, date(2024, 12, 31))
    assert rows.get_column("dyzt").to_list() == ["领取", "领取", "未参保", "停发"]
    assert rows.get_column("nl").to_list() == [64, 56, 34, 74]
