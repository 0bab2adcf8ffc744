"""catalog: search state token, changed by triggers on every write to the resources and
their keywords (the in-memory search index checks it per query)

Revision ID: catalog_0002
Revises: catalog_0001
Create Date: 2026-11-26 14:40:00.000000
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0002"
down_revision: str | Sequence[str] | None = "catalog_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("catalog_resources", "catalog_resource_keywords")
_EVENTS = ("insert", "update", "delete")


def _pg_schema() -> str:
    return str(op.get_bind().execute(sa.text("SELECT current_schema()")).scalar())


def upgrade() -> None:
    op.create_table(
        "catalog_search_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_search_state")),
    )
    op.execute(
        sa.text("INSERT INTO catalog_search_state (id, token) VALUES (1, :t)").bindparams(
            t=uuid.uuid4().hex
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        schema = _pg_schema()
        # An upsert, not an update: a truncated state table comes back with the next write.
        # BEFORE the statement: a writer takes the state row's lock before any resource
        # row's, so two writers queue on it instead of crossing each other's row locks.
        op.execute(
            f'CREATE FUNCTION "{schema}".catalog_search_touch() RETURNS trigger '
            "LANGUAGE plpgsql AS $$ BEGIN "
            f'INSERT INTO "{schema}".catalog_search_state (id, token) '
            "VALUES (1, gen_random_uuid()::text) "
            "ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token; "
            "RETURN NULL; END $$"
        )
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_search_touch "
                f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".catalog_search_touch()'
            )
        return
    for table in _TABLES:
        for event in _EVENTS:
            op.execute(
                f"CREATE TRIGGER {table}_search_touch_{event} AFTER {event.upper()} ON {table} "
                "BEGIN INSERT OR REPLACE INTO catalog_search_state (id, token) "
                "VALUES (1, lower(hex(randomblob(16)))); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_touch ON {table}")
        op.execute(f'DROP FUNCTION IF EXISTS "{_pg_schema()}".catalog_search_touch()')
    else:
        for table in _TABLES:
            for event in _EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_search_touch_{event}")
    op.drop_table("catalog_search_state")
