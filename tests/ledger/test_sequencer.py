"""The sequencer: events become canonical entries, nothing lost or doubled, one writer."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.events import EventBus, OutboxEvent, emit
from cityhub.core.scheduler import Scheduler
from cityhub.ledger import receipt_for_event, runtime, store
from cityhub.ledger.heads import latest_head
from cityhub.ledger.models import LedgerEntry
from cityhub.ledger.sequencer import sequence
from cityhub.ledger.topics import canonical, entry_for, sanitize
from cityhub.ledger.verify import TreeHasher, verify_document
from cityhub.settings import Settings

from .conftest import Emitter, ledger_copy


def test_only_notarized_topics_are_sequenced_in_order(
    db: sessionmaker[Session], settings: Settings, ledger_settings: Settings,
    emit_events: Emitter,
) -> None:  # fmt: skip
    first = emit_events(3)
    emit_events(2, topic="sensing.telemetry.received")
    second = emit_events(2, topic="security.apikey.revoked", key_id=7)
    result = sequence(db, ledger_settings)
    assert (result.appended, result.size, result.first_index) == (5, 5, 0)
    with db() as session:
        entries = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.idx)))
    assert [e.event_id for e in entries] == first + second
    assert [e.idx for e in entries] == list(range(5))
    assert entries[0].resource_code == "LYGA-HJ-001"
    # Idempotent: a second run appends nothing.
    assert sequence(db, ledger_settings).appended == 0


def test_entries_are_canonical_json_without_personal_data() -> None:
    from datetime import UTC, datetime

    from cityhub.core.events import Event

    event = Event(
        42,
        "exchange.batch.accepted",
        {
            "batch_id": "B-2020-0001",
            "resource_code": "LYGA-RK-001",
            "content_digest": "sm3:" + "ab" * 32,
            "rows_accepted": 1000,
            "username": "zhangsan",
            "id_number": "371302199001011234",
            "api_key": "chk_deadbeef_secret",
            "note": "张三 delivered late",
            "provider": {"org_code": "LYGA", "contact_phone": "13800000000"},
            "holder_code": "371302199001011234",
        },
        actor="zhangsan",
        at=datetime(2020, 12, 28, 8, 0, tzinfo=UTC),
    )
    entry = entry_for(event)
    body = json.loads(entry.body)
    assert entry.body == canonical(body)  # RFC 8785: sorted keys, no spaces
    assert list(body) == sorted(body)
    text = entry.body
    for secret in ("zhangsan", "371302199001011234", "chk_deadbeef", "13800000000", "张三"):
        assert secret not in text
    data = body["data"]
    assert data["batch_id"] == "B-2020-0001"
    assert data["rows_accepted"] == 1000
    assert data["content_digest"] == "sm3:" + "ab" * 32
    assert data["note"].startswith("sm3:") and len(data["note"]) == 68
    assert data["holder_code"].startswith("sm3:")  # an id number under a safe-looking key
    assert "username" not in data and "api_key" not in data and "id_number" not in data
    assert data["provider"] == {"org_code": "LYGA"}
    assert body["actor_digest"].startswith("sm3:")
    assert body["at"] == "2020-12-28T08:00:00.000000Z"
    assert (entry.resource_code, entry.batch_ref) == ("LYGA-RK-001", "B-2020-0001")


def test_sanitize_digests_what_canonical_json_cannot_hold() -> None:
    data = sanitize({"count": 2**60, "ratio": float("nan"), "when": object(), "ok_count": 3})
    assert data["ok_count"] == 3
    assert all(str(data[k]).startswith("sm3:") for k in ("count", "ratio", "when"))


def test_receipt_is_pending_then_sequenced_then_proven(
    db: sessionmaker[Session], settings: Settings, ledger_settings: Settings,
    emit_events: Emitter,
) -> None:  # fmt: skip
    from cityhub.ledger.service import sign_head

    [event_id] = emit_events(1)
    with db() as session:
        pending = receipt_for_event(session, event_id)
    assert pending["status"] == "pending"
    assert pending["proof_url"] == f"/api/v1/ledger/receipts/event/{event_id}"
    sequence(db, ledger_settings)
    with db() as session:
        assert receipt_for_event(session, event_id)["status"] == "sequenced"
    sign_head(db, ledger_settings, None)
    with db() as session:
        receipt = receipt_for_event(session, event_id)
    assert receipt["status"] == "proven"
    assert receipt["index"] == 0 and receipt["head"]["size"] == 1
    assert verify_document(receipt).kind == "receipt"


def test_receipt_inside_the_emitting_transaction_is_a_pointer(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        row = emit(session, "gateway.request.approved", {"request_id": 9})
        receipt = receipt_for_event(session, row.id)
    assert receipt == {
        "format": "cityhub-ledger-receipt/v1",
        "status": "pending",
        "event_id": row.id,
        "proof_url": f"/api/v1/ledger/receipts/event/{row.id}",
    }


def test_an_id_committed_below_the_floor_is_found_by_the_bus_and_the_full_sweep(
    db: sessionmaker[Session], settings: Settings, emit_events: Emitter
) -> None:
    """PostgreSQL hands out ids before commit: simulate ids that commit late."""
    ls = ledger_copy(settings, background=False, gap_grace_seconds=0)
    ids = emit_events(4)
    late: list[OutboxEvent] = []
    with transaction(db) as session:  # two gaps: ids whose transactions are still open
        for event_id in (ids[1], ids[2]):
            row = session.get(OutboxEvent, event_id)
            assert row is not None
            late.append(OutboxEvent(id=row.id, topic=row.topic, payload=row.payload, actor=""))
            session.delete(row)
    sequence(db, ls)
    with db() as session:
        ledger = store.require_ledger(session)
        assert ledger.size == 2
        assert ledger.scan_floor == ids[3]  # the gaps were given up on (grace 0)
    with transaction(db) as session:  # ...then both commit, below the floor
        session.add_all(late)
    assert sequence(db, ls).appended == 0  # the floor hides them...
    assert sequence(db, ls, ids=[ids[1]]).appended == 1  # ...the bus names one
    assert sequence(db, ls, full=True).appended == 1  # the audit's sweep the other
    with db() as session:
        ledger = store.require_ledger(session)
        found = {store.entry_for_event(session, ledger, i) is not None for i in ids}
    assert found == {True}


def test_a_gap_younger_than_the_grace_period_holds_the_floor(
    db: sessionmaker[Session], settings: Settings, emit_events: Emitter
) -> None:
    ls = ledger_copy(settings, background=False, gap_grace_seconds=3600)
    ids = emit_events(3)
    with transaction(db) as session:
        row = session.get(OutboxEvent, ids[1])
        session.delete(row)
    sequence(db, ls)
    with db() as session:
        ledger = store.get_ledger(session)
        assert ledger is not None and ledger.scan_floor == ids[0]


def _check_log(db: sessionmaker[Session], expected_events: set[int]) -> None:
    with db() as session:
        ledger = store.get_ledger(session)
        assert ledger is not None
        entries = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.idx)))
        assert [e.idx for e in entries] == list(range(ledger.size))
        event_ids = [e.event_id for e in entries]
        assert len(event_ids) == len(set(event_ids)), "an event was sequenced twice"
        assert set(event_ids) == expected_events, "an event was lost"
        hasher = TreeHasher(ledger.hash_alg)
        leaves = [hasher.leaf(e.body.encode()) for e in entries]
        assert store.prover(session, ledger).root(ledger.size) == hasher.root_of_leaves(leaves)


def test_concurrent_sequencers_in_threads_lose_and_double_nothing(
    settings: Settings, emit_events: Emitter, db: sessionmaker[Session]
) -> None:
    ls = ledger_copy(settings, background=False, batch_size=7, gap_grace_seconds=0)
    stop = threading.Event()
    errors: list[BaseException] = []
    emitted: list[int] = []

    def sequencer() -> None:
        engine = make_engine(settings.effective_database_url)  # its own pool, like a process
        factory = session_factory(engine)
        try:
            while not stop.is_set():
                sequence(factory, ls)
            sequence(factory, ls)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    workers = [threading.Thread(target=sequencer) for _ in range(3)]
    for w in workers:
        w.start()
    for _ in range(12):
        emitted += emit_events(5)
    stop.set()
    for w in workers:
        w.join(60)
    assert not errors, errors
    sequence(db, ls)
    _check_log(db, set(emitted))


def test_concurrent_sequencer_processes_lose_and_double_nothing(
    settings: Settings, emit_events: Emitter, db: sessionmaker[Session]
) -> None:
    import os
    import subprocess
    import sys

    emitted = emit_events(40)
    env = {
        **os.environ,
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(settings.data_dir),
        "CITYHUB_DEMO_MODE": "true",
        "CITYHUB_LEDGER_BATCH_SIZE": "3",
        "CITYHUB_LEDGER_GAP_GRACE_SECONDS": "0",
    }
    cmd = [sys.executable, "-m", "cityhub", "ledger", "sequence"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]  # fmt: skip
    emitted += emit_events(20)
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
    _check_log(db, set(emitted))


def _scheduled(settings: Settings, db: sessionmaker[Session], bus: EventBus) -> Scheduler:
    """The ledger's jobs on a scheduler of their own, as an app's lifespan starts them."""
    app = SimpleNamespace(state=SimpleNamespace(settings=settings, sessions=db, bus=bus))
    runtime.install(app)
    scheduler: Scheduler = app.state.scheduler
    scheduler.settings = scheduler.settings.model_copy(update={"scheduler_tick_seconds": 0.02})
    assert {s.name for s in scheduler.status()} >= {"ledger.sequence", "ledger.heads"}
    return scheduler


def test_the_scheduler_sequences_right_after_the_commit_via_the_bus(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    from cityhub.core.events import attach

    bus = EventBus()
    ls = ledger_copy(settings, sweep_seconds=3600, head_seconds=3600, audit_seconds=0)
    scheduler = _scheduled(ls, db, bus)
    assert not scheduler.has_job("ledger.audit")  # 0 turns the scheduled audit off
    scheduler.start()
    try:
        scheduler.tick()  # the first sweep is due at once: let it pass with nothing to do
        with db() as session, session.begin():
            attach(session, bus)
            event_id = emit(session, "gateway.grant.created", {"grant_id": 1}).id
        for _ in range(100):  # the next sweep is an hour away: only the bus can wake it
            with db() as session:
                if store.get_ledger(session) and store.entry_for_event(
                    session, store.require_ledger(session), event_id
                ):
                    break
            threading.Event().wait(0.05)
        else:
            pytest.fail("the event was not sequenced after its commit")
    finally:
        scheduler.stop()


def test_the_scheduler_signs_heads_and_audits_on_schedule(
    settings: Settings, db: sessionmaker[Session], emit_events: Emitter
) -> None:
    bus = EventBus()
    alarms: list[str] = []
    bus.subscribe("ledger.audit.*", lambda e: alarms.append(e.topic))
    ls = ledger_copy(settings, sweep_seconds=0.05, head_seconds=0.05, audit_seconds=0.05)
    emit_events(3)
    scheduler = _scheduled(ls, db, bus)
    scheduler.start()
    try:
        for _ in range(200):
            with db() as session:
                runs = session.scalar(select(func.count()).select_from(_audit_table()))
                ledger = store.get_ledger(session)
                head = latest_head(session, ledger) if ledger else None
            if runs and head is not None and head.size == 3:
                break
            threading.Event().wait(0.05)
    finally:
        scheduler.stop()
    with db() as session:
        head = latest_head(session, store.require_ledger(session))
        assert head is not None and head.size == 3
    assert alarms == []  # a clean log raises no alarm


def test_the_audit_reads_one_snapshot_while_the_log_grows(
    db: sessionmaker[Session], settings: Settings, emit_events: Emitter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """An append and a first signed head that commit while the audit runs (the scheduled
    sequencer and signer do) are not findings: the audit sees the log as it began."""
    from cityhub.ledger import audit
    from cityhub.ledger.service import sign_head

    ls = ledger_copy(settings, background=False, gap_grace_seconds=0)
    emit_events(5)
    sequence(db, ls)
    real, grown = store.get_ledger, list[bool]()

    def then_grow(session: Session, name: str = store.DEFAULT_LEDGER) -> object:
        ledger = real(session, name)
        if not grown:  # once, right after the audit read the size: other writers commit
            grown.append(True)
            emit_events(300)  # past a tile boundary: the edge tiles change too
            assert sequence(db, ls).size == 305
            sign_head(db, ls, None)
        return ledger

    monkeypatch.setattr(store, "get_ledger", then_grow)
    run = audit.run_audit(db)
    assert grown and run.ok, run.findings
    assert run.checked >= 5
    monkeypatch.undo()
    assert audit.run_audit(db).ok  # and the grown log audits clean on its own


def test_no_ledger_jobs_when_background_is_off(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    app = SimpleNamespace(state=SimpleNamespace(settings=ledger_copy(settings, background=False),
                                                sessions=db, bus=None))  # fmt: skip
    assert runtime.install(app) is None
    assert not hasattr(app.state, "scheduler")


def _audit_table() -> Callable[[], object]:
    from cityhub.ledger.models import LedgerAuditRun

    return LedgerAuditRun.__table__  # type: ignore[return-value]


def test_the_floor_moves_past_a_pile_of_other_events(
    db: sessionmaker[Session], settings: Settings, emit_events: Emitter
) -> None:
    ls = ledger_copy(settings, background=False, gap_grace_seconds=0)
    emit_events(1)
    sequence(db, ls)
    noise = emit_events(1200, topic="sensing.device.status_changed")
    sequence(db, ls)  # nothing to notarize, but the floor must not lag behind
    with db() as session:
        assert store.require_ledger(session).scan_floor == noise[-1]
