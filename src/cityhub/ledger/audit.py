"""Tamper detection: recompute what the ledger vouches for and report every difference.

Auditors are registered by name; later packages add their own (exchange batches,
library snapshots) with `register_auditor`, or, simpler, name a *digest source* with
`register_digest_source`: for entries of a topic, recompute today's digest of the row
the entry notarized, and the audit reports any row changed outside the platform.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import utcnow
from cityhub.core.events import Event, OutboxEvent, attach, emit
from cityhub.ledger import store
from cityhub.ledger.merkle import TILE_BITS, TILE_WIDTH, BulkHasher, MissingNode, pick, split32
from cityhub.ledger.models import (
    Ledger,
    LedgerAuditRun,
    LedgerEntry,
    LedgerHead,
    LedgerKey,
)
from cityhub.ledger.topics import ENTRY_VERSION, entry_for, is_notarized
from cityhub.ledger.verify import TreeHasher, VerificationError, head_message, verify_signature

log = logging.getLogger("cityhub.ledger.audit")
_CHUNK = 5000
_TILES_PER_READ = 64
MAX_FINDINGS = 1000


@dataclass(frozen=True)
class Finding:
    auditor: str
    target: str
    problem: str


@dataclass
class Outcome:
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    def add(self, auditor: str, target: str, problem: str) -> None:
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(Finding(auditor, target, problem))


@dataclass(frozen=True)
class AuditContext:
    session: Session
    data_dir: Path | None = None  # where packages keep files (delivered batches)


Auditor = Callable[[Session, Ledger, Outcome], None]
# For an entry's data: what the notarized row holds *today* under the same keys (digests
# recomputed from the stored content where it can be), or None when the row is gone.
DigestSource = Callable[[AuditContext, dict[str, Any]], dict[str, Any] | None]

_AUDITORS: dict[str, Auditor] = {}
_DIGEST_SOURCES: list[tuple[str, DigestSource]] = []
_CONTEXT: dict[int, AuditContext] = {}  # id(session) -> context, during a run


def register_auditor(name: str, auditor: Auditor) -> None:
    _AUDITORS[name] = auditor


def register_digest_source(topic_pattern: str, source: DigestSource) -> None:
    """E.g. ("exchange.batch.*", batch_today): a package's rows checked by the audit."""
    _DIGEST_SOURCES.append((topic_pattern, source))


def auditors() -> dict[str, Auditor]:
    return dict(_AUDITORS)


def _entries(session: Session, ledger: Ledger) -> Iterator[list[LedgerEntry]]:
    after = -1
    while True:
        rows = list(
            session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.ledger_id == ledger.id, LedgerEntry.idx > after)
                .order_by(LedgerEntry.idx)
                .limit(_CHUNK)
            )
        )
        if not rows:
            return
        yield rows
        after = rows[-1].idx


def _leaves(session: Session, ledger: Ledger, first: int, last: int) -> dict[int, bytes]:
    """Stored leaf hashes of entries first..last, from their level-0 tiles."""
    tiles = store.read_tiles(
        session, ledger.id, [(0, t) for t in range(first >> TILE_BITS, (last >> TILE_BITS) + 1)]
    )
    keys = [(0, i) for i in range(first, last + 1)]
    return {index: h for (_, index), h in pick(tiles, keys).items()}


