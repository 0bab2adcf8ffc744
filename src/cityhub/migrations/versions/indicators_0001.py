"""indicators: time series of precomputed indicators, their latest values, cockpit snapshots

Revision ID: indicators_0001
Revises: foundation_0002
Create Date: 2026-11-26 10:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "indicators_0001"
down_revision: str | Sequence[str] | None = "foundation_0002"
branch_labels: str | Sequence[str] | None = ("indicators",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "indicator_values",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("code", "region_code", "at", name=op.f("pk_indicator_values")),
    )
    op.create_table(
        "indicator_latest",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.String(length=128), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", "region_code", name=op.f("pk_indicator_latest")),
    )
    op.create_table(
        "indicator_snapshots",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_indicator_snapshots")),
    )


def downgrade() -> None:
    op.drop_table("indicator_snapshots")
    op.drop_table("indicator_latest")
    op.drop_table("indicator_values")
