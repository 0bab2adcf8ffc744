"""ledger: tree hashes in tiles (256 hashes of one level per row) instead of per entry

Revision ID: ledger_0002
Revises: ledger_0001
Create Date: 2026-11-26 10:55:00.000000

The stored nodes move as they are (never recomputed from the entries, so a row changed
behind the platform's back stays visible to the audit): row i held the leaf hash of i
and the roots of the subtrees it closed; they go to tile (level, j // 256) at j % 256.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ledger_0002"
down_revision: str | Sequence[str] | None = "ledger_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TILE = 256 * 32
_CHUNK = 20_000
_PARTIAL = {
    "uq_ledger_entries_event": ("event_id", True),
    "ix_ledger_entries_resource": ("resource_code", False),
    "ix_ledger_entries_batch": ("batch_ref", False),
}


def _drop_indexes() -> None:
    for name in _PARTIAL:
        op.drop_index(name, table_name="ledger_entries")


def _create_indexes() -> None:
    for name, (column, unique) in _PARTIAL.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name,
            "ledger_entries",
            ["ledger_id", column],
            unique=unique,
            sqlite_where=where,
            postgresql_where=where,
        )


def _copy_nodes_to_tiles(conn: sa.Connection, tiles: sa.Table) -> None:
    for (ledger_id,) in conn.execute(sa.text("SELECT id FROM ledgers")).all():
        levels: list[bytearray] = []  # the current tile of each level
        done: list[int] = []  # full tiles written per level
        after = -1
        while True:
            rows = conn.execute(
                sa.text(
                    "SELECT idx, hashes FROM ledger_entries WHERE ledger_id = :l AND idx > :a "
                    "ORDER BY idx LIMIT :n"
                ),
                {"l": ledger_id, "a": after, "n": _CHUNK},
            ).all()
            if not rows:
                break
            full = []
            for idx, blob in rows:
                closes = ((idx + 1) & -(idx + 1)).bit_length()  # leaf + closed subtrees
                for level in range(min(closes, len(blob) // 32)):
                    if level == len(levels):
                        levels.append(bytearray())
                        done.append(0)
                    levels[level] += blob[32 * level : 32 * level + 32]
                    if len(levels[level]) == _TILE:
                        full.append({"l": ledger_id, "v": level, "i": done[level],
                                     "h": bytes(levels[level])})  # fmt: skip
                        levels[level] = bytearray()
                        done[level] += 1
            if full:
                conn.execute(tiles.insert().values(ledger_id=sa.bindparam("l"),
                             level=sa.bindparam("v"), idx=sa.bindparam("i"),
                             hashes=sa.bindparam("h")), full)  # fmt: skip
            after = rows[-1][0]
        rest = [
            {"ledger_id": ledger_id, "level": level, "idx": done[level], "hashes": bytes(buf)}
            for level, buf in enumerate(levels)
            if buf
        ]
        if rest:
            conn.execute(tiles.insert(), rest)


def upgrade() -> None:
    tiles = op.create_table(
        "ledger_tiles",
        sa.Column("ledger_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_ledger_tiles_ledger_id_ledgers")
        ),
        sa.PrimaryKeyConstraint("ledger_id", "level", "idx", name=op.f("pk_ledger_tiles")),
    )
    _copy_nodes_to_tiles(op.get_bind(), tiles)
    _drop_indexes()
    with op.batch_alter_table("ledger_entries", recreate="auto") as batch_op:
        batch_op.drop_column("hashes")
    _create_indexes()


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", recreate="auto") as batch_op:
        batch_op.add_column(sa.Column("hashes", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    tiles: dict[tuple[int, int, int], bytes] = {
        (lid, level, idx): bytes(blob)
        for lid, level, idx, blob in conn.execute(
            sa.text("SELECT ledger_id, level, idx, hashes FROM ledger_tiles")
        )
    }
    rows = []
    for lid, idx in conn.execute(sa.text("SELECT ledger_id, idx FROM ledger_entries")).all():
        parts = []
        for level in range(((idx + 1) & -(idx + 1)).bit_length()):
            j = ((idx + 1) >> level) - 1
            blob = tiles.get((lid, level, j >> 8), b"")
            parts.append(blob[(j & 255) * 32 : (j & 255) * 32 + 32])
        rows.append({"l": lid, "i": idx, "h": b"".join(parts)})
    if rows:
        conn.execute(
            sa.text("UPDATE ledger_entries SET hashes = :h WHERE ledger_id = :l AND idx = :i"),
            rows,
        )
    op.drop_table("ledger_tiles")
