"""Fixtures shared by the whole suite.

The suite runs on SQLite by default and on PostgreSQL when CITYHUB_TEST_DATABASE_URL is
set: a private schema is migrated once per run and emptied between tests.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.app import create_app
from cityhub.core.db import make_engine, session_factory, transaction
from cityhub.core.migrations import upgrade
from cityhub.directory.models import Organization, OrgKind
from cityhub.directory.regions import seed_regions
from cityhub.models import metadata
from cityhub.security import service
from cityhub.security.models import Role
from cityhub.settings import Settings

PG_URL = os.environ.get("CITYHUB_TEST_DATABASE_URL", "")
KEEP = {"alembic_version", "regions"}  # reference data survives between tests


def _base_settings(tmp: Path, url: str) -> Settings:
    return Settings(database_url=url, data_dir=tmp, demo_mode=True, log_level="WARNING")


@pytest.fixture(autouse=True)
def _no_background_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in tests run no periodic jobs: on SQLite a job's write would race the
    test's own (database is locked). A test of background work sets it back to true."""
    monkeypatch.setenv("CITYHUB_SCHEDULER_ENABLED", "false")
    # Reads' audit rows are written at once, so a test can read them back at once.
    monkeypatch.setenv("CITYHUB_AUDIT_FLUSH_SECONDS", "0")


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with the regions loaded, made once per run."""
    tmp = tmp_path_factory.mktemp("template")
    if PG_URL:
        schema = f"cityhub_test_{uuid.uuid4().hex[:8]}"
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp / 'template.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        seed_regions(session, _base_settings(tmp, url))
    engine.dispose()
    yield url
    if PG_URL:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_tables(engine: Engine) -> None:
    names = [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP]
    with engine.begin() as conn:
        # Between tests only: replica mode silences the audit log's append-only triggers.
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE"))
        # Resources' data tables are made at run time, outside the models: drop them too.
        for (table,) in conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE 'ds\\_%'"
            )
        ):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))


@pytest.fixture
def settings(template_url: str, tmp_path: Path) -> Settings:
    """Settings for a database of our own: a copy of the template, or the emptied schema."""
    if PG_URL:
        engine = make_engine(template_url)
        _empty_tables(engine)
        engine.dispose()
        return _base_settings(tmp_path, template_url)
    db = tmp_path / "cityhub.db"
    shutil.copyfile(template_url.removeprefix("sqlite:///"), db)
    return _base_settings(tmp_path, f"sqlite:///{db}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the test database, for arranging and inspecting state."""
    engine = make_engine(settings.effective_database_url)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def org(db: sessionmaker[Session]) -> Callable[..., Organization]:
    """Create an organization: org("LYGA", "临沂市公安局")."""

    def make(
        code: str = "LYDSJ",
        name: str = "临沂市大数据局",
        kind: OrgKind = OrgKind.government,
        region_code: str | None = "371300",
    ) -> Organization:
        with transaction(db) as session:
            row = Organization(code=code, name_zh=name, kind=kind, region_code=region_code)
            session.add(row)
        return row

    return make


@pytest.fixture
def auth(
    db: sessionmaker[Session], org: Callable[..., Organization]
) -> Callable[..., dict[str, str]]:
    """Headers of a new user with the given roles: auth(Role.platform_admin)."""
    made: dict[str, Organization] = {}

    def headers(
        *roles: Role, org_code: str = "LYDSJ", username: str | None = None
    ) -> dict[str, str]:
        with transaction(db) as session:
            if org_code not in made:
                existing = session.query(Organization).filter_by(code=org_code).one_or_none()
                made[org_code] = existing or org(org_code, f"测试单位 {org_code}")
            name = username or f"u{uuid.uuid4().hex[:8]}"
            user = service.create_user(
                session,
                username=name,
                organization_id=made[org_code].id,
                roles=set(roles),
                password="Passw0rd!x",
            )
            _, raw = service.create_api_key(session, user, "test")
        return {"Authorization": f"Bearer {raw}"}

    return headers
