"""Tables of the ledger: the log (entries and tree nodes), signed heads, keys and witnesses.

Entries and nodes are append-only by the platform's own code; `cityhub ledger audit`
recomputes them to catch any row changed behind the platform's back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityhub.core.db import Base, utcnow

BigId = BigInteger().with_variant(Integer, "sqlite")


class Ledger(Base):
    """One append-only log; its hash algorithm is fixed when it is created."""

    __tablename__ = "ledgers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    origin: Mapped[str] = mapped_column(String(200))  # names the log inside signed heads
    hash_alg: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Every outbox id <= scan_floor has been sequenced or is not notarized.
    scan_floor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerEntry(Base):
    """A leaf: canonical JSON (RFC 8785) of digests and metadata, never personal data.

    Its tree hashes live in `ledger_tiles`.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        # Partial: entries without an event (or a resource, a batch) cost no index work.
        Index(
            "uq_ledger_entries_event",
            "ledger_id",
            "event_id",
            unique=True,
            sqlite_where=text("event_id IS NOT NULL"),
            postgresql_where=text("event_id IS NOT NULL"),
        ),
        Index(
            "ix_ledger_entries_resource",
            "ledger_id",
            "resource_code",
            sqlite_where=text("resource_code IS NOT NULL"),
            postgresql_where=text("resource_code IS NOT NULL"),
        ),
        Index(
            "ix_ledger_entries_batch",
            "ledger_id",
            "batch_ref",
            sqlite_where=text("batch_ref IS NOT NULL"),
            postgresql_where=text("batch_ref IS NOT NULL"),
        ),
    )

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    topic: Mapped[str] = mapped_column(String(128))
    resource_code: Mapped[str | None] = mapped_column(String(64), default=None)
    batch_ref: Mapped[str | None] = mapped_column(String(64), default=None)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerTile(Base):
    """The tree hashes of one level, 256 at a time (tlog tiles): node (level, i) is the
    32 bytes at (i % 256) * 32 of tile (level, i // 256). Full tiles never change; the
    right edge's partial tile of each level is rewritten by the next append."""

    __tablename__ = "ledger_tiles"

    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary)


class LedgerKey(Base):
    """Public half of every key the platform ever signed heads with."""

    __tablename__ = "ledger_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerHead(Base):
    """A signed tree head: (size, root, time) under the platform key."""

    __tablename__ = "ledger_heads"
    __table_args__ = (Index("ix_ledger_heads_size", "ledger_id", "size"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ledger_id: Mapped[int] = mapped_column(ForeignKey("ledgers.id"))
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(ForeignKey("ledger_keys.key_id"))
    algorithm: Mapped[str] = mapped_column(String(16))
    signature: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerWitness(Base):
    """A department's witness key: it cosigns heads after checking their consistency."""

    __tablename__ = "ledger_witnesses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(128))
    key_id: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerCosignature(Base):
    __tablename__ = "ledger_cosignatures"
    __table_args__ = (
        UniqueConstraint("head_id", "witness_id", name="uq_ledger_cosignatures_pair"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    head_id: Mapped[int] = mapped_column(ForeignKey("ledger_heads.id"))
    witness_id: Mapped[int] = mapped_column(ForeignKey("ledger_witnesses.id"), index=True)
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[bytes] = mapped_column(LargeBinary(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerAuditRun(Base):
    """One run of the tamper audit, with what it found (JSON list)."""

    __tablename__ = "ledger_audit_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))  # cli | schedule | api
    ok: Mapped[bool] = mapped_column(Boolean)
    checked: Mapped[int] = mapped_column(BigInteger, default=0)
    findings: Mapped[str] = mapped_column(Text, default="[]")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
