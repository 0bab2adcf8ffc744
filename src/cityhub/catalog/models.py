"""Tables of the catalog: information resources, their items, coverage, keywords, versions
and workflow steps.

Full-text search: `search_text` holds the resource's searchable words, lower-cased. The
search runs over an in-memory copy (`search_index`), kept current through
`catalog_search_state`. The database indexes (PostgreSQL pg_trgm GIN; SQLite FTS5 trigram
table `catalog_fts`, kept in step by triggers) remain for queries written in SQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityhub.catalog.vocab import (
    Category,
    DataType,
    OpenType,
    ResourceFormat,
    Sensitivity,
    ShareType,
    SharingMethod,
    Status,
    UpdateCycle,
)
from cityhub.core.db import Base, utcnow

if TYPE_CHECKING:
    from cityhub.directory.models import Organization


def _enum(kind: Any) -> Enum:
    return Enum(kind, native_enum=False, length=16, validate_strings=True)


class Resource(Base):
    """An information resource (信息资源) with its GB/T 21063.3 core metadata."""

    __tablename__ = "catalog_resources"
    __table_args__ = (
        # Covers the visibility rule, the filters and every column facet: counting facets
        # reads this narrow index, never the wide rows (search_text, summary). It leads
        # with provider_id, so it also serves the foreign key and the provider filter.
        Index(
            "ix_catalog_resources_facets",
            "provider_id",
            "status",
            "open_type",
            "category",
            "share_type",
            "update_cycle",
            "format",
            "region_key",
        ),
        # The sorts walk these in order and stop at the page's end (the id breaks ties).
        Index("ix_catalog_resources_name_id", "name", "id"),
        Index("ix_catalog_resources_updated_id", "updated_at", "id"),
        # PostgreSQL: trigram index for ILIKE '%q%'. SQLite searches through catalog_fts
        # instead, so there the index is declared empty (WHERE 0) and costs nothing.
        Index(
            "ix_catalog_resources_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            sqlite_where=text("0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(_enum(Category))
    format: Mapped[ResourceFormat] = mapped_column(_enum(ResourceFormat))
    share_type: Mapped[ShareType] = mapped_column(_enum(ShareType))
    share_condition: Mapped[str] = mapped_column(Text, default="")  # conditions or legal basis
    sharing_method: Mapped[SharingMethod | None] = mapped_column(_enum(SharingMethod), default=None)
    open_type: Mapped[OpenType] = mapped_column(_enum(OpenType))
    open_condition: Mapped[str] = mapped_column(Text, default="")
    update_cycle: Mapped[UpdateCycle] = mapped_column(_enum(UpdateCycle))
    related_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.draft)
    version: Mapped[int] = mapped_column(Integer, default=0)  # latest published version
    publish_date: Mapped[date | None] = mapped_column(Date, default=None, index=True)  # first
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    search_text: Mapped[str] = mapped_column(Text, default="")  # lower-cased
    # The coverage again, as sorted codes joined by commas ("371300,371302"): the facet
    # query counts regions from the covering index instead of joining every region row.
    region_key: Mapped[str] = mapped_column(String(400), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_by: Mapped[str] = mapped_column(String(64), default="")

    provider: Mapped[Organization] = relationship(lazy="joined")
    items: Mapped[list[ResourceItem]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResourceItem.position"
    )
    regions: Mapped[list[ResourceRegion]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResourceRegion.region_code"
    )
    keyword_rows: Mapped[list[ResourceKeyword]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ResourceKeyword.position"
    )

    @property
    def keywords(self) -> list[str]:
        return [k.keyword for k in self.keyword_rows]

    @property
    def region_codes(self) -> list[str]:
        return [r.region_code for r in self.regions]

    def set_regions(self, codes: list[str]) -> None:
        """Coverage, kept in both its table and `region_key`."""
        self.regions = [ResourceRegion(region_code=c) for c in codes]
        self.region_key = ",".join(sorted(codes))


class SearchState(Base):
    """One row whose token changes, by trigger, with every write to the resources or their
    keywords (catalog_0002): a process's in-memory search index is current while the
    token it was built at is still the one stored. Random tokens are never reused, so an
    index built inside a transaction that rolled back can never pass for current."""

    __tablename__ = "catalog_search_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(36))


class ResourceItem(Base):
    """An information item (信息项): one field of the resource."""

    __tablename__ = "catalog_items"
    __table_args__ = (UniqueConstraint("resource_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    data_type: Mapped[DataType] = mapped_column(_enum(DataType))
    length: Mapped[int | None] = mapped_column(Integer, default=None)
    element_ref: Mapped[str] = mapped_column(String(64), default="")  # data element identifier
    sensitivity: Mapped[Sensitivity] = mapped_column(_enum(Sensitivity))
    masking: Mapped[str] = mapped_column(String(64), default="")  # a rule of catalog.masking


class ResourceRegion(Base):
    """Spatial coverage: a GB/T 2260 region the resource covers."""

    __tablename__ = "catalog_resource_regions"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), primary_key=True
    )
    region_code: Mapped[str] = mapped_column(
        ForeignKey("regions.code"), primary_key=True, index=True
    )


class ResourceKeyword(Base):
    __tablename__ = "catalog_resource_keywords"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_resources.id", ondelete="CASCADE"), primary_key=True
    )
    keyword: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class ResourceVersion(Base):
    """One published state of a resource: its snapshot, the diff from the previous
    version and the SHA-256 digest of the snapshot (notarized by the ledger)."""

    __tablename__ = "catalog_versions"
    __table_args__ = (UniqueConstraint("resource_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[str] = mapped_column(Text)  # canonical JSON
    diff: Mapped[str] = mapped_column(Text, default="{}")  # JSON
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")


class WorkflowStep(Base):
    """Who moved a resource through the workflow, when, and why (append-only)."""

    __tablename__ = "catalog_steps"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("catalog_resources.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create, update, submit, approve, ...
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    comment: Mapped[str] = mapped_column(Text, default="")
