"""Content digests: incremental, order-independent, emitted for the ledger; the auditor
finds rows changed outside the platform."""

from __future__ import annotations

import json

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.core.events import OutboxEvent
from cityhub.ledger.audit import Outcome, auditors
from cityhub.library import audit, digest
from cityhub.library import datastore as ds
from cityhub.library.specs import POPULATION
from cityhub.library.target import target_of

from .conftest import Merge

POP = POPULATION.resource_code
A = {"gmsfhm": "371302198001011239", "xm": "张三", "csrq": "1980-01-01"}
B = {"gmsfhm": "371311195001011231", "xm": "王五", "csrq": "1950-01-01"}


def running(db: sessionmaker[Session]) -> str:
    with db() as session:
        return digest.digest_of(POP, digest.load(session, POP))


def recount(db: sessionmaker[Session]) -> digest.Recount:
    with db() as session:
        return digest.recompute(session.connection(), target_of(session, POP).layout)


def snapshots(db: sessionmaker[Session]) -> list[dict[str, object]]:
    with db() as session:
        rows = session.scalars(select(OutboxEvent.payload).where(OutboxEvent.topic == digest.TOPIC))
        return [json.loads(p) for p in rows]


def test_digest_follows_content_not_order(merge: Merge, db: sessionmaker[Session]) -> None:
    one = merge(POP, "LYGA", [A, B])
    assert one.digest == running(db) == recount(db).digest(POP)
    assert merge(POP, "LYGA", [B, A]).digest == one.digest  # unchanged content, same digest
    changed = merge(POP, "LYGA", [{**A, "xm": "张叁"}])
    assert changed.digest != one.digest
    assert changed.digest == recount(db).digest(POP)
    back = merge(POP, "LYGA", [A])
    assert back.digest == one.digest  # the same content again: the same digest
    payload = snapshots(db)[-1]
    assert payload == {
        "resource": POP,
        "library": "population",
        "digest": back.digest,
        "algorithm": "sm3",
        "rows": 2,
        "batch": 4,
        "provider": "LYGA",
    }


def test_the_auditor_finds_rows_changed_outside_the_platform(
    merge: Merge, db: sessionmaker[Session]
) -> None:
    merge(POP, "LYGA", [A, B])
    assert "library.snapshots" in auditors()
    clean = Outcome()
    with db() as session:
        audit.audit_resource(session, POP, clean, None)
    assert clean.checked == 1 and clean.findings == []

    table = ds.table_name(POP)
    with transaction(db) as session:  # an out-of-band edit, as with psql
        session.execute(
            text(f"UPDATE {table} SET xm = '李四' WHERE gmsfhm = :k"), {"k": A["gmsfhm"]}
        )
    edited = Outcome()
    with db() as session:
        audit.audit_resource(session, POP, edited, None)
    assert [f.problem for f in edited.findings] == [
        "1 row(s) changed outside the platform (keys 371302********1239)"
    ]

    with transaction(db) as session:
        session.execute(text(f"DELETE FROM {table} WHERE gmsfhm = :k"), {"k": B["gmsfhm"]})
    removed = Outcome()
    with db() as session:
        audit.audit_resource(session, POP, removed, None)
    assert "rows were added or removed outside the platform" not in [
        f.problem for f in removed.findings
    ]
    assert any("changed outside" in f.problem for f in removed.findings)
    assert recount(db).digest(POP) != running(db)


def test_a_deleted_row_alone_is_found_too(merge: Merge, db: sessionmaker[Session]) -> None:
    merge(POP, "LYGA", [A, B])
    with transaction(db) as session:
        session.execute(
            text(f"DELETE FROM {ds.table_name(POP)} WHERE gmsfhm = :k"), {"k": B["gmsfhm"]}
        )
    outcome = Outcome()
    with db() as session:
        audit.audit_resource(session, POP, outcome, None)
    assert [f.problem for f in outcome.findings] == [
        "rows were added or removed outside the platform"
    ]
