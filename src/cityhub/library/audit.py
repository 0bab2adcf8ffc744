"""The ledger auditor of library content: recompute every keyed table's digest from its
rows and compare it with what the platform recorded and the ledger notarized.

Three findings, per table:
- rows whose values no longer match their stored fingerprint: edited outside the
  platform (a direct SQL UPDATE); reported with their (masked) keys;
- the recomputed digest differs from the running digest: rows inserted or deleted
  outside the platform, or fingerprints rewritten with the values;
- the running digest differs from the last one the ledger notarized for the resource.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog.masking import mask_value
from cityhub.core.events import OutboxEvent
from cityhub.ledger.audit import Outcome, register_auditor
from cityhub.ledger.models import Ledger, LedgerEntry
from cityhub.library import datastore as ds
from cityhub.library import digest
from cityhub.library.models import LibraryDigestPart
from cityhub.library.target import target_of

NAME = "library.snapshots"
_SHOWN_KEYS = 5
_LOOKBACK = 10_000


def notarized_digest(
    session: Session, ledger: Ledger, resource_code: str
) -> tuple[int, str] | None:
    """(event id, digest) of the resource's last notarized snapshot, if any."""
    row = session.execute(
        select(LedgerEntry.event_id, LedgerEntry.body)
        .where(
            LedgerEntry.ledger_id == ledger.id,
            LedgerEntry.resource_code == resource_code,
            LedgerEntry.topic == digest.TOPIC,
        )
        .order_by(LedgerEntry.idx.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    value = json.loads(row.body).get("data", {}).get("digest")
    return (int(row.event_id or 0), value) if isinstance(value, str) else None


def _later_snapshot(session: Session, resource_code: str, after_event: int) -> bool:
    """Whether a snapshot of the resource was emitted after `after_event` (not yet
    sequenced by the ledger): then the notarized one is merely behind, not contradicted."""
    payloads = session.scalars(
        select(OutboxEvent.payload)
        .where(OutboxEvent.topic == digest.TOPIC, OutboxEvent.id > after_event)
        .order_by(OutboxEvent.id.desc())
        .limit(_LOOKBACK)
    )
    return any(json.loads(p).get("resource") == resource_code for p in payloads)


def _masked(key: str) -> str:
    return str(mask_value(key, "keep:first6,last4")) if len(key) > 10 else key


def audit_resource(
    session: Session, resource_code: str, outcome: Outcome, ledger: Ledger | None
) -> None:
    layout = target_of(session, resource_code).layout
    conn = session.connection()
    if not ds.exists(conn, resource_code):
        return
    outcome.checked += 1
    recount = digest.recompute(conn, layout, max_keys=_SHOWN_KEYS)
    target = f"resource {resource_code}"
    if recount.tampered_count:
        shown = ", ".join(_masked(k) for k in recount.tampered)
        outcome.add(
            NAME,
            target,
            f"{recount.tampered_count} row(s) changed outside the platform (keys {shown})",
        )
    running = digest.digest_of(resource_code, digest.load(session, resource_code))
    actual = recount.digest(resource_code)
    if actual != running and not recount.tampered_count:
        outcome.add(NAME, target, "rows were added or removed outside the platform")
    if ledger is not None:
        notarized = notarized_digest(session, ledger, resource_code)
        behind = notarized is not None and _later_snapshot(session, resource_code, notarized[0])
        if notarized is not None and notarized[1] != running and not behind:
            outcome.add(NAME, target, "the running digest differs from the notarized snapshot")


def audit_libraries(session: Session, ledger: Ledger, outcome: Outcome) -> None:
    """Every resource the library keeps a digest for."""
    codes = session.scalars(select(LibraryDigestPart.resource_code).distinct())
    for code in sorted(set(codes)):
        audit_resource(session, code, outcome, ledger)


register_auditor(NAME, audit_libraries)
