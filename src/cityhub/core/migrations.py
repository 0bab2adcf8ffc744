"""Alembic migrations, applied by `cityhub init` and when the server starts."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK = 0x43_49_54_59  # "CITY": one migrator at a time across processes
# Tables without a model, which comparisons and autogenerate must leave alone:
# - SQLite full-text indexes: an FTS5 virtual table `<x>_fts` and the shadow tables SQLite
#   makes for it (migrations create them with raw SQL);
# - the datastore's data tables `ds_<resource>` (library.datastore.TABLE_PREFIX): data,
#   made at run time for published resources, not schema.
_UNMODELLED_TABLE = re.compile(r"^(\w+_fts(_(data|idx|content|docsize|config))?|ds_\w+)$")


def include_name(name: str | None, type_: NameFilterType, _parents: NameFilterParentNames) -> bool:
    """Alembic name filter: comparisons and autogenerate skip the unmodelled tables."""
    return not (type_ == "table" and name is not None and _UNMODELLED_TABLE.match(name))


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision of every branch (idempotent)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")


def pending(engine: Engine) -> set[str]:
    """Revisions not yet applied (empty when the schema is current)."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return set(script.get_heads()) - current
