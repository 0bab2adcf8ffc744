"""Entity resolution in the population library: one golden record per person whatever
the department, conflicts resolved by the field's authority and logged, lineage per field."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.library import register
from cityhub.library.models import LibraryConflict
from cityhub.library.specs import FEEDS, POPULATION
from cityhub.security.models import Role

from .conftest import Merge

POP = POPULATION.resource_code
WJ, MZ, RS = (code for code, (_, feed) in FEEDS.items() if code.startswith("301"))
ZHANG = "371302198001011239"  # valid; its 15-digit form is 371302800101123
LI = "371311199002020023"


@pytest.fixture
def published(db: sessionmaker[Session], providers: dict[str, int]) -> None:
    with transaction(db) as session:
        register.register_all(session)


def conflicts(db: sessionmaker[Session]) -> list[tuple[str, str, str | None, str | None, str]]:
    with db() as session:
        rows = session.scalars(select(LibraryConflict).order_by(LibraryConflict.id))
        return [(c.record_key, c.field, c.kept_value, c.rejected_value, c.resolution) for c in rows]


def lineage(
    client: TestClient, headers: dict[str, str], key: str = ZHANG
) -> dict[str, dict[str, object]]:
    response = client.get(f"/api/v1/library/population/{key}/lineage", headers=headers)
    assert response.status_code == 200, response.text
    return {f["code"]: f for f in response.json()["fields"]}


def test_departments_resolve_to_one_record_with_the_authority_winning(
    merge: Merge,
    db: sessionmaker[Session],
    published: None,
    client: TestClient,
    auth: Callable[..., dict[str, str]],
) -> None:
    ga = merge(
        POP,
        "LYGA",
        [{"gmsfhm": ZHANG, "xm": "张三", "xb": "1", "csrq": "1980-01-01", "hjqh": "371302"}],
    )
    # 民政 uses the 15-digit number and has another birth date: same person, 公安 wins.
    mz = merge(MZ, "LYMZ", [{"gmsfhm": "371302800101123", "csrq": "1980-01-05", "hyzk": "20"}])
    # 卫健 records the death: it is the authority of 死亡日期.
    wj = merge(WJ, "LYWJ", [{"gmsfhm": ZHANG, "swrq": "2024-03-01"}])
    # 人社 knows someone 公安 has not registered yet: a new golden record.
    rs = merge(RS, "LYRS", [{"gmsfhm": LI, "xm": "李四", "sbzt": "参保"}])
    assert (ga.inserted, mz.updated, mz.conflicts, wj.updated, rs.inserted) == (1, 1, 1, 1, 1)
    assert conflicts(db) == [(ZHANG, "csrq", "1980-01-01", "1980-01-05", "authority_kept")]

    # Later 公安 corrects 李四's name: the authority overrides 人社's value, logged.
    fixed = merge(POP, "LYGA", [{"gmsfhm": LI, "xm": "李肆"}])
    assert (fixed.updated, fixed.conflicts) == (1, 1)
    assert conflicts(db)[-1] == (LI, "xm", "李肆", "李四", "authority_applied")

    officer = auth(Role.data_officer, org_code="LYGA")
    fields = lineage(client, officer)
    assert fields["csrq"]["value"] == "1980-01-01"
    assert fields["csrq"]["source"]["code"] == "LYGA"
    assert fields["hyzk"]["value"] == "20"
    assert fields["hyzk"]["source"]["code"] == "LYMZ"
    assert fields["hyzk"]["authority"]["code"] == "LYMZ"
    assert fields["swrq"]["source"]["code"] == "LYWJ"
    assert fields["swrq"]["resource_code"] == WJ
    assert fields["lxdh"]["source"] is None and fields["lxdh"]["value"] is None
    assert fields["xm"]["batch_id"] == 1  # the batch of 公安's first delivery
    page = client.get("/api/v1/library/population/conflicts", headers=officer).json()
    assert [c["field"] for c in page["items"]] == ["xm", "csrq"]
    assert page["items"][1]["rejected_by"]["code"] == "LYMZ"


def test_same_value_from_the_authority_moves_the_lineage_without_a_change(
    merge: Merge, db: sessionmaker[Session], published: None
) -> None:
    merge(MZ, "LYMZ", [{"gmsfhm": ZHANG, "xm": "张三", "hyzk": "10"}])
    again = merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三"}])
    assert (again.updated, again.unchanged, again.conflicts) == (0, 1, 0)


def test_latest_wins_where_no_authority_is_declared(
    merge: Merge, db: sessionmaker[Session], published: None
) -> None:
    merge(POP, "LYGA", [{"gmsfhm": ZHANG, "lxdh": "13800000001"}])
    newer = merge(RS, "LYRS", [{"gmsfhm": ZHANG, "lxdh": "13900000002"}])
    assert (newer.updated, newer.conflicts) == (1, 1)
    assert conflicts(db)[-1][-1] == "latest_applied"


def test_nulls_never_erase_and_deletions_depend_on_who_deletes(
    merge: Merge, db: sessionmaker[Session], published: None
) -> None:
    merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三"}, {"gmsfhm": LI, "xm": "李四"}])
    merge(RS, "LYRS", [{"gmsfhm": ZHANG, "sbzt": "参保"}, {"gmsfhm": LI, "sbzt": "参保"}])
    assert merge(RS, "LYRS", [{"gmsfhm": ZHANG, "sbzt": None}]).unchanged == 1
    # 人社 withdrawing a person clears what 人社 supplied; the record stays.
    withdrawn = merge(RS, "LYRS", [], deleted=[LI])
    assert (withdrawn.updated, withdrawn.deleted) == (1, 0)
    # 公安 (the registrar) deleting a person removes the record.
    removed = merge(POP, "LYGA", [], deleted=[LI])
    assert removed.deleted == 1


def test_invalid_id_numbers_fail_the_chunk(merge: Merge, published: None) -> None:
    from cityhub.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="1 of 2 rows have a missing or invalid key"):
        merge(POP, "LYGA", [{"gmsfhm": ZHANG}, {"gmsfhm": "371302198001011230"}])


def test_lineage_needs_rights_and_is_masked_for_overseers(
    merge: Merge, published: None, client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三", "lxdh": "13812345678"}])
    assert client.get(f"/api/v1/library/population/{ZHANG}/lineage").status_code == 401
    developer = auth(Role.developer, org_code="LYZLWL")
    assert (
        client.get(f"/api/v1/library/population/{ZHANG}/lineage", headers=developer).status_code
        == 403
    )
    auditor = auth(Role.auditor)
    fields = lineage(client, auditor)
    assert fields["xm"]["value"] == "张*" and fields["xm"]["masked"] is True
    assert fields["lxdh"]["value"] == "138****5678"
    by_code = client.get(
        f"/api/v1/resources/{POP}/rows/371302800101123/lineage",
        headers=auth(Role.data_officer, org_code="LYGA"),
    )
    assert by_code.status_code == 200
    assert by_code.json()["key"] == ZHANG
    missing = client.get("/api/v1/library/population/110101199003070011/lineage", headers=auditor)
    assert missing.status_code in (403, 404)


def test_lineage_is_stored_once_per_row_and_read_back_per_field(
    merge: Merge, db: sessionmaker[Session], published: None
) -> None:
    import polars as pl
    from sqlalchemy import text

    from cityhub.library import golden

    ga = merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三", "xb": "1", "hjqh": "371302"}])
    mz = merge(MZ, "LYMZ", [{"gmsfhm": ZHANG, "hyzk": "20"}])
    layout = POPULATION.layout
    with db() as session:
        conn = session.connection()
        raw = conn.execute(
            text(f'SELECT _src, _src_xm, _src_xb, _src_hyzk, _src_lxdh FROM "{layout.name}"')
        ).one()
        # the first load's merge once per row; a field set later carries its own
        assert tuple(raw) == (ga.merge_id, None, None, mz.merge_id, None)
        row = golden.fetch(conn, layout, pl.Series([ZHANG])).row(0, named=True)
    assert (row["_src_xm"], row["_src_xb"]) == (ga.merge_id, ga.merge_id)
    assert (row["_src_hyzk"], row["_src_lxdh"]) == (mz.merge_id, None)


def test_updates_and_a_withdrawal_in_one_chunk_keep_the_other_fields(
    merge: Merge, db: sessionmaker[Session], published: None
) -> None:
    import polars as pl

    from cityhub.library import golden

    merge(POP, "LYGA", [{"gmsfhm": ZHANG, "xm": "张三"}, {"gmsfhm": LI, "xm": "李四"}])
    merge(RS, "LYRS", [{"gmsfhm": ZHANG, "sbzt": "参保"}, {"gmsfhm": LI, "sbzt": "参保"}])
    both = merge(RS, "LYRS", [{"gmsfhm": ZHANG, "sbzt": "退保"}], deleted=[LI])
    assert (both.updated, both.deleted) == (2, 0)
    with db() as session:
        rows = golden.fetch(session.connection(), POPULATION.layout, pl.Series([ZHANG, LI]))
    found = {r["gmsfhm"]: (r["xm"], r["sbzt"]) for r in rows.iter_rows(named=True)}
    assert found == {ZHANG: ("张三", "退保"), LI: ("李四", None)}
