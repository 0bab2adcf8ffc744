"""The demo city's indicators: computed once the demo world is built, with 30 days of
history for the daily ones, so the cockpit shows real numbers from the start."""

from __future__ import annotations

from sqlalchemy import Engine

from cityhub.core.db import session_factory
from cityhub.indicators import service
from cityhub.settings import Settings


def build(settings: Settings, engine: Engine, days: int = 30) -> service.Outcome:
    factory = session_factory(engine)
    service.register_builtins()
    service.backfill(factory, settings, days)
    return service.recompute(factory, settings)
