"""The cockpit's live feed: events of the outbox that a cockpit shows, fanned out to the
open Server-Sent Events streams of this process.

One poller thread per process reads `event_outbox` by id (a primary-key range, every
half second, only while a stream is open), so a stream hears the events of every
process whatever the bus is, and a reconnecting browser resumes after its
`Last-Event-ID` without losing one. On PostgreSQL ids are handed out before commit, so
the poller looks back a little and skips the ids it already sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import json
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import Event, OutboxEvent, read_since
from cityhub.indicators.models import IndicatorSnapshot
from cityhub.indicators.service import TOPIC_RECOMPUTED, VERSION

log = logging.getLogger("cityhub.indicators")
TOPICS = ("sensing.alarm.*", "ops.incident.*", "exchange.batch.completed")
POLL_SECONDS = 0.5
LOOKBACK = 200  # ids re-read each poll: a late commit on PostgreSQL is still seen
HEARTBEAT_SECONDS = 2.0


def wanted(topic: str) -> bool:
    return any(fnmatch.fnmatchcase(topic, p) for p in TOPICS)


@dataclass(eq=False)
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)

    def put(self, evt: Event | None) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, evt)


class Feed:
    def __init__(self, factory: sessionmaker[Session], poll: float = POLL_SECONDS) -> None:
        self.factory = factory
        self.poll = poll
        self._subs: set[Subscriber] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_id: int | None = None
        self._version: datetime | None = None
        self._sent: deque[int] = deque(maxlen=4 * LOOKBACK)
        self.closed = False

    # -- streams -------------------------------------------------------------------------

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._subs)

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> Subscriber:
        """A new stream's queue; the poller starts (from the outbox's end) if it was idle,
        before this returns: whatever is emitted afterwards reaches the stream."""
        sub = Subscriber(loop)
        with self._lock:
            self._subs.add(sub)
            if self.closed:
                sub.put(None)
                return sub
            if self._thread is None or not self._thread.is_alive():
                self._start_point()
                self._thread = threading.Thread(target=self._run, name="cockpit-feed", daemon=True)
                self._thread.start()
        return sub

    def _start_point(self) -> None:
        with self.factory() as session:
            self._last_id = session.scalar(select(func.max(OutboxEvent.id))) or 0
            before = read_since(session, max(0, self._last_id - LOOKBACK), limit=LOOKBACK)
        self._sent.extend(e.id for e in before)  # not news

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subs.discard(sub)

    def close(self) -> None:
        """End every open stream and the poller."""
        with self._lock:
            self.closed = True
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # that stream's loop is already gone
                sub.put(None)
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def replay(self, after_id: int, limit: int = 200) -> list[Event]:
        """Events a reconnecting stream missed (after its Last-Event-ID)."""
        with self.factory() as session:
            return [e for e in read_since(session, after_id, limit=limit * 5) if wanted(e.topic)][
                :limit
            ]

    # -- the poller ----------------------------------------------------------------------

    def _run(self) -> None:
        while not self.closed:
            with self._lock:  # nobody listens: end; the next stream starts a poller again
                if not self._subs:
                    self._thread = None
                    self._last_id = None
                    self._version = None
                    return
            try:
                self._poll_once()
            except Exception:  # the database may be briefly away: try again next time
                log.exception("cockpit feed poll failed")
            self._wake.wait(self.poll)

    def _poll_once(self) -> None:
        last = self._last_id or 0
        with self.factory() as session:
            events = read_since(session, max(0, last - LOOKBACK), limit=2000)
            version = session.execute(
                select(IndicatorSnapshot.body, IndicatorSnapshot.computed_at).filter_by(
                    name=VERSION
                )
            ).first()
        if version is not None and version[1] != self._version:
            if self._version is not None:  # a recompute changed values: cockpits refresh
                body = json.loads(version[0])
                self.publish(Event(0, TOPIC_RECOMPUTED, body, "indicators", version[1]))
            self._version = version[1]
        fresh = [e for e in events if e.id not in self._sent]
        for evt in fresh:
            self._sent.append(evt.id)
            self._last_id = max(self._last_id or 0, evt.id)
            if wanted(evt.topic):
                self.publish(evt)

    def publish(self, evt: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            try:
                sub.put(evt)
            except RuntimeError:
                self.unsubscribe(sub)


def feed_of(app: Any) -> Feed:
    found: Feed | None = getattr(app.state, "cockpit_feed", None)
    if found is None:
        found = Feed(app.state.sessions)
        app.state.cockpit_feed = found
    return found


def frame(evt: Event) -> str:
    """One SSE message: the outbox id (for Last-Event-ID), the kind, the payload."""
    kind = evt.topic.split(".")[1] if evt.topic.count(".") >= 1 else evt.topic
    body = json.dumps(
        {"topic": evt.topic, "at": evt.at.isoformat(), "payload": evt.payload},
        ensure_ascii=False,
        default=str,
    )
    head = f"id: {evt.id}\n" if evt.id else ""  # a recompute is no outbox event: no id
    return f"{head}event: {kind}\ndata: {body}\n\n"


async def messages(feed: Feed, after_id: int | None, lifetime: float) -> AsyncIterator[str]:
    """The stream's text: a retry hint, the events missed since `after_id` (Last-Event-ID),
    then live ones with heartbeats. It ends after `lifetime` seconds (the browser
    reconnects and resumes) or when the feed closes (shutdown)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + lifetime
    # Here, not in the route: only a started stream holds a subscription.
    sub = await asyncio.to_thread(feed.subscribe, loop)
    try:
        yield "retry: 1000\n: cityhub cockpit\n\n"
        replayed: set[int] = set()
        if after_id is not None:
            for evt in await asyncio.to_thread(feed.replay, after_id):
                replayed.add(evt.id)
                yield frame(evt)
        while not feed.closed:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                got = await asyncio.wait_for(sub.queue.get(), min(HEARTBEAT_SECONDS, left))
            except TimeoutError:
                yield ": keep-alive\n\n"  # also finds a closed connection
                continue
            if got is None:
                break
            if got.id not in replayed:
                yield frame(got)
    finally:
        feed.unsubscribe(sub)
