"""The gateway's part of a running server: the usage meter, the datastore tables that follow
publication, and the periodic expiry of grants. Started by the router's lifespan."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.core.events import Event
from cityhub.gateway import grants, resources
from cityhub.gateway.metering import Meter
from cityhub.gateway.resources import ResourceCache
from cityhub.library import datastore as ds

log = logging.getLogger("cityhub.gateway")
METER = "gateway_meter"
CACHE = "gateway_resources"
GATE = "gateway_gate"
EXPIRY_SECONDS = 60.0
PUBLICATION_TOPICS = ("catalog.resource.published", "catalog.resource.version.*")


def sync_table(sessions: sessionmaker[Session], code: str) -> str | None:
    """Create or extend the datastore table of a published tabular resource."""
    with transaction(sessions) as session:
        info = resources.load(session, code)
        if not (info.published and info.tabular and info.items):
            return None
        return ds.ensure_table(session.connection(), info.table_spec)


def ensure_then_retry(engine: Engine, info: resources.ResourceInfo, exc: DBAPIError) -> None:
    """After a failed read: create the table if it is what was missing, else re-raise."""
    with engine.begin() as conn:
        if ds.exists(conn, info.code):
            raise exc
        ds.ensure_table(conn, info.table_spec)


class Housekeeper:
    """Marks expired grants every minute (one event each) in a daemon thread."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = EXPIRY_SECONDS) -> None:
        self._sessions = sessions
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cityhub-grants", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                with transaction(self._sessions) as session:
                    grants.expire_due(session)
            except Exception:  # the next round retries; never kill the thread
                log.exception("grant expiry failed")


def _on_publication(sessions: sessionmaker[Session]) -> Any:
    def handle(evt: Event) -> None:
        code = evt.payload.get("code") or evt.payload.get("resource_code")
        if isinstance(code, str):
            sync_table(sessions, code)

    return handle


def _forget(cache: ResourceCache) -> Any:
    def handle(evt: Event) -> None:
        code = evt.payload.get("code")
        cache.forget(code if isinstance(code, str) else None)

    return handle


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    sessions: sessionmaker[Session] = app.state.sessions
    meter = Meter(sessions, settings)
    meter.start()
    setattr(app.state, METER, meter)
    for topic in PUBLICATION_TOPICS:
        app.state.bus.subscribe(topic, _on_publication(sessions))
    app.state.bus.subscribe("catalog.resource.*", _forget(cache_of(app)))
    keeper = Housekeeper(sessions)
    keeper.start()
    try:
        yield
    finally:
        keeper.stop()
        meter.close()


def cache_of(app: Any) -> ResourceCache:
    cache: ResourceCache | None = getattr(app.state, CACHE, None)
    if cache is None:
        cache = ResourceCache()
        setattr(app.state, CACHE, cache)
    return cache


def gate_of(app: Any) -> threading.BoundedSemaphore:
    """Data calls running at once: the connection pool's size, so that calls queue for a
    pooled connection instead of opening and closing overflow connections."""
    gate: threading.BoundedSemaphore | None = getattr(app.state, GATE, None)
    if gate is None:
        size = getattr(app.state.engine.pool, "size", lambda: 8)()
        gate = threading.BoundedSemaphore(max(2, int(size)))
        setattr(app.state, GATE, gate)
    return gate


def meter_of(app: Any) -> Meter:
    """The app's meter; one writing at once when the lifespan did not run (scripts)."""
    meter: Meter | None = getattr(app.state, METER, None)
    if meter is None:
        meter = Meter(app.state.sessions, 0)
        setattr(app.state, METER, meter)
    return meter
