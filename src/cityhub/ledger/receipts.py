"""Receipts: what a consumer keeps to prove later what it received.

A receipt is `proven` (entry, leaf hash, signed head, inclusion proof: checkable offline
by verify.py), `sequenced` (in the log, no signed head covers it yet) or `pending` (the
event is not in the log yet). The last two carry `proof_url`, where the proven receipt
can be fetched once it exists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.core.events import OutboxEvent
from cityhub.errors import NotFound
from cityhub.ledger import heads, store
from cityhub.ledger.models import Ledger, LedgerEntry
from cityhub.ledger.topics import is_notarized
from cityhub.ledger.verify import RECEIPT_FORMAT

API_PREFIX = "/api/v1/ledger"


def proof_url(event_id: int) -> str:
    return f"{API_PREFIX}/receipts/event/{event_id}"


def _pending(event_id: int, status: str = "pending", **extra: Any) -> dict[str, Any]:
    return {
        "format": RECEIPT_FORMAT,
        "status": status,
        "event_id": event_id,
        "proof_url": proof_url(event_id),
        **extra,
    }


def receipt_for_entry(session: Session, ledger: Ledger, entry: LedgerEntry) -> dict[str, Any]:
    """The receipt of an entry: proven by the latest signed head when one covers it."""
    leaf = store.leaf_hash(session, ledger, entry.idx)
    common: dict[str, Any] = {
        "ledger": {"name": ledger.name, "origin": ledger.origin, "hash_alg": ledger.hash_alg},
        "index": entry.idx,
        "topic": entry.topic,
        "entry": entry.body,
        "leaf_hash": leaf.hex(),
    }
    head = heads.latest_head(session, ledger)
    event_id = entry.event_id
    if head is None or head.size <= entry.idx:
        if event_id is None:
            return {"format": RECEIPT_FORMAT, "status": "sequenced", **common}
        return _pending(event_id, "sequenced", **common)
    proof = store.prover(session, ledger).inclusion(entry.idx, head.size)
    [document] = heads.documents(session, ledger, [head])
    witness_ids = {c["key_id"] for c in document["cosignatures"]}
    receipt: dict[str, Any] = {"format": RECEIPT_FORMAT, "status": "proven"}
    if event_id is not None:
        receipt.update(event_id=event_id, proof_url=proof_url(event_id))
    receipt.update(common)
    receipt.update(
        head=document,
        inclusion_proof=[p.hex() for p in proof],
        keys=heads.key_documents(session, {head.key_id}),
        witness_keys=heads.witness_key_documents(session, witness_ids),
    )
    return receipt


def receipt_for_event(session: Session, event_id: int) -> dict[str, Any]:
    """The ledger receipt of an outbox event, never failing for a just-emitted one.

    Called by other packages inside their own transaction (e.g. a grant response):
    the event is then not sequenced yet and the answer is a `pending` pointer.
    """
    ledger = store.get_ledger(session)
    entry = store.entry_for_event(session, ledger, event_id) if ledger else None
    if ledger is None or entry is None:
        return _pending(event_id)
    return receipt_for_entry(session, ledger, entry)


def receipt_or_404(session: Session, event_id: int) -> dict[str, Any]:
    """For the API: the receipt, or NotFound when no such notarized event exists."""
    topic = session.scalar(select(OutboxEvent.topic).where(OutboxEvent.id == event_id))
    ledger = store.get_ledger(session)
    entry = store.entry_for_event(session, ledger, event_id) if ledger else None
    if entry is None:
        if topic is None:
            raise NotFound(f"no event with id {event_id}")
        if not is_notarized(topic):
            raise NotFound(f"event {event_id} ({topic}) is not notarized in the ledger")
        return _pending(event_id)
    assert ledger is not None
    return receipt_for_entry(session, ledger, entry)
