"""What the API, the pages and the CLI ask of the ledger. No web imports."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import attach
from cityhub.errors import BadRequest, NotFound
from cityhub.ledger import heads, store
from cityhub.ledger.keys import platform_signer
from cityhub.ledger.models import Ledger, LedgerAuditRun, LedgerEntry, LedgerHead
from cityhub.settings import Settings


def entry_document(session: Session, ledger: Ledger, entry: LedgerEntry) -> dict[str, Any]:
    return {
        "index": entry.idx,
        "event_id": entry.event_id,
        "topic": entry.topic,
        "resource_code": entry.resource_code,
        "batch_ref": entry.batch_ref,
        "entry": entry.body,
        "leaf_hash": store.leaf_hash(session, ledger, entry.idx).hex(),
        "created_at": entry.created_at,
    }


def get_entry(session: Session, index: int) -> dict[str, Any]:
    ledger = store.require_ledger(session)
    return entry_document(session, ledger, store.get_entry(session, ledger, index))


def list_entries(
    session: Session,
    *,
    limit: int,
    before: int | None = None,
    resource: str | None = None,
    batch: str | None = None,
    topic: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first; filtered by resource code, batch reference or topic prefix."""
    ledger = store.get_ledger(session)
    if ledger is None:
        return []
    stmt = select(LedgerEntry).where(LedgerEntry.ledger_id == ledger.id)
    if resource:
        stmt = stmt.where(LedgerEntry.resource_code == resource)
    if batch:
        stmt = stmt.where(LedgerEntry.batch_ref == batch)
    if topic:
        stmt = stmt.where(LedgerEntry.topic.startswith(topic, autoescape=True))
    if before is not None:
        stmt = stmt.where(LedgerEntry.idx < before)
    rows = session.scalars(stmt.order_by(LedgerEntry.idx.desc()).limit(limit))
    return [entry_document(session, ledger, e) for e in rows]


def _check_size(ledger: Ledger, size: int) -> None:
    if size > ledger.size:
        raise BadRequest(f"size {size} is beyond the ledger's size {ledger.size}")


def inclusion(session: Session, index: int, size: int | None) -> dict[str, Any]:
    """An inclusion proof of entry `index` in the tree of `size` (default: latest head)."""
    ledger = store.require_ledger(session)
    if size is None:
        head = heads.latest_head(session, ledger)
        size = head.size if head is not None else ledger.size
    _check_size(ledger, size)
    if not 0 <= index < size:
        raise BadRequest(f"index {index} is outside the tree of size {size}")
    prover = store.prover(session, ledger)
    return {
        "hash_alg": ledger.hash_alg,
        "index": index,
        "size": size,
        "leaf_hash": store.leaf_hash(session, ledger, index).hex(),
        "root": prover.root(size).hex(),
        "proof": [p.hex() for p in prover.inclusion(index, size)],
    }


def consistency(session: Session, first: int, second: int | None) -> dict[str, Any]:
    """A consistency proof from size `first` to `second` (default: latest head)."""
    ledger = store.require_ledger(session)
    if second is None:
        head = heads.latest_head(session, ledger)
        second = head.size if head is not None else ledger.size
    _check_size(ledger, second)
    if not 0 < first <= second:
        raise BadRequest(f"no consistency proof exists from size {first} to {second}")
    prover = store.prover(session, ledger)
    return {
        "hash_alg": ledger.hash_alg,
        "first": first,
        "second": second,
        "first_root": prover.root(first).hex(),
        "second_root": prover.root(second).hex(),
        "proof": [p.hex() for p in prover.consistency(first, second)],
    }


def latest_head_document(session: Session) -> dict[str, Any]:
    ledger = store.require_ledger(session)
    head = heads.latest_head(session, ledger)
    if head is None:
        raise NotFound("no tree head has been signed yet")
    return heads.documents(session, ledger, [head])[0]


def head_document(session: Session, size: int) -> dict[str, Any]:
    ledger = store.require_ledger(session)
    return heads.documents(session, ledger, [heads.head_at_size(session, ledger, size)])[0]


def list_head_documents(
    session: Session, *, limit: int, before_id: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    ledger = store.get_ledger(session)
    if ledger is None:
        return [], None
    rows = heads.list_heads(session, ledger, limit=limit + 1, before_id=before_id)
    nxt = rows[limit - 1].id if len(rows) > limit else None
    return heads.documents(session, ledger, rows[:limit]), nxt


def sign_head(factory: sessionmaker[Session], settings: Settings, bus: Any) -> dict[str, Any]:
    """Sign a head of the ledger as it is now (creating the empty ledger if need be)."""
    from cityhub.ledger.sequencer import ledger_origin

    signer = platform_signer(settings)
    with factory() as session, session.begin():
        if bus is not None:
            attach(session, bus)
        ledger = store.get_ledger(session) or store.open_for_write(
            session, store.DEFAULT_LEDGER, settings.ledger_hash, ledger_origin(settings)
        )
        head = heads.publish_head(session, ledger, signer)
        return heads.documents(session, ledger, [head])[0]


def summary(session: Session) -> dict[str, Any]:
    """The console's figures: size, latest head with cosignatures, witnesses, last audit."""
    ledger = store.get_ledger(session)
    head = heads.latest_head(session, ledger) if ledger else None
    last_audit = session.scalar(select(LedgerAuditRun).order_by(LedgerAuditRun.id.desc()).limit(1))
    return {
        "ledger": ledger.name if ledger else store.DEFAULT_LEDGER,
        "origin": ledger.origin if ledger else None,
        "hash_alg": ledger.hash_alg if ledger else None,
        "size": ledger.size if ledger else 0,
        "heads": session.scalar(
            select(func.count()).select_from(LedgerHead).where(LedgerHead.ledger_id == ledger.id)
        )
        if ledger
        else 0,
        "latest_head": heads.documents(session, ledger, [head])[0] if ledger and head else None,
        "keys": heads.key_documents(session),
        "witnesses": heads.witness_status(session),
        "last_audit": audit_document(last_audit) if last_audit else None,
    }


def audit_document(run: LedgerAuditRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "trigger": run.trigger,
        "ok": run.ok,
        "checked": run.checked,
        "findings": json.loads(run.findings),
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


def verify_uploaded(session: Session, document: Any) -> dict[str, Any]:
    """Check a receipt or bundle against the keys this platform actually published (never
    the keys the document brings along) and the witnesses registered here."""
    from cityhub.ledger.verify import Keys, VerificationError, parse_keys, verify_document

    trusted: Keys = parse_keys(heads.key_documents(session), "keys")
    witnesses = heads.witness_key_documents(session)
    if isinstance(document, dict):
        document = {**document, "witness_keys": witnesses}
    try:
        if not trusted:
            raise VerificationError("this platform has not signed any tree head yet")
        report = verify_document(document, trusted)
    except VerificationError as exc:
        return {"valid": False, "error": str(exc), "checks": [], "warnings": []}
    return {
        "valid": True,
        "kind": report.kind,
        "checks": report.checks,
        "warnings": report.warnings,
    }
