"""Domain events: written to an outbox in the same transaction as the change they describe,
then handed to in-process subscribers once that transaction has committed.

The outbox makes an event exactly as durable as its change: a rolled-back change emits
nothing, a committed one is never lost, and consumers that must see every event (the
ledger, change feeds) read the outbox by id instead of trusting delivery.
"""

from __future__ import annotations

import fnmatch
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from cityhub.core.db import Base, utcnow

log = logging.getLogger("cityhub.events")


class OutboxEvent(Base):
    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(128), index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    actor: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Event:
    id: int
    topic: str
    payload: dict[str, Any]
    actor: str = ""
    at: datetime = field(default_factory=utcnow)


Handler = Callable[[Event], None]


class EventBus:
    """In-process publish/subscribe with shell-style topic patterns (`catalog.*`)."""

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Handler]] = []

    def subscribe(self, pattern: str, handler: Handler) -> None:
        self._subscribers.append((pattern, handler))

    def publish(self, evt: Event) -> None:
        for pattern, handler in list(self._subscribers):
            if fnmatch.fnmatchcase(evt.topic, pattern):
                try:
                    handler(evt)
                except Exception:  # one faulty subscriber must not stop the others
                    log.exception("event subscriber failed", extra={"topic": evt.topic})


_PENDING = "cityhub_pending_events"
_BUS = "cityhub_bus"


def emit(session: Session, topic: str, payload: dict[str, Any], actor: str = "") -> OutboxEvent:
    """Record an event in the caller's transaction; subscribers hear of it after commit."""
    row = OutboxEvent(
        topic=topic, payload=json.dumps(payload, ensure_ascii=False, default=str), actor=actor
    )
    session.add(row)
    session.flush()
    session.info.setdefault(_PENDING, []).append(row)
    return row


def attach(session: Session, bus: EventBus) -> None:
    """Deliver this session's events to `bus` after each commit."""
    session.info[_BUS] = bus


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending: list[OutboxEvent] = session.info.pop(_PENDING, [])
    bus: EventBus | None = session.info.get(_BUS)
    if bus is None:
        return
    for row in pending:
        bus.publish(Event(row.id, row.topic, json.loads(row.payload), row.actor, row.at))


@event.listens_for(Session, "after_rollback")
def _discard(session: Session) -> None:
    session.info.pop(_PENDING, None)


def read_since(
    session: Session, after_id: int, limit: int = 1000, topic: str | None = None
) -> list[Event]:
    """Events after `after_id` in id order.

    On PostgreSQL ids are handed out before commit, so a later id can commit first:
    a consumer that must see every event keeps its own record of what it processed
    (the ledger marks rows it sequenced) rather than trusting a high-water mark alone.
    """
    stmt = (
        select(OutboxEvent).where(OutboxEvent.id > after_id).order_by(OutboxEvent.id).limit(limit)
    )
    if topic:
        stmt = stmt.where(OutboxEvent.topic.like(topic.replace("*", "%")))
    return [
        Event(r.id, r.topic, json.loads(r.payload), r.actor, r.at) for r in session.scalars(stmt)
    ]
