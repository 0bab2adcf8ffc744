"""Tables of regions and organizations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityhub.core.db import Base, utcnow


class RegionLevel(enum.StrEnum):
    province = "province"
    city = "city"
    district = "district"  # 市辖区
    county = "county"  # 县 / 县级市


class Region(Base):
    """A GB/T 2260 administrative division with its boundary."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    level: Mapped[RegionLevel] = mapped_column(Enum(RegionLevel, native_enum=False, length=16))
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), index=True, default=None
    )
    center_lon: Mapped[float | None] = mapped_column(Float, default=None)
    center_lat: Mapped[float | None] = mapped_column(Float, default=None)
    area_km2: Mapped[float | None] = mapped_column(Float, default=None)
    geometry: Mapped[str | None] = mapped_column(Text, default=None)  # GeoJSON geometry


class OrgKind(enum.StrEnum):
    government = "government"  # 政府部门
    operator = "operator"  # 运营公司
    enterprise = "enterprise"  # 企业
    institution = "institution"  # 事业单位


class Organization(Base):
    """A department, the operating company, an enterprise or a public institution."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(256), default="")
    kind: Mapped[OrgKind] = mapped_column(Enum(OrgKind, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("organizations.id"), index=True, default=None
    )
    region_code: Mapped[str | None] = mapped_column(
        ForeignKey("regions.code"), index=True, default=None
    )
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    parent: Mapped[Organization | None] = relationship(remote_side=[id], lazy="joined")

    @property
    def parent_code(self) -> str | None:
        return self.parent.code if self.parent else None
