"""`cityhub gateway ...`: tables, expiry, overdue requests and usage from the console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from cityhub.cli import main
from cityhub.core.db import transaction
from cityhub.gateway.models import Grant, SharingRequest
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.security.models import Role
from cityhub.settings import Settings

from .conftest import Gw
from .helpers import PEOPLE


@pytest.fixture
def run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    for name in ("CITYHUB_DATABASE_URL", "CITYHUB_SECRET_KEY", "CITYHUB_DEMO_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    env = {
        "CITYHUB_DATABASE_URL": settings.effective_database_url,
        "CITYHUB_DATA_DIR": str(tmp_path / "data"),
        "CITYHUB_LOG_LEVEL": "WARNING",
    }
    return lambda *args: CliRunner().invoke(main, ["gateway", *args], env=env)


def test_console_commands(people: Gw, run: Callable[..., Result]) -> None:
    gw = people
    dev = gw.person(Role.developer)
    late = gw.request(dev, gw.app(dev), PEOPLE).json()
    _key, _app = gw.granted_key(PEOPLE, dev=gw.person(Role.developer, org="LYWL"))
    today = Calendar.from_settings(gw.settings).today()
    with transaction(gw.db) as session:
        session.execute(
            update(SharingRequest)
            .where(SharingRequest.id == late["id"])
            .values(deadline=today - timedelta(days=5))
        )
        grant = session.scalars(select(Grant)).one()
        grant.expires_at = grant.starts_at

    overdue = run("overdue")
    assert overdue.exit_code == 0, overdue.output
    assert "LYGA" in overdue.output and " 1 " in overdue.output

    expired = run("expire")
    assert expired.exit_code == 0 and "1 grant(s) expired" in expired.output
    assert "0 grant(s) expired" in run("expire").output

    with transaction(gw.db) as session:
        ds.drop(session.connection(), PEOPLE)
    tables = run("tables")
    assert tables.exit_code == 0 and f"{PEOPLE}" in tables.output and "created" in tables.output

    report = run("usage", "--days", "3")
    assert report.exit_code == 0 and "calls" in report.output
    bad = run("usage", "--days", "9999")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
