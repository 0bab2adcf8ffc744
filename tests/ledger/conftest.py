"""Fixtures of the ledger tests: an app without the ledger's scheduled jobs (tests drive
the sequencer themselves), and helpers to emit notarized events."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import transaction
from cityhub.core.events import emit
from cityhub.settings import Settings


def ledger_copy(settings: Settings, **fields: Any) -> Settings:
    """The test settings with some CITYHUB_LEDGER_* values changed (names without it)."""
    return settings.model_copy(update={f"ledger_{k}": v for k, v in fields.items()})


@pytest.fixture
def ledger_settings(settings: Settings) -> Settings:
    return ledger_copy(settings, background=False, batch_size=50, gap_grace_seconds=0)


@pytest.fixture
def ledger_client(ledger_settings: Settings) -> Iterator[TestClient]:
    app = create_app(ledger_settings)
    with TestClient(app) as test_client:
        yield test_client


Emitter = Callable[..., list[int]]


@pytest.fixture
def emit_events(db: sessionmaker[Session]) -> Emitter:
    """emit_events(n, topic=..., **payload) -> the new event ids, committed."""

    def make(n: int = 1, topic: str = "gateway.grant.created", **payload: Any) -> list[int]:
        ids = []
        with transaction(db) as session:
            for i in range(n):
                data = {"grant_id": i, "resource_code": "LYGA-HJ-001", **payload}
                ids.append(emit(session, topic, data, actor="zhangsan").id)
        return ids

    return make
