"""sensing: 1-hour rollups partitioned by time on PostgreSQL (monthly, like the 1-minute
ones); raw readings in a WITHOUT ROWID table on SQLite; webhook secrets SM4-encrypted

PostgreSQL: the plain telemetry_rollup_1h is renamed, a partitioned one takes its name,
the partitions its rows need are made (schema `cityhub_partitions`), the rows are copied
and the old table dropped. SQLite has no partitioning; there telemetry_points is rebuilt
WITHOUT ROWID (rows stored in the primary key's B-tree: one insert per reading, not two).

Webhook secrets still in clear are encrypted with the SM4 key derived from
CITYHUB_SECRET_KEY (the settings of the environment the migration runs in, or those handed
over as `config.attributes["settings"]`); the downgrade decrypts them.

Revision ID: sensing_0002
Revises: sensing_0001
Create Date: 2026-11-26 11:20:00
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from cityhub.security import sm4
from cityhub.sensing import partitions, webhooks
from cityhub.settings import Settings, load_settings

revision: str = "sensing_0002"
down_revision: str | Sequence[str] | None = "sensing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "telemetry_rollup_1h"
OLD = "telemetry_rollup_1h_plain"


def _rollup_table(name: str, partitioned: bool) -> None:
    extra: dict[str, Any] = {"postgresql_partition_by": "RANGE (bucket_ms)"} if partitioned else {}
    op.create_table(
        name,
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("bucket_ms", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("vmin", sa.Float(), nullable=False),
        sa.Column("vmax", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "metric_id", "bucket_ms", name=f"pk_{TABLE}"),
        **extra,
    )


def _rebuild(partitioned: bool) -> None:
    """Swap telemetry_rollup_1h for a (non-)partitioned copy holding the same rows."""
    conn = op.get_bind()
    op.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{OLD}"')
    op.execute(f'ALTER TABLE "{OLD}" RENAME CONSTRAINT "pk_{TABLE}" TO "pk_{OLD}"')
    _rollup_table(TABLE, partitioned)
    lo, hi = conn.execute(sa.text(f'SELECT min(bucket_ms), max(bucket_ms) FROM "{OLD}"')).one()
    if partitioned and lo is not None:
        spans = partitions.spans_between(partitions.ROLLUP_1H, int(lo), int(hi))
        partitions.create_on(conn, partitions.ROLLUP_1H, spans)
    op.execute(f'INSERT INTO "{TABLE}" SELECT * FROM "{OLD}"')
    op.drop_table(OLD)
    partitions.forget_known()


def _sqlite_points(with_rowid: bool) -> None:
    """Rebuild telemetry_points on SQLite with or without a rowid, rows kept."""
    op.create_table(
        "telemetry_points_new",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "metric_id", "ts_ms", name="pk_telemetry_points"),
        sqlite_with_rowid=with_rowid,
    )
    op.execute(
        "INSERT INTO telemetry_points_new (device_id, metric_id, ts_ms, value) "
        "SELECT device_id, metric_id, ts_ms, value FROM telemetry_points"
    )
    op.drop_table("telemetry_points")
    op.rename_table("telemetry_points_new", "telemetry_points")


def _settings() -> Settings:
    config = op.get_context().config
    given = config.attributes.get("settings") if config is not None else None
    return given if isinstance(given, Settings) else load_settings()


def _convert_secrets(encrypt: bool) -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, secret FROM sensing_webhooks")).all()
    if not rows:
        return
    settings = _settings()
    update = sa.text("UPDATE sensing_webhooks SET secret = :secret WHERE id = :id")
    for row_id, stored in rows:
        if sm4.is_encrypted(stored) == encrypt:
            continue
        value = webhooks.seal(settings, stored) if encrypt else webhooks.unseal(settings, stored)
        conn.execute(update, {"secret": value, "id": row_id})


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(partitioned=True)
    else:
        _sqlite_points(with_rowid=False)
    _convert_secrets(encrypt=True)


def downgrade() -> None:
    _convert_secrets(encrypt=False)
    if op.get_bind().dialect.name == "postgresql":
        _rebuild(partitioned=False)
    else:
        _sqlite_points(with_rowid=True)