def audit_entries(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Each entry hashes to its stored leaf, indexes run 0..size-1, and each entry is
    what its outbox event says (catches an entry rewritten with its whole tree)."""
    bulk = BulkHasher(TreeHasher(ledger.hash_alg))
    expected = 0
    for chunk in _entries(session, ledger):
        event_ids = [e.event_id for e in chunk if e.event_id is not None]
        events = {
            row.id: row
            for row in session.scalars(select(OutboxEvent).where(OutboxEvent.id.in_(event_ids)))
        }
        stored = _leaves(session, ledger, chunk[0].idx, chunk[-1].idx)
        computed = split32(bulk.leaves([e.body.encode() for e in chunk]))
        for entry, leaf in zip(chunk, computed, strict=True):
            target = f"entry {entry.idx}"
            if entry.idx != expected:
                outcome.add("ledger.entries", target, f"expected entry {expected} here")
            expected = entry.idx + 1
            outcome.checked += 1
            if stored.get(entry.idx) != leaf:
                outcome.add("ledger.entries", target, "the entry does not hash to its leaf")
            if entry.event_id is None:
                continue
            row = events.get(entry.event_id)
            if row is None or json.loads(entry.body).get("v") != ENTRY_VERSION:
                continue  # outbox pruned, or older shaping rules: the leaf still vouches
            event = Event(row.id, row.topic, json.loads(row.payload), row.actor, row.at)
            if entry_for(event).body != entry.body:
                outcome.add(
                    "ledger.entries", target, f"the entry differs from outbox event {row.id}"
                )
    if expected != ledger.size:
        outcome.add("ledger.entries", "ledger", f"{expected} entries for a size of {ledger.size}")


def audit_nodes(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Every tile has the length the size calls for, and every stored inner node equals
    the hash of its two stored children: level by level, a few tiles at a time."""
    bulk = BulkHasher(TreeHasher(ledger.hash_alg))
    full = TILE_WIDTH * 32
    for level in range(ledger.size.bit_length()):
        count = ledger.size >> level
        n_tiles = (count + TILE_WIDTH - 1) >> TILE_BITS
        for first in range(0, n_tiles, _TILES_PER_READ):
            last = min(n_tiles, first + _TILES_PER_READ)
            keys = [(level, t) for t in range(first, last)]
            if level:
                keys += [(level - 1, t) for t in range(2 * first, 2 * last)]
            tiles = store.read_tiles(session, ledger.id, keys)
            for t in range(first, last):
                outcome.checked += 1
                blob = tiles.get((level, t))
                want = min(TILE_WIDTH, count - (t << TILE_BITS))
                if blob is None or len(blob) != want * 32:
                    outcome.add("ledger.nodes", f"tile {level}/{t}", "missing or cut short")
                    continue
                if not level:
                    continue
                left_tile = tiles.get((level - 1, 2 * t), b"")
                below = left_tile + tiles.get((level - 1, 2 * t + 1), b"")
                below = below if len(left_tile) == full else left_tile
                n = min(want, len(below) // 64)  # children cut short were reported below
                again = split32(bulk.nodes(below[: 64 * n]))
                for k, node in enumerate(again):
                    if node != blob[32 * k : 32 * k + 32]:
                        target = f"node {level}/{(t << TILE_BITS) + k}"
                        outcome.add("ledger.nodes", target, "differs from its children")


def audit_heads(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Every signed head verifies, and today's tree still has the root it signed."""
    keys = {k.key_id: k for k in session.scalars(select(LedgerKey))}
    prover = store.prover(session, ledger)
    for head in session.scalars(select(LedgerHead).where(LedgerHead.ledger_id == ledger.id)):
        outcome.checked += 1
        target = f"head {head.id} (size {head.size})"
        key = keys.get(head.key_id)
        message = head_message(
            ledger.origin, ledger.hash_alg, head.size, bytes(head.root), head.timestamp_ms
        )
        try:
            if key is None:
                raise VerificationError("its key is unknown")
            verify_signature(key.algorithm, bytes(key.public_key), message, bytes(head.signature))
        except VerificationError as exc:
            outcome.add("ledger.heads", target, f"signature: {exc}")
        try:
            if head.size <= ledger.size and prover.root(head.size) != bytes(head.root):
                outcome.add("ledger.heads", target, "the tree no longer has the signed root")
        except (MissingNode, store.DamagedLedger) as exc:
            outcome.add("ledger.heads", target, str(exc))


def audit_digests(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Rows notarized by digest (batches, versions, snapshots) still hold what the ledger
    says: each key a source reports is compared with the entry's value."""
    if not _DIGEST_SOURCES:
        return
    context = _CONTEXT.get(id(session)) or AuditContext(session)
    for chunk in _entries(session, ledger):
        for entry in chunk:
            sources = [s for p, s in _DIGEST_SOURCES if fnmatch.fnmatchcase(entry.topic, p)]
            if not sources:
                continue
            data = json.loads(entry.body).get("data", {})
            target = f"entry {entry.idx} ({entry.topic})"
            for source in sources:
                outcome.checked += 1
                today = source(context, data)
                if today is None:
                    outcome.add("digests", target, "the notarized row no longer exists")
                    continue
                for key, value in today.items():
                    if key in data and data[key] != value:
                        outcome.add("digests", target, f"{key} changed outside the platform")


def audit_unsequenced(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Notarized events below the sequencer's floor that never made it into the log."""
    from sqlalchemy import exists

    sequenced = exists().where(
        LedgerEntry.ledger_id == ledger.id, LedgerEntry.event_id == OutboxEvent.id
    )
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.topic).where(
            OutboxEvent.id <= ledger.scan_floor, ~sequenced
        )
    )
    for event_id, topic in rows:
        if is_notarized(topic):
            outcome.add("ledger.events", f"event {event_id}", f"{topic} was never sequenced")


register_auditor("ledger.entries", audit_entries)
register_auditor("ledger.nodes", audit_nodes)
register_auditor("ledger.heads", audit_heads)
register_auditor("ledger.events", audit_unsequenced)
register_auditor("digests", audit_digests)


def _read_one_snapshot(session: Session) -> None:
    """Make every read of the audit's transaction see the database as of its first read.

    The sequencer and the head signer keep committing while an audit runs; statement by
    statement (PostgreSQL's READ COMMITTED, SQLite outside a transaction, as pysqlite
    leaves reads) the audit would mix the size it read first with entries, edge tiles,
    heads and keys committed later, and report a clean log as damaged. (On SQLite the WAL
    cannot be checkpointed past the snapshot, so it grows until the audit ends.)"""
    conn = session.connection()
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    elif conn.dialect.name == "sqlite" and not raw.in_transaction:
        conn.exec_driver_sql("BEGIN")  # a WAL snapshot from the first read to the end


def run_audit(
    factory: sessionmaker[Session],
    *,
    trigger: str = "cli",
    bus: Any = None,
    data_dir: Path | None = None,
) -> LedgerAuditRun:
    """Run every auditor, record the run, and raise the `ledger.audit.failed` alarm."""
    from cityhub.ledger import sources  # noqa: F401  (registers the built-in sources)

    started = utcnow()
    outcome = Outcome()
    with factory() as session, session.begin():
        _read_one_snapshot(session)
        ledger = store.get_ledger(session)
        _CONTEXT[id(session)] = AuditContext(session, data_dir)
        try:
            for name, auditor in auditors().items():
                if ledger is None:
                    break
                # PostgreSQL aborts a transaction on an error: a savepoint keeps the rest.
                pg = session.connection().dialect.name == "postgresql"
                try:
                    with session.begin_nested() if pg else nullcontext():
                        auditor(session, ledger, outcome)
                except Exception as exc:  # a broken auditor is a finding, not a crash
                    log.exception("auditor failed", extra={"auditor": name})
                    outcome.add(name, "auditor", f"could not run: {type(exc).__name__}: {exc}")
        finally:
            _CONTEXT.pop(id(session), None)
    with factory() as session, session.begin():
        if bus is not None:
            attach(session, bus)
        run = LedgerAuditRun(
            trigger=trigger,
            ok=not outcome.findings,
            checked=outcome.checked,
            findings=json.dumps([asdict(f) for f in outcome.findings], ensure_ascii=False),
            started_at=started,
            finished_at=utcnow(),
        )
        session.add(run)
        session.flush()
        if outcome.findings:
            emit(
                session,
                "ledger.audit.failed",
                {
                    "audit_id": run.id,
                    "trigger": trigger,
                    "findings": len(outcome.findings),
                    "first": asdict(outcome.findings[0]),
                },
            )
    return run
