"""Keeping indicators current inside the server.

- **On events**: a bus subscription marks the indicators (and snapshots) whose refresh
  topics match; a scheduler job recomputes them once their debounce has passed, so a
  burst of a thousand alarms costs one recompute.
- **On a schedule**: an exclusive job (one process at a time, cluster-wide) recomputes
  every indicator whose period has elapsed; its first run computes everything.

Started by the indicators router's lifespan, on the app's shared scheduler.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cityhub.core.events import Event
from cityhub.core.scheduler import Job, scheduler_of
from cityhub.indicators import service
from cityhub.indicators.cache import cache_of
from cityhub.indicators.registry import REGISTRY, Refresh, Registry
from cityhub.indicators.stream import feed_of
from cityhub.settings import Settings

log = logging.getLogger("cityhub.indicators")
SNAP = "snapshot:"  # prefix of snapshot names among the dirty keys
SCHEDULE_TICK = 15.0
EVENTS_TICK = 0.25
TIMEOUT = 1800.0  # an 11-million-row library is counted in seconds, not half an hour


class Refresher:
    """Dirty marks from events, periods from the schedule; recomputes one at a time."""

    def __init__(self, app: Any, registry: Registry = REGISTRY) -> None:
        self.app = app
        self.registry = registry
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._due: dict[str, float] = {}  # key → monotonic time it may run
        self._last: dict[str, float] = {}  # key → monotonic time of its last scheduled run

    def _rules(self) -> list[tuple[str, Refresh]]:
        rules = [(i.code, i.refresh) for i in self.registry.indicators()]
        return rules + [(SNAP + s.name, s.refresh) for s in self.registry.snapshots()]

    def on_event(self, evt: Event) -> None:
        """Bus handler: cheap, it only marks what the topic concerns."""
        now = time.monotonic()
        with self._lock:
            for key, rule in self._rules():
                if rule.matches(evt.topic) and key not in self._due:
                    self._due[key] = now + rule.debounce

    def mark_all(self) -> None:
        with self._lock:
            now = time.monotonic()
            for key, _ in self._rules():
                self._due.setdefault(key, now)

    def run_due(self) -> service.Outcome | None:
        now = time.monotonic()
        with self._lock:
            keys = [k for k, due in self._due.items() if due <= now]
            for k in keys:
                del self._due[k]
        return self._run(keys) if keys else None

    def run_scheduled(self) -> service.Outcome | None:
        now = time.monotonic()
        keys = []
        for key, rule in self._rules():
            last = self._last.get(key)
            if rule.every is not None and (last is None or now - last >= rule.every):
                keys.append(key)
                self._last[key] = now
        return self._run(keys) if keys else None

    def _run(self, keys: list[str]) -> service.Outcome:
        codes = [k for k in keys if not k.startswith(SNAP)]
        snaps = [k.removeprefix(SNAP) for k in keys if k.startswith(SNAP)]
        settings: Settings = self.app.state.settings
        with self._run_lock:  # two recomputes of one series would race on its rows
            outcome = service.recompute(
                self.app.state.sessions, settings, codes, snaps, registry=self.registry
            )
        if outcome.changed or outcome.snapshots:
            cache_of(self.app).clear()  # new values: answers are built again here at once
        return outcome


def refresher_of(app: Any) -> Refresher:
    found: Refresher | None = getattr(app.state, "indicator_refresher", None)
    if found is None:
        found = Refresher(app)
        app.state.indicator_refresher = found
    return found


def install(app: Any) -> Refresher:
    """Subscribe to the refresh topics and add the two jobs (once per app)."""
    service.register_builtins()
    refresher = refresher_of(app)
    scheduler = scheduler_of(app)
    if scheduler.has_job("indicators.events"):
        return refresher
    # One subscription to every topic, matched here: on NATS one durable consumer (a
    # queue group shared by the processes) rather than one per pattern.
    app.state.bus.subscribe("*", refresher.on_event)
    scheduler.add(
        Job("indicators.events", EVENTS_TICK, refresher.run_due, TIMEOUT, exclusive=False)
    )
    scheduler.add(Job("indicators.schedule", SCHEDULE_TICK, refresher.run_scheduled, TIMEOUT))
    return refresher


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    install(app)
    scheduler = scheduler_of(app)
    started_here = False
    if scheduler.settings.scheduler_enabled and not scheduler.running:
        scheduler.start()
        started_here = True
    try:
        yield
    finally:
        feed_of(app).close()  # open cockpit streams end now
        if started_here:
            scheduler.stop()
