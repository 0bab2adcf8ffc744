"""`cityhub ledger export`: a bundle that verify.py checks offline.

Signed heads (oldest first) with consistency proofs between neighbours, the platform's
keys, the witnesses' keys, and either every entry up to the latest head (`complete`: the
verifier rebuilds each root itself) or chosen entries with their inclusion proofs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.errors import BadRequest, NotFound
from cityhub.ledger import heads, store
from cityhub.ledger.models import LedgerEntry, LedgerHead
from cityhub.ledger.verify import BUNDLE_FORMAT

COMPLETE_LIMIT = 1_000_000


def export_bundle(
    session: Session,
    *,
    head_count: int = 10,
    complete: bool = True,
    indexes: Iterable[int] = (),
    event_ids: Iterable[int] = (),
) -> dict[str, Any]:
    ledger = store.require_ledger(session)
    recent = list(
        session.scalars(
            select(LedgerHead)
            .where(LedgerHead.ledger_id == ledger.id)
            .order_by(LedgerHead.size.desc(), LedgerHead.id.desc())
            .limit(head_count)
        )
    )
    if not recent:
        raise NotFound("no tree head has been signed yet; run `cityhub ledger sign` first")
    chosen = sorted(recent, key=lambda h: (h.size, h.id))
    latest = chosen[-1]
    prover = store.prover(session, ledger)
    consistency = [
        {
            "first": a.size,
            "second": b.size,
            "proof": [p.hex() for p in prover.consistency(a.size, b.size)] if a.size else [],
        }
        for a, b in itertools.pairwise(chosen)
    ]
    bundle: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "ledger": {"name": ledger.name, "origin": ledger.origin, "hash_alg": ledger.hash_alg},
        "keys": heads.key_documents(session, {h.key_id for h in chosen}),
        "witness_keys": heads.witness_key_documents(session),
        "heads": heads.documents(session, ledger, chosen),
        "consistency": consistency,
        "complete": complete,
    }
    if complete:
        if latest.size > COMPLETE_LIMIT:
            raise BadRequest(
                f"{latest.size} entries are too many for a complete bundle; choose entries "
                "with --index or --event"
            )
        rows = session.execute(
            select(LedgerEntry.idx, LedgerEntry.body)
            .where(LedgerEntry.ledger_id == ledger.id, LedgerEntry.idx < latest.size)
            .order_by(LedgerEntry.idx)
        )
        bundle["entries"] = [{"index": i, "entry": body} for i, body in rows]
        return bundle
    wanted = set(indexes)
    for event_id in event_ids:
        entry = store.entry_for_event(session, ledger, event_id)
        if entry is None:
            raise NotFound(f"event {event_id} is not in the ledger")
        wanted.add(entry.idx)
    entries = []
    for index in sorted(wanted):
        if not 0 <= index < latest.size:
            raise BadRequest(f"entry {index} is not covered by the latest head ({latest.size})")
        entry = store.get_entry(session, ledger, index)
        entries.append(
            {
                "index": index,
                "entry": entry.body,
                "inclusion_proof": [p.hex() for p in prover.inclusion(index, latest.size)],
            }
        )
    bundle["entries"] = entries
    return bundle
