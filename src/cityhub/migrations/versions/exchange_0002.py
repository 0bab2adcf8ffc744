"""exchange: the change log packed in blocks of keys (one row per merge chunk's keys)

Revision ID: exchange_0002
Revises: exchange_0001
Create Date: 2026-11-26 17:40:00.000000

One `exchange_changes` row per changed key (three indexes) cost a delivery of millions of
rows as much as a sixth of its time. A block holds the keys of consecutive changes
`seq_first`..`seq_last` as a JSON array; the stored changes move as they are, runs of
consecutive numbers of one resource and batch become blocks of up to 10,000 keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "exchange_0002"
down_revision: str | Sequence[str] | None = "exchange_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BLOCK = 10_000
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _blocks_table() -> sa.TableClause:
    return sa.table(
        "exchange_change_blocks",
        sa.column("resource_code", sa.String()),
        sa.column("seq_first", sa.BigInteger()),
        sa.column("seq_last", sa.BigInteger()),
        sa.column("batch_id", sa.Integer()),
        sa.column("keys", sa.Text()),
        sa.column("at", sa.DateTime(timezone=True)),
    )


def _changes_table() -> sa.TableClause:
    return sa.table(
        "exchange_changes",
        sa.column("resource_code", sa.String()),
        sa.column("seq", sa.BigInteger()),
        sa.column("batch_id", sa.Integer()),
        sa.column("key", sa.Text()),
        sa.column("at", sa.DateTime(timezone=True)),
    )


def _runs(rows: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Consecutive changes of one resource and batch, as blocks."""
    block: dict[str, Any] | None = None
    for code, seq, batch_id, key, at in rows:
        if (
            block is None
            or block["resource_code"] != code
            or block["batch_id"] != batch_id
            or block["seq_last"] + 1 != seq
            or len(block["keys"]) >= _BLOCK
        ):
            if block is not None:
                yield block
            block = {"resource_code": code, "seq_first": seq, "seq_last": seq,
                     "batch_id": batch_id, "keys": [], "at": at}  # fmt: skip
        block["keys"].append(key)
        block["seq_last"] = seq
    if block is not None:
        yield block


def upgrade() -> None:
    op.create_table(
        "exchange_change_blocks",
        sa.Column("id", _BIGINT, nullable=False),
        sa.Column("resource_code", sa.String(length=64), nullable=False),
        sa.Column("seq_first", sa.BigInteger(), nullable=False),
        sa.Column("seq_last", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_change_blocks")),
        sa.UniqueConstraint(
            "resource_code", "seq_last", name=op.f("uq_exchange_change_blocks_resource_code")
        ),
    )
    with op.batch_alter_table("exchange_change_blocks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exchange_change_blocks_batch_id"), ["batch_id"], unique=False
        )
    conn = op.get_bind()
    old = _changes_table()
    rows = conn.execute(
        sa.select(old.c.resource_code, old.c.seq, old.c.batch_id, old.c.key, old.c.at).order_by(
            old.c.resource_code, old.c.seq
        )
    )
    blocks = _blocks_table()
    pending: list[dict[str, Any]] = []
    for block in _runs(iter(rows)):
        pending.append({**block, "keys": json.dumps(block["keys"], ensure_ascii=False)})
        if len(pending) >= 100:
            conn.execute(blocks.insert(), pending)
            pending = []
    if pending:
        conn.execute(blocks.insert(), pending)
    with op.batch_alter_table("exchange_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_changes_batch_id"))
    op.drop_table("exchange_changes")


def downgrade() -> None:
    op.create_table(
        "exchange_changes",
        sa.Column("id", _BIGINT, nullable=False),
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
    conn = op.get_bind()
    blocks = _blocks_table()
    old = _changes_table()
    rows = conn.execute(
        sa.select(
            blocks.c.resource_code, blocks.c.seq_first, blocks.c.batch_id, blocks.c["keys"],
            blocks.c.at,
        ).order_by(blocks.c.resource_code, blocks.c.seq_last)
    )  # fmt: skip
    for code, first, batch_id, keys, at in rows:
        values = [
            {"resource_code": code, "seq": first + i, "batch_id": batch_id, "key": key, "at": at}
            for i, key in enumerate(json.loads(keys))
        ]
        if values:
            conn.execute(old.insert(), values)
    with op.batch_alter_table("exchange_change_blocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exchange_change_blocks_batch_id"))
    op.drop_table("exchange_change_blocks")
