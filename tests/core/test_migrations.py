from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cityhub.core.db import make_engine
from cityhub.core.migrations import include_name, pending, upgrade
from cityhub.models import metadata
from cityhub.settings import Settings


def test_migrations_match_the_models(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"include_name": include_name}), metadata
        )
    engine.dispose()
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_upgrade_is_idempotent_and_nothing_is_pending(settings: Settings) -> None:
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    upgrade(engine)
    assert pending(engine) == set()
    assert {"organizations", "regions", "users", "audit_events"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()
