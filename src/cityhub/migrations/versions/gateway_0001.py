"""gateway: applications, keys, counters (rate limit and quota), sharing requests, grants, usage

Revision ID: gateway_0001
Revises: foundation_0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0001"
down_revision: str | Sequence[str] | None = "foundation_0002"
branch_labels: str | Sequence[str] | None = ("gateway",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gateway_usage",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_usage")),
    )
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gateway_usage_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_gateway_usage_day"), ["day"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_usage_resource_code"), ["resource_code"], unique=False
        )

    op.create_table(
        "gateway_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.String(length=64), nullable=False),
        sa.Column("contact_phone", sa.String(length=32), nullable=False),
        sa.Column("contact_email", sa.String(length=128), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "suspended", name="appstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("rate_limit", sa.Integer(), nullable=False),
        sa.Column("burst", sa.Integer(), nullable=False),
        sa.Column("daily_calls", sa.BigInteger(), nullable=False),
        sa.Column("daily_rows", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_gateway_applications_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_gateway_applications_owner_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_applications")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_gateway_applications_organization_id")
        ),
    )
    with op.batch_alter_table("gateway_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_applications_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_applications_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "gateway_application_keys",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_keys.id"],
            name=op.f("fk_gateway_application_keys_api_key_id_api_keys"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["gateway_applications.id"],
            name=op.f("fk_gateway_application_keys_application_id_gateway_applications"),
        ),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_gateway_application_keys")),
    )
    with op.batch_alter_table("gateway_application_keys", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_application_keys_application_id"),
            ["application_id"],
            unique=False,
        )

    op.create_table(
        "gateway_counters",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["gateway_applications.id"],
            name=op.f("fk_gateway_counters_application_id_gateway_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_gateway_counters")),
    )
    op.create_table(
        "gateway_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("all_items", sa.Boolean(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("clear_items", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "granted",
                "approved",
                "rejected",
                "withdrawn",
                name="requeststatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_late", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["gateway_applications.id"],
            name=op.f("fk_gateway_requests_application_id_gateway_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_gateway_requests_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_gateway_requests_provider_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"], ["users.id"], name=op.f("fk_gateway_requests_requester_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_requests")),
    )
    with op.batch_alter_table("gateway_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_requests_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_requests_deadline"), ["deadline"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_requests_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_requests_resource_code"), ["resource_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gateway_requests_status"), ["status"], unique=False)

    op.create_table(
        "gateway_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("all_items", sa.Boolean(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("clear_items", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=False),
        sa.Column("expired_noted", sa.Boolean(), nullable=False),
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["gateway_applications.id"],
            name=op.f("fk_gateway_grants_application_id_gateway_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["organizations.id"],
            name=op.f("fk_gateway_grants_provider_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["gateway_requests.id"],
            name=op.f("fk_gateway_grants_request_id_gateway_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_gateway_grants_revoked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_grants")),
        sa.UniqueConstraint("request_id", name=op.f("uq_gateway_grants_request_id")),
    )
    with op.batch_alter_table("gateway_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_gateway_grants_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_grants_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_grants_provider_id"), ["provider_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_gateway_grants_resource_code"), ["resource_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("gateway_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_grants_resource_code"))
        batch_op.drop_index(batch_op.f("ix_gateway_grants_provider_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_grants_expires_at"))
        batch_op.drop_index(batch_op.f("ix_gateway_grants_application_id"))

    op.drop_table("gateway_grants")
    with op.batch_alter_table("gateway_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_requests_status"))
        batch_op.drop_index(batch_op.f("ix_gateway_requests_resource_code"))
        batch_op.drop_index(batch_op.f("ix_gateway_requests_provider_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_requests_deadline"))
        batch_op.drop_index(batch_op.f("ix_gateway_requests_application_id"))

    op.drop_table("gateway_requests")
    op.drop_table("gateway_counters")
    with op.batch_alter_table("gateway_application_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_application_keys_application_id"))

    op.drop_table("gateway_application_keys")
    with op.batch_alter_table("gateway_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_applications_owner_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_applications_organization_id"))

    op.drop_table("gateway_applications")
    with op.batch_alter_table("gateway_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gateway_usage_resource_code"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_provider_id"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_day"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_at"))
        batch_op.drop_index(batch_op.f("ix_gateway_usage_application_id"))

    op.drop_table("gateway_usage")
