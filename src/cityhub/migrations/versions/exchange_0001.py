"""exchange: batches, rules, column mappings, quarantine, change log, connectors, webhooks

Revision ID: exchange_0001
Revises: foundation_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "exchange_0001"
down_revision: str | Sequence[str] | None = "foundation_0002"
branch_labels: str | Sequence[str] | None = ("exchange",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exchange_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_changes")),
        sa.UniqueConstraint("resource_code", "seq", name=op.f("uq_exchange_changes_resource_code")),
    )
    with op.batch_alter_table("exchange_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_changes_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "exchange_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_mappings")),
        sa.UniqueConstraint(
            "resource_code", "source", name=op.f("uq_exchange_mappings_resource_code")
        ),
    )
    with op.batch_alter_table("exchange_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_mappings_resource_code"), ["resource_code"], unique=False
        )

    op.create_table(
        "exchange_rules",
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("resource_code", name=op.f("pk_exchange_rules")),
    )
    op.create_table(
        "exchange_state",
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.Column("last_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("resource_code", name=op.f("pk_exchange_state")),
    )
    op.create_table(
        "exchange_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "source_kind",
            sa.Enum(
                "upload", "resubmit", "http", "sql", name="sourcekind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum("full", "incremental", name="mode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "format",
            sa.Enum(
                "csv",
                "xlsx",
                "json",
                "ndjson",
                "parquet",
                name="fileformat",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("encoding", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=False),
        sa.Column("deletions_path", sa.String(length=500), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "running",
                "completed",
                "failed",
                "duplicate",
                name="batchstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("rows_in", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.BigInteger(), nullable=False),
        sa.Column("quality", sa.JSON(), nullable=False),
        sa.Column("high_water", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_exchange_batches_provider_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_batches")),
    )
    with op.batch_alter_table("exchange_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_batches_connector_id"), ["connector_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_batches_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_batches_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_batches_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(
            "ix_exchange_batches_resource_digest", ["resource_code", "digest"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exchange_batches_status"), ["status"], unique=False)

    op.create_table(
        "exchange_connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("http", "sql", name="connectorkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column(
            "mode",
            sa.Enum("full", "incremental", name="mode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("interval_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("high_water", sa.Text(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_exchange_connectors_provider_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_connectors")),
        sa.UniqueConstraint("name", name=op.f("uq_exchange_connectors_name")),
    )
    with op.batch_alter_table("exchange_connectors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_connectors_next_run_at"), ["next_run_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_connectors_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_connectors_resource_code"), ["resource_code"], unique=False
        )

    op.create_table(
        "exchange_quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.BigInteger(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "resubmitted", name="quarantinestatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("resubmitted_batch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["exchange_batches.id"],
            name=op.f("fk_exchange_quarantine_batch_id_exchange_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_quarantine")),
    )
    with op.batch_alter_table("exchange_quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_quarantine_batch_id"), ["batch_id"], unique=False
        )

    op.create_table(
        "exchange_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["gateway_applications.id"],
            name=op.f("fk_exchange_subscriptions_application_id_gateway_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_subscriptions")),
    )
    with op.batch_alter_table("exchange_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_subscriptions_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_subscriptions_resource_code"), ["resource_code"], unique=False
        )

    op.create_table(
        "exchange_webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("from_seq", sa.BigInteger(), nullable=False),
        sa.Column("to_seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending", "delivered", "dead", name="webhookstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["exchange_subscriptions.id"],
            name=op.f("fk_exchange_webhook_deliveries_subscription_id_exchange_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_webhook_deliveries")),
    )
    with op.batch_alter_table("exchange_webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_webhook_deliveries_next_attempt_at"),
            ["next_attempt_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_webhook_deliveries_status"), ["status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exchange_webhook_deliveries_subscription_id"),
            ["subscription_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("exchange_webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_webhook_deliveries_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_webhook_deliveries_status"))
        batch_op.drop_index(batch_op.f("ix_exchange_webhook_deliveries_next_attempt_at"))

    op.drop_table("exchange_webhook_deliveries")
    with op.batch_alter_table("exchange_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_subscriptions_resource_code"))
        batch_op.drop_index(batch_op.f("ix_exchange_subscriptions_application_id"))

    op.drop_table("exchange_subscriptions")
    with op.batch_alter_table("exchange_quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_quarantine_batch_id"))

    op.drop_table("exchange_quarantine")
    with op.batch_alter_table("exchange_connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_connectors_resource_code"))
        batch_op.drop_index(batch_op.f("ix_exchange_connectors_provider_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_connectors_next_run_at"))

    op.drop_table("exchange_connectors")
    with op.batch_alter_table("exchange_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_batches_status"))
        batch_op.drop_index("ix_exchange_batches_resource_digest")
        batch_op.drop_index(batch_op.f("ix_exchange_batches_resource_code"))
        batch_op.drop_index(batch_op.f("ix_exchange_batches_provider_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_batches_parent_id"))
        batch_op.drop_index(batch_op.f("ix_exchange_batches_connector_id"))

    op.drop_table("exchange_batches")
    op.drop_table("exchange_state")
    op.drop_table("exchange_rules")
    with op.batch_alter_table("exchange_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_mappings_resource_code"))

    op.drop_table("exchange_mappings")
    with op.batch_alter_table("exchange_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_changes_batch_id"))

    op.drop_table("exchange_changes")
