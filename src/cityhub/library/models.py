"""Tables of the library: merges (one row per delivered batch and resource, the lineage
every golden field points to), the conflict log, per-partition content digests, the
key registry of plain resources, full-delivery bookkeeping and derivation state.

Golden records and resource rows themselves live in datastore tables (`ds_*`): data,
not schema, so they are not here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cityhub.core.db import Base, utcnow

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class LibraryMerge(Base):
    """A batch merged into one resource: who delivered it, when, and what it changed.

    Golden fields keep the id of the merge that set them (`_src_<field>` columns): one
    small integer per field gives provider, batch and time.
    """

    __tablename__ = "library_merges"
    __table_args__ = (UniqueConstraint("resource_code", "batch_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_code: Mapped[str] = mapped_column(String(64), index=True)
    library: Mapped[str] = mapped_column(String(32), default="", index=True)  # "" plain
    batch_id: Mapped[int] = mapped_column(BigInteger)
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    rows_in: Mapped[int] = mapped_column(BigInteger, default=0)
    inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, default=0)
    unchanged: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    conflicts: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LibraryConflict(Base):
    """Two providers disagreed on a field of a golden record, and which value stands."""

    __tablename__ = "library_conflicts"
    __table_args__ = (Index("ix_library_conflicts_record", "library", "record_key"),)

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    library: Mapped[str] = mapped_column(String(32), index=True)
    record_key: Mapped[str] = mapped_column(String(256))
    field: Mapped[str] = mapped_column(String(64))
    kept_value: Mapped[str | None] = mapped_column(Text, default=None)
    kept_merge_id: Mapped[int | None] = mapped_column(Integer, default=None)
    rejected_value: Mapped[str | None] = mapped_column(Text, default=None)
    rejected_merge_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # authority_kept | authority_applied | latest_applied
    resolution: Mapped[str] = mapped_column(String(24))
    merge_id: Mapped[int] = mapped_column(ForeignKey("library_merges.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LibraryDigestPart(Base):
    """Running content digest of one partition of a resource: row count, and the sum and
    XOR (mod 2^64, hex) of its row fingerprints; updated with every merge."""

    __tablename__ = "library_digest_parts"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    part: Mapped[str] = mapped_column(String(16), primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    fp_sum: Mapped[str] = mapped_column(String(16), default="0" * 16)
    fp_xor: Mapped[str] = mapped_column(String(16), default="0" * 16)


class LibraryKey(Base):
    """The key items of a plain (non-base) tabular resource; the catalog has no key flag."""

    __tablename__ = "library_keys"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    items: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class LibrarySeenKey(Base):
    """Keys a full delivery has carried so far; what it did not carry is removed when the
    batch finishes (`merge.finish_full`)."""

    __tablename__ = "library_seen_keys"

    resource_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)


class LibraryDirtyKey(Base):
    """Keys of an input whose derived rows must be recomputed (derivations)."""

    __tablename__ = "library_dirty_keys"

    derivation: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LibraryDerivationRun(Base):
    """One rebuild of a derived library: how many keys it recomputed and what changed."""

    __tablename__ = "library_derivation_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    derivation: Mapped[str] = mapped_column(String(32), index=True)
    full: Mapped[bool] = mapped_column(default=False)
    keys: Mapped[int] = mapped_column(BigInteger, default=0)
    inserted: Mapped[int] = mapped_column(BigInteger, default=0)
    updated: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    detail: Mapped[str] = mapped_column(Text, default="")
