"""Fixtures of the indicator and cockpit tests: sensing profiles, an operator, a small
population library written straight into its golden-record table."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.errors import Conflict
from cityhub.library import golden
from cityhub.library.specs import POPULATION
from cityhub.security.models import Role
from cityhub.sensing.alarms import rules_changed
from cityhub.sensing.profiles import ensure_builtin
from cityhub.sensing.registry import forget_everywhere

Auth = Callable[..., dict[str, str]]


@pytest.fixture(autouse=True)
def _background_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cockpit is refreshed by its jobs: here they run, as on a server."""
    monkeypatch.setenv("CITYHUB_SCHEDULER_ENABLED", "true")


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test has its own database: forget devices and rules an earlier one cached."""
    forget_everywhere()
    rules_changed()


@pytest.fixture
def operator(auth: Auth, db: sessionmaker[Session]) -> dict[str, str]:
    with transaction(db) as session:
        ensure_builtin(session)
    return auth(Role.operator, org_code="LYZHYY", username="ops")


@pytest.fixture
def residents(db: sessionmaker[Session]) -> Callable[[dict[str, int], int], None]:
    """residents({"371302": 3, "371311": 2}, dead=1): rows in the population library."""

    def make(by_region: dict[str, int], dead: int = 0) -> None:
        layout = POPULATION.layout
        rows, n = [], 0
        for region, count in by_region.items():
            for k in range(count + (dead if region == next(iter(by_region)) else 0)):
                n += 1
                rows.append(
                    {
                        "gmsfhm": f"{region}{n:012d}",
                        "xm": f"居民{n}",
                        "hjqh": region,
                        "swrq": utcnow().date() if k >= count else None,
                        golden.REGION: region,
                        golden.HASH: n,
                        "_updated_at": utcnow(),
                    }
                )
        for attempt in range(10):
            try:
                with transaction(db) as session:
                    conn = session.connection()
                    golden.ensure(conn, layout, parts=sorted(by_region))
                    conn.execute(insert(golden.table(layout)), rows)
                return
            except (OperationalError, Conflict):
                # SQLite refuses at once a read transaction turning writer while the app's
                # background jobs write (no busy wait for that): try again.
                if attempt == 9:
                    raise
                time.sleep(0.3)

    return make
