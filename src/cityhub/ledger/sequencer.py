"""The sequencer: notarized outbox events become ledger entries, in batches, one writer
at a time.

It records what it sequenced per event (`ledger_entries.event_id`, unique) rather than
trusting a high-water mark: on PostgreSQL an event id is handed out before its
transaction commits, so a lower id can appear after a higher one. The scan floor only
moves over ids that are present, or missing for longer than `gap_grace_seconds`;
a full sweep (`full=True`, run by the audit) catches anything that committed later still.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import utcnow
from cityhub.core.events import Event, OutboxEvent
from cityhub.core.times import as_utc
from cityhub.ledger import store
from cityhub.ledger.models import Ledger, LedgerEntry
from cityhub.ledger.topics import entry_for, is_notarized, like_patterns
from cityhub.settings import Settings

_FLOOR_WINDOW = 5000  # outbox rows examined per floor advance
_FLOOR_LAG = 1000  # a floor this far behind is moved on even when nothing is pending


@dataclass(frozen=True)
class SequenceResult:
    appended: int
    size: int
    first_index: int | None


def ledger_origin(settings: Settings) -> str:
    return f"cityhub/{settings.city_code}/{store.DEFAULT_LEDGER}"


def _unsequenced(
    session: Session, ledger: Ledger, limit: int, *, full: bool, ids: Iterable[int] = ()
) -> list[Event]:
    sequenced = exists().where(
        LedgerEntry.ledger_id == ledger.id, LedgerEntry.event_id == OutboxEvent.id
    )
    scope = OutboxEvent.id > (0 if full else ledger.scan_floor)
    wanted = sorted(set(ids))
    if wanted:  # events the bus told us about: found even below the floor
        scope = or_(scope, OutboxEvent.id.in_(wanted))
    stmt = (
        select(OutboxEvent)
        .where(scope, or_(*(OutboxEvent.topic.like(p) for p in like_patterns())), ~sequenced)
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return [
        Event(r.id, r.topic, json.loads(r.payload), r.actor, r.at)
        for r in session.scalars(stmt)
        if is_notarized(r.topic)
    ]


def _advance_floor(session: Session, ledger: Ledger, grace: timedelta) -> None:
    """Move the floor over present ids whose notarized events are all sequenced; over a
    missing id only once the row after it is older than the grace period."""
    rows = session.execute(
        select(OutboxEvent.id, OutboxEvent.topic, OutboxEvent.at, LedgerEntry.idx)
        .outerjoin(
            LedgerEntry,
            and_(LedgerEntry.ledger_id == ledger.id, LedgerEntry.event_id == OutboxEvent.id),
        )
        .where(OutboxEvent.id > ledger.scan_floor)
        .order_by(OutboxEvent.id)
        .limit(_FLOOR_WINDOW)
    ).all()
    floor = ledger.scan_floor
    settled = utcnow() - grace
    for event_id, topic, at, idx in rows:
        if event_id != floor + 1 and as_utc(at) > settled:
            break  # a gap: an id whose transaction may still commit
        if idx is None and is_notarized(topic):
            break
        floor = event_id
    if floor != ledger.scan_floor:
        session.execute(update(Ledger).where(Ledger.id == ledger.id).values(scan_floor=floor))
        ledger.scan_floor = floor


def _has_work(factory: sessionmaker[Session]) -> tuple[bool, int]:
    """A read-only look: is a notarized event above the floor not sequenced yet, or has
    the floor fallen far behind (other packages' events pile up above it)?"""
    with factory() as session:
        ledger = store.get_ledger(session) or Ledger(id=-1, scan_floor=0, size=0)
        behind = select(OutboxEvent.id).where(OutboxEvent.id > ledger.scan_floor + _FLOOR_LAG)
        lagging = session.scalar(behind.limit(1)) is not None
        return lagging or bool(_unsequenced(session, ledger, 1, full=False)), ledger.size


def sequence_once(
    session: Session,
    settings: Settings,
    *,
    full: bool = False,
    ids: Iterable[int] = (),
) -> SequenceResult:
    """One batch in the caller's transaction, under the ledger's write lock."""
    ledger = store.open_for_write(
        session, store.DEFAULT_LEDGER, settings.ledger_hash, ledger_origin(settings)
    )
    events = _unsequenced(session, ledger, settings.ledger_batch_size, full=full, ids=ids)
    first = store.append(session, ledger, [entry_for(e) for e in events]) if events else None
    _advance_floor(session, ledger, timedelta(seconds=settings.ledger_gap_grace_seconds))
    return SequenceResult(len(events), ledger.size, first)


def sequence(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    full: bool = False,
    ids: Iterable[int] = (),
) -> SequenceResult:
    """Sequence everything pending, one committed batch at a time."""
    appended, first, size = 0, None, 0
    wanted = list(ids)
    if not wanted and not full:
        work, size = _has_work(factory)
        if not work:
            return SequenceResult(0, size, None)  # nothing to do: no write lock taken
    while True:
        with factory() as session, session.begin():
            result = sequence_once(session, settings, full=full, ids=wanted)
        wanted = []
        appended += result.appended
        size = result.size
        if first is None:
            first = result.first_index
        if result.appended < settings.ledger_batch_size:
            return SequenceResult(appended, size, first)
