from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import Event, EventBus, attach, emit, read_since


def test_subscribers_hear_only_committed_events(db: sessionmaker[Session]) -> None:
    bus = EventBus()
    heard: list[Event] = []
    bus.subscribe("catalog.*", heard.append)
    with db() as session, session.begin():
        attach(session, bus)
        emit(session, "catalog.resource.published", {"code": "R1"}, actor="ga_data")
        emit(session, "sensing.alarm.raised", {"device": "D1"})
        assert heard == [], "nothing is delivered before the commit"
    assert [(e.topic, e.payload, e.actor) for e in heard] == [
        ("catalog.resource.published", {"code": "R1"}, "ga_data")
    ]
    with pytest.raises(RuntimeError), db() as session, session.begin():
        attach(session, bus)
        emit(session, "catalog.resource.published", {"code": "R2"})
        raise RuntimeError("the change fails")
    assert len(heard) == 1, "a rolled-back change emits nothing"
    with db() as session:
        stored = read_since(session, 0)
    assert [e.payload for e in stored] == [{"code": "R1"}, {"device": "D1"}]


def test_a_failing_subscriber_does_not_stop_the_others(db: sessionmaker[Session]) -> None:
    bus = EventBus()
    heard: list[str] = []

    def broken(_: Event) -> None:
        raise ValueError("bug in a subscriber")

    bus.subscribe("*", broken)
    bus.subscribe("*", lambda e: heard.append(e.topic))
    with db() as session, session.begin():
        attach(session, bus)
        emit(session, "gateway.grant.created", {"grant": 1})
    assert heard == ["gateway.grant.created"]


def test_read_since_pages_and_filters(db: sessionmaker[Session]) -> None:
    with db() as session, session.begin():
        for i in range(5):
            emit(session, "catalog.x" if i % 2 else "ledger.y", {"i": i})
    with db() as session:
        first = read_since(session, 0, limit=2)
        rest = read_since(session, first[-1].id)
        only = read_since(session, 0, topic="catalog.*")
    assert [e.payload["i"] for e in first + rest] == [0, 1, 2, 3, 4]
    assert [e.payload["i"] for e in only] == [1, 3]
