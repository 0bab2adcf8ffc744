"""The ledger inside the server process: sequence after each commit, sweep the outbox,
sign heads on schedule, run the scheduled audit. One daemon thread per app.

Several processes may each run one: the sequencer's write lock keeps them to one
writer at a time, and a duplicate head is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import Event, EventBus, attach
from cityhub.ledger import heads, store
from cityhub.ledger.audit import run_audit
from cityhub.ledger.config import LedgerSettings, load_ledger_settings
from cityhub.ledger.keys import platform_signer
from cityhub.ledger.sequencer import sequence
from cityhub.ledger.topics import is_notarized
from cityhub.settings import Settings

log = logging.getLogger("cityhub.ledger")


class LedgerWorker:
    def __init__(
        self,
        factory: sessionmaker[Session],
        settings: Settings,
        ledger_settings: LedgerSettings,
        bus: EventBus | Any = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.ledger_settings = ledger_settings
        self.bus = bus
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_head = 0.0
        self._last_audit = time.monotonic()  # the first scheduled audit waits one period
        self.ticks = 0

    def on_event(self, event: Event) -> None:
        """Bus subscriber: a notarized event committed; sequence it now."""
        if is_notarized(event.topic):
            with self._lock:
                self._pending.add(event.id)
            self._wake.set()

    def start(self) -> None:
        if self.bus is not None:
            try:
                self.bus.subscribe("*", self.on_event)
            except Exception:  # a bus that is down must not stop the server: sweeps go on
                log.exception("the ledger could not subscribe to the event bus")
        self._thread = threading.Thread(target=self._run, name="cityhub-ledger", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the next sweep retries; the server must keep serving
                log.exception("ledger background work failed")
            self._wake.wait(self.ledger_settings.sweep_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One round: sequence, then a head and an audit when they are due."""
        with self._lock:
            ids, self._pending = sorted(self._pending), set()
        sequence(self.factory, self.settings, self.ledger_settings, ids=ids)
        now = time.monotonic()
        if now - self._last_head >= self.ledger_settings.head_seconds:
            self._maybe_sign()
            self._last_head = now
        every = self.ledger_settings.audit_seconds
        if every and now - self._last_audit >= every:
            self._last_audit = now
            sequence(self.factory, self.settings, self.ledger_settings, full=True)
            run_audit(
                self.factory, trigger="schedule", bus=self.bus, data_dir=self.settings.data_dir
            )
        self.ticks += 1

    def _maybe_sign(self) -> None:
        with self.factory() as session, session.begin():
            if self.bus is not None:
                attach(session, self.bus)
            ledger = store.get_ledger(session)
            if ledger is None:
                return
            latest = heads.latest_head(session, ledger)
            max_age_ms = self.ledger_settings.head_max_age_seconds * 1000
            stale = latest is None or heads.now_ms() - latest.timestamp_ms >= max_age_ms
            if latest is None or latest.size != ledger.size or stale:
                signer = platform_signer(self.settings, self.ledger_settings)
                heads.publish_head(session, ledger, signer)


def start_ledger(app: Any) -> LedgerWorker | None:
    """Lifespan hook: start the worker unless turned off (CITYHUB_LEDGER_BACKGROUND)."""
    ledger_settings: LedgerSettings = getattr(app.state, "ledger_settings", None) or (
        load_ledger_settings()
    )
    app.state.ledger_settings = ledger_settings
    if not ledger_settings.background:
        return None
    worker = LedgerWorker(app.state.sessions, app.state.settings, ledger_settings, app.state.bus)
    worker.start()
    app.state.ledger_worker = worker
    return worker


def stop_ledger(worker: LedgerWorker | None) -> None:
    if worker is not None:
        worker.stop()
