"""The ledger's periodic work as jobs of the app's scheduler (core/scheduler.py):
sequencing (also woken by the event bus right after a commit), signed heads on schedule,
and the tamper audit. Off with CITYHUB_LEDGER_BACKGROUND=false; the on-demand paths
(`cityhub ledger ...`, `POST /api/v1/ledger/...`) work either way.

Several processes may run them: the sequencer's write lock keeps appends to one writer
at a time, and heads and audits are exclusive jobs (a lease row: one process per round).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.events import Event, attach
from cityhub.core.scheduler import Job, Scheduler, scheduler_of
from cityhub.ledger import heads, store
from cityhub.ledger.audit import run_audit
from cityhub.ledger.keys import platform_signer
from cityhub.ledger.sequencer import sequence
from cityhub.ledger.topics import is_notarized
from cityhub.settings import Settings

log = logging.getLogger("cityhub.ledger")
SEQUENCE_TIMEOUT = 600.0
HEAD_TIMEOUT = 120.0
AUDIT_TIMEOUT = 6 * 3600.0  # a full audit of tens of millions of entries still finishes
WAKE_TASK = "ledger.sequence.now"


class LedgerJobs:
    """What the jobs share: the app's database, settings and bus, and the ids of
    notarized events the bus announced that are not sequenced yet."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, bus: Any) -> None:
        self.factory = factory
        self.settings = settings
        self.bus = bus
        self._pending: set[int] = set()
        self._lock = threading.Lock()

    def take_pending(self) -> list[int]:
        with self._lock:
            ids, self._pending = sorted(self._pending), set()
        return ids

    def note(self, event: Event) -> bool:
        """Remember a committed notarized event; True when it is one."""
        if not is_notarized(event.topic):
            return False
        with self._lock:
            self._pending.add(event.id)
        return True

    def sequence(self) -> int:
        """Sequence what the bus announced and whatever else is pending in the outbox."""
        return sequence(self.factory, self.settings, ids=self.take_pending()).appended

    def sign_if_due(self) -> bool:
        """Sign a head when the log grew since the latest one, or when that one is older
        than CITYHUB_LEDGER_HEAD_MAX_AGE_SECONDS; True when it signed."""
        with self.factory() as session, session.begin():
            if self.bus is not None:
                attach(session, self.bus)
            ledger = store.get_ledger(session)
            if ledger is None:
                return False
            latest = heads.latest_head(session, ledger)
            max_age_ms = self.settings.ledger_head_max_age_seconds * 1000
            stale = latest is None or heads.now_ms() - latest.timestamp_ms >= max_age_ms
            if latest is not None and latest.size == ledger.size and not stale:
                return False
            heads.publish_head(session, ledger, platform_signer(self.settings))
            return True

    def audit(self) -> bool:
        """A full sweep of the outbox, then the tamper audit (a failure raises the
        `ledger.audit.failed` alarm event); True when the audit found nothing."""
        sequence(self.factory, self.settings, full=True)
        run = run_audit(
            self.factory, trigger="schedule", bus=self.bus, data_dir=self.settings.data_dir
        )
        return run.ok


def jobs(work: LedgerJobs) -> list[Job]:
    settings = work.settings
    found = [
        # Every process sweeps (a read-only look first; appends take the write lock).
        Job(
            "ledger.sequence",
            settings.ledger_sweep_seconds,
            work.sequence,
            SEQUENCE_TIMEOUT,
            exclusive=False,
        ),
        Job("ledger.heads", settings.ledger_head_seconds, work.sign_if_due, HEAD_TIMEOUT),
    ]
    if settings.ledger_audit_seconds:  # the first scheduled audit waits one period
        every = settings.ledger_audit_seconds
        found.append(Job("ledger.audit", every, work.audit, AUDIT_TIMEOUT, initial_delay=every))
    return found


def wake(scheduler: Scheduler, work: LedgerJobs) -> Any:
    """A bus subscriber: sequence a committed notarized event now, off the bus thread.
    A wake-up task still running leaves the id for the next one or the next sweep."""

    def on_event(event: Event) -> None:
        if work.note(event) and scheduler.running:
            scheduler.submit(WAKE_TASK, work.sequence, SEQUENCE_TIMEOUT)

    return on_event


def install(app: Any) -> LedgerJobs | None:
    """Add the ledger's jobs to the app's scheduler (started by the lifespan) unless
    CITYHUB_LEDGER_BACKGROUND is false; the bus subscription starts with the scheduler."""
    settings: Settings = app.state.settings
    if not settings.ledger_background:
        return None
    scheduler = scheduler_of(app)
    if scheduler.has_job("ledger.sequence"):
        return getattr(app.state, "ledger_jobs", None)
    work = LedgerJobs(app.state.sessions, settings, getattr(app.state, "bus", None))
    for job in jobs(work):
        scheduler.add(job)
    scheduler.on_start(lambda: _subscribe(scheduler, work))
    app.state.ledger_jobs = work
    return work


def _subscribe(scheduler: Scheduler, work: LedgerJobs) -> None:
    if work.bus is None:
        return
    try:
        work.bus.subscribe("*", wake(scheduler, work))
    except Exception:  # a bus that is down must not stop the server: sweeps go on
        log.exception("the ledger could not subscribe to the event bus")
