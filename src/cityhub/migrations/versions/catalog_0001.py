"""catalog: information resources, items, coverage, keywords, versions, workflow steps;
full-text search (SQLite FTS5 trigram table, PostgreSQL pg_trgm GIN index)

Revision ID: catalog_0001
Revises: foundation_0002
Create Date: 2026-11-26 07:57:18.942956
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "catalog_0001"
down_revision: str | Sequence[str] | None = "foundation_0002"
branch_labels: str | Sequence[str] | None = ("catalog",)
depends_on: str | Sequence[str] | None = None

# SQLite: an external-content FTS5 table over (name, search_text), kept in step by triggers,
# so every change to a resource reindexes it in the same transaction.
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE catalog_fts USING fts5(name, search_text, "
    "content='catalog_resources', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER catalog_fts_ai AFTER INSERT ON catalog_resources BEGIN "
    "INSERT INTO catalog_fts(rowid, name, search_text) "
    "VALUES (new.id, new.name, new.search_text); END",
    "CREATE TRIGGER catalog_fts_ad AFTER DELETE ON catalog_resources BEGIN "
    "INSERT INTO catalog_fts(catalog_fts, rowid, name, search_text) "
    "VALUES ('delete', old.id, old.name, old.search_text); END",
    "CREATE TRIGGER catalog_fts_au AFTER UPDATE OF name, search_text ON catalog_resources "
    "BEGIN "
    "INSERT INTO catalog_fts(catalog_fts, rowid, name, search_text) "
    "VALUES ('delete', old.id, old.name, old.search_text); "
    "INSERT INTO catalog_fts(rowid, name, search_text) "
    "VALUES (new.id, new.name, new.search_text); END",
)


def _enum(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def _pg_trgm_schema() -> str:
    """Install pg_trgm once per database (in public) and say where it lives."""
    bind = op.get_bind()
    found = bind.execute(
        sa.text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    if found is None:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
        found = "public"
    return str(found)


def upgrade() -> None:
    op.create_table(
        "catalog_resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column(
            "category",
            _enum("basic", "theme", "topic", "business", "department", name="category"),
            nullable=False,
        ),
        sa.Column("format", _enum("table", "file", "api", name="resourceformat"), nullable=False),
        sa.Column(
            "share_type",
            _enum("unconditional", "conditional", "none", name="sharetype"),
            nullable=False,
        ),
        sa.Column("share_condition", sa.Text(), nullable=False),
        sa.Column(
            "sharing_method", _enum("database", "api", "file", name="sharingmethod"), nullable=True
        ),
        sa.Column(
            "open_type", _enum("open", "conditional", "closed", name="opentype"), nullable=False
        ),
        sa.Column("open_condition", sa.Text(), nullable=False),
        sa.Column(
            "update_cycle",
            _enum(
                "realtime", "daily", "weekly", "monthly", "quarterly", "yearly", name="updatecycle"
            ),
            nullable=False,
        ),
        sa.Column("related_codes", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            _enum("draft", "in_review", "published", "withdrawn", name="status"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("publish_date", sa.Date(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("region_key", sa.String(length=400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_catalog_resources_provider_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_resources")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_resources_code")),
    )
    with op.batch_alter_table("catalog_resources", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_resources_publish_date"), ["publish_date"])
        batch_op.create_index("ix_catalog_resources_name_id", ["name", "id"])
        batch_op.create_index("ix_catalog_resources_updated_id", ["updated_at", "id"])
        batch_op.create_index(
            "ix_catalog_resources_facets",
            [
                "provider_id",
                "status",
                "open_type",
                "category",
                "share_type",
                "update_cycle",
                "format",
                "region_key",
            ],
        )

    if op.get_bind().dialect.name == "postgresql":
        schema = _pg_trgm_schema()
        op.execute(
            "CREATE INDEX ix_catalog_resources_search_trgm ON catalog_resources "
            f'USING gin (search_text "{schema}".gin_trgm_ops)'
        )
    else:
        # Declared for PostgreSQL; on SQLite the FTS5 table does the job (WHERE 0: empty).
        op.create_index(
            "ix_catalog_resources_search_trgm",
            "catalog_resources",
            ["search_text"],
            sqlite_where=sa.text("0"),
        )
        for statement in _SQLITE_FTS:
            op.execute(statement)

    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column(
            "data_type",
            _enum(
                "string",
                "number",
                "currency",
                "date",
                "datetime",
                "boolean",
                "text",
                "binary",
                "double",
                "integer",
                "float",
                name="datatype",
            ),
            nullable=False,
        ),
        sa.Column("length", sa.Integer(), nullable=True),
        sa.Column("element_ref", sa.String(length=64), nullable=False),
        sa.Column(
            "sensitivity",
            _enum("public", "internal", "sensitive", "restricted", name="sensitivity"),
            nullable=False,
        ),
        sa.Column("masking", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_items_resource_id_catalog_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_items")),
        sa.UniqueConstraint("resource_id", "code", name=op.f("uq_catalog_items_resource_id")),
    )
    with op.batch_alter_table("catalog_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_items_resource_id"), ["resource_id"])

    op.create_table(
        "catalog_resource_keywords",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("keyword", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_resource_keywords_resource_id_catalog_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_id", "keyword", name=op.f("pk_catalog_resource_keywords")
        ),
    )
    with op.batch_alter_table("catalog_resource_keywords", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_resource_keywords_keyword"), ["keyword"])

    op.create_table(
        "catalog_resource_regions",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["regions.code"],
            name=op.f("fk_catalog_resource_regions_region_code_regions"),
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_resource_regions_resource_id_catalog_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "resource_id", "region_code", name=op.f("pk_catalog_resource_regions")
        ),
    )
    with op.batch_alter_table("catalog_resource_regions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_catalog_resource_regions_region_code"), ["region_code"]
        )

    op.create_table(
        "catalog_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_steps_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_steps")),
    )
    with op.batch_alter_table("catalog_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_steps_resource_id"), ["resource_id"])

    op.create_table(
        "catalog_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["catalog_resources.id"],
            name=op.f("fk_catalog_versions_resource_id_catalog_resources"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_versions")),
        sa.UniqueConstraint("resource_id", "version", name=op.f("uq_catalog_versions_resource_id")),
    )
    with op.batch_alter_table("catalog_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_versions_resource_id"), ["resource_id"])


def downgrade() -> None:
    for table in (
        "catalog_versions",
        "catalog_steps",
        "catalog_resource_regions",
        "catalog_resource_keywords",
        "catalog_items",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("catalog_fts_ai", "catalog_fts_ad", "catalog_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS catalog_fts")
    op.drop_table("catalog_resources")  # its indexes go with it
