"""Tables of precomputed indicators: the time series, the latest value of each series,
and the documents the cockpit shows as they are. Requests read only these."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cityhub.core.db import Base, utcnow


class IndicatorValue(Base):
    """One point of a series: the last value computed within its hour (`at` is the start
    of the hour, UTC), so a series stays ~24 points a day however often it is refreshed."""

    __tablename__ = "indicator_values"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(128), default="")


class IndicatorLatest(Base):
    """The latest value of each series, for headline figures and the map."""

    __tablename__ = "indicator_latest"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(128), default="")
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IndicatorSnapshot(Base):
    """A precomputed JSON document (device points, the alarm ticker)."""

    __tablename__ = "indicator_snapshots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)  # JSON
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
