"""Rows changed behind the platform's back (plain SQL) are caught by the audit, and
proofs built from tampered rows no longer verify against the signed head."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import EventBus
from cityhub.ledger import audit, receipt_for_event, store
from cityhub.ledger.audit import AuditContext, Outcome, register_digest_source, run_audit
from cityhub.ledger.merkle import tile_of
from cityhub.ledger.sequencer import sequence
from cityhub.ledger.service import sign_head
from cityhub.ledger.verify import VerificationError, verify_document
from cityhub.settings import Settings

from .conftest import Emitter


@pytest.fixture
def signed_log(
    db: sessionmaker[Session], settings: Settings, ledger_settings: Settings,
    emit_events: Emitter,
) -> list[int]:  # fmt: skip
    ids = emit_events(9)
    sequence(db, ledger_settings)
    sign_head(db, ledger_settings, None)
    run = run_audit(db)
    assert run.ok, run.findings
    return ids


def _sql(db: sessionmaker[Session], statement: str, **params: Any) -> None:
    with db() as session, session.begin():
        session.execute(text(statement), params)


def _set_node(db: sessionmaker[Session], level: int, index: int, value: bytes) -> None:
    """Overwrite one stored node in place, as someone with database access could."""
    (lvl, tile), offset = tile_of((level, index))
    where = "WHERE level = :v AND idx = :t"
    with db() as session, session.begin():
        blob = session.execute(
            text(f"SELECT hashes FROM ledger_tiles {where}"), {"v": lvl, "t": tile}
        ).scalar_one()
        blob = bytes(blob[:offset]) + value + bytes(blob[offset + 32 :])
        session.execute(text(f"UPDATE ledger_tiles SET hashes = :b {where}"),
                        {"b": blob, "v": lvl, "t": tile})  # fmt: skip


def _findings(db: sessionmaker[Session], bus: EventBus | None = None) -> list[dict[str, str]]:
    run = run_audit(db, trigger="schedule", bus=bus)
    assert not run.ok
    findings: list[dict[str, str]] = json.loads(run.findings)
    return findings


def test_an_edited_entry_is_reported_and_its_receipt_fails(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    with db() as session:
        genuine = receipt_for_event(session, signed_log[4])
    _sql(
        db,
        "UPDATE ledger_entries SET body = replace(body, :old, :new) WHERE idx = 4",
        old='"grant_id":4',
        new='"grant_id":40',
    )
    findings = _findings(db)
    targets = {(f["auditor"], f["target"], f["problem"]) for f in findings}
    assert ("ledger.entries", "entry 4", "the entry does not hash to its leaf") in targets
    assert (
        "ledger.entries",
        "entry 4",
        f"the entry differs from outbox event {signed_log[4]}",
    ) in targets
    with db() as session:
        tampered = receipt_for_event(session, signed_log[4])
    with pytest.raises(VerificationError, match="does not hash to the receipt's leaf"):
        verify_document(tampered)
    verify_document(genuine)  # what the consumer kept still proves what it received


def test_a_leaf_rewritten_with_its_entry_breaks_the_nodes_and_the_signed_root(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    with db() as session:
        ledger = store.require_ledger(session)
        hasher = store.hasher_for(ledger)
        entry = store.get_entry(session, ledger, 2)
        body = entry.body.replace('"grant_id":2', '"grant_id":20')
    _sql(db, "UPDATE ledger_entries SET body = :b WHERE idx = 2", b=body)
    _set_node(db, 0, 2, hasher.leaf(body.encode()))
    findings = _findings(db)
    problems = {(f["auditor"], f["target"]) for f in findings}
    assert ("ledger.nodes", "node 1/1") in problems  # parent of leaves 2 and 3
    assert ("ledger.entries", "entry 2") in problems  # differs from its outbox event
    with db() as session:
        receipt = receipt_for_event(session, signed_log[2])
    with pytest.raises(VerificationError, match="not in the tree"):
        verify_document(receipt)


def test_an_edited_inner_node_and_a_deleted_leaf_are_reported(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    _set_node(db, 2, 0, b"\x00" * 32)
    with db() as session:  # cut the last leaf hash (entry 8) off its tile
        blob = session.execute(text("SELECT hashes FROM ledger_tiles WHERE level = 0")).scalar_one()
    _sql(db, "UPDATE ledger_tiles SET hashes = :h WHERE level = 0", h=bytes(blob[: 8 * 32]))
    findings = _findings(db)
    problems = {(f["auditor"], f["target"], f["problem"]) for f in findings}
    assert ("ledger.nodes", "node 3/0", "differs from its children") in problems
    assert ("ledger.nodes", "node 2/0", "differs from its children") in problems
    assert any(
        f["auditor"] == "ledger.heads" and "lacks stored tree nodes" in f["problem"]
        for f in findings
    )
    assert ("ledger.entries", "entry 8", "the entry does not hash to its leaf") in problems
    assert ("ledger.nodes", "tile 0/0", "missing or cut short") in problems
    with (
        db() as session,
        pytest.raises(store.DamagedLedger, match=r"lacks stored tree nodes \[\(0, 8\)\]"),
    ):
        receipt_for_event(session, signed_log[1])


def test_a_forged_head_signature_and_a_sequenced_event_removed_are_reported(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    _sql(db, "UPDATE ledger_heads SET size = 8")
    _sql(db, "DELETE FROM ledger_entries WHERE idx = 8")
    findings = _findings(db)
    assert any(
        f["auditor"] == "ledger.heads" and f["problem"].startswith("signature") for f in findings
    )
    assert {
        "auditor": "ledger.entries",
        "target": "ledger",
        "problem": "8 entries for a size of 9",
    } in findings
    assert {
        "auditor": "ledger.events",
        "target": f"event {signed_log[8]}",
        "problem": "gateway.grant.created was never sequenced",
    } in findings


def test_a_failed_scheduled_audit_raises_the_alarm_event(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    bus = EventBus()
    heard: list[dict[str, Any]] = []
    bus.subscribe("ledger.audit.failed", lambda e: heard.append(e.payload))
    _set_node(db, 1, 0, b"\x01" * 32)
    _findings(db, bus)
    assert len(heard) == 1
    assert heard[0]["trigger"] == "schedule" and heard[0]["findings"] >= 1


def test_registered_digest_sources_catch_rows_changed_outside_the_platform(
    db: sessionmaker[Session], settings: Settings, ledger_settings: Settings,
    emit_events: Emitter,
) -> None:  # fmt: skip
    """How a later package plugs in: what its notarized row holds today."""
    today = {"S1": "sm3:" + "11" * 32, "S2": "sm3:" + "22" * 32}
    for ref in ("S1", "S2"):
        emit_events(1, topic="library.snapshot.taken", snapshot_id=ref, content_digest=today[ref])
    sequence(db, ledger_settings)

    def snapshot_today(_ctx: AuditContext, data: dict[str, Any]) -> dict[str, Any] | None:
        digest = today.get(data["snapshot_id"])
        return None if digest is None else {"content_digest": digest}

    register_digest_source("library.snapshot.*", snapshot_today)
    try:
        assert run_audit(db).ok
        today["S1"] = "sm3:" + "99" * 32  # someone rewrote snapshot S1 with SQL
        del today["S2"]  # and deleted snapshot S2
        findings = _findings(db)
        assert {(f["target"], f["problem"]) for f in findings if f["auditor"] == "digests"} == {
            ("entry 0 (library.snapshot.taken)", "content_digest changed outside the platform"),
            ("entry 1 (library.snapshot.taken)", "the notarized row no longer exists"),
        }
    finally:
        audit._DIGEST_SOURCES.remove(("library.snapshot.*", snapshot_today))


def test_a_crashing_auditor_is_a_finding_not_a_crash(
    db: sessionmaker[Session], signed_log: list[int]
) -> None:
    def broken(_session: Session, _ledger: object, _outcome: Outcome) -> None:
        raise RuntimeError("library table missing")

    real = audit._AUDITORS.get("library.snapshots")  # the library's own, when imported
    audit.register_auditor("library.snapshots", broken)  # type: ignore[arg-type]
    try:
        findings = _findings(db)
    finally:
        if real is None:
            audit._AUDITORS.pop("library.snapshots")
        else:
            audit._AUDITORS["library.snapshots"] = real
    assert findings == [
        {
            "auditor": "library.snapshots",
            "target": "auditor",
            "problem": "could not run: RuntimeError: library table missing",
        }
    ]
