"""The exchange's background work in the server, on the shared scheduler: pending
batches (and interrupted ones put back), pull connectors when due, webhook deliveries.

Started by the exchange router's lifespan. When the app's scheduler is not started by
anyone else (and CITYHUB_SCHEDULER_ENABLED is not false) the exchange starts it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cityhub.core.scheduler import Job, Scheduler, scheduler_of
from cityhub.exchange import connectors, pipeline, webhooks
from cityhub.settings import Settings

log = logging.getLogger("cityhub.exchange")
BATCH_TIMEOUT = 6 * 3600.0  # a batch of tens of millions of rows still finishes


def process_pending(app: Any) -> int:
    """Put interrupted batches back, then run every pending one; returns how many ran."""
    factory = app.state.sessions
    settings: Settings = app.state.settings
    pipeline.recover(factory, app.state.bus)
    done = 0
    for batch_id in pipeline.pending_ids(factory):
        pipeline.run(factory, settings, batch_id, bus=app.state.bus)
        done += 1
    return done


def kick(app: Any, batch_id: int) -> None:
    """Process one batch soon, off the request thread."""
    factory = app.state.sessions
    settings: Settings = app.state.settings

    def work() -> None:
        pipeline.run(factory, settings, batch_id, bus=app.state.bus)

    scheduler: Scheduler | None = getattr(app.state, "scheduler", None)
    queued = (
        scheduler is not None
        and scheduler.running
        and scheduler.submit(f"exchange.batch.{batch_id}", work, BATCH_TIMEOUT)
    )
    if queued:
        return
    threading.Thread(target=work, name=f"exchange-batch-{batch_id}", daemon=True).start()


def jobs(app: Any) -> list[Job]:
    settings: Settings = app.state.settings
    every = settings.exchange_worker_seconds
    return [
        Job(
            "exchange.batches", every, lambda: process_pending(app), BATCH_TIMEOUT, exclusive=False
        ),
        Job(
            "exchange.connectors",
            every,
            lambda: connectors.run_due(app.state.sessions, settings, bus=app.state.bus),
            BATCH_TIMEOUT,
        ),
        Job(
            "exchange.webhooks",
            every,
            lambda: webhooks.dispatch(app.state.sessions, settings),
            600.0,
        ),
    ]


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    scheduler = scheduler_of(app)
    for job in jobs(app):
        if not scheduler.has_job(job.name):
            scheduler.add(job)
    started_here = False
    if scheduler.settings.scheduler_enabled and not scheduler.running:
        scheduler.start()
        started_here = True
    try:
        yield
    finally:
        if started_here:
            scheduler.stop()
        bus = getattr(app.state, "bus", None)
        close = getattr(bus, "close", None)
        if callable(close):
            close()
