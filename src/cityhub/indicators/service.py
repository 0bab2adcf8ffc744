"""Computing indicators into their tables, and reading them back.

`recompute` is the only place that reads other packages' tables (through each
indicator's `compute`); everything a request needs comes from `indicator_latest`,
`indicator_values` and `indicator_snapshots`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.directory.models import Region
from cityhub.indicators import sources_data, sources_live
from cityhub.indicators.models import IndicatorLatest, IndicatorSnapshot, IndicatorValue
from cityhub.indicators.registry import REGISTRY, Context, Indicator, Reading, Registry
from cityhub.settings import Settings

log = logging.getLogger("cityhub.indicators")
TOPIC_RECOMPUTED = "indicators.recomputed"  # what open cockpits hear (cockpit stream)
VERSION = "version"  # the snapshot row rewritten whenever a recompute changed something


def register_builtins(registry: Registry = REGISTRY) -> None:
    """The platform's own indicators, registered the way application packs register theirs."""
    registry.register(*sources_data.INDICATORS, *sources_live.INDICATORS)
    registry.register(*sources_live.SNAPSHOTS)


register_builtins()  # plain data: the platform's own entries exist wherever this is imported


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def context(session: Session, settings: Settings, now: datetime | None = None) -> Context:
    districts = session.scalars(
        select(Region.code).where(Region.parent_code == settings.city_code).order_by(Region.code)
    ).all()
    return Context(now or utcnow(), settings.city_code, tuple(districts), settings.local_timezone)


@dataclass
class Outcome:
    """What one recompute did: codes whose values changed, snapshots rewritten, failures."""

    changed: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def upsert(session: Session, table: Any, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT DO UPDATE (SQLite and PostgreSQL): two processes, or a job
    and a demo build, may write the same series at once."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(rows)
    changing = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=changing))


def _write(session: Session, code: str, readings: Iterable[Reading], now: datetime) -> bool:
    """Store readings as the latest values and as this hour's points; True when any moved."""
    before = {
        row.region_code: (row.value, row.note)
        for row in session.scalars(select(IndicatorLatest).where(IndicatorLatest.code == code))
    }
    bucket = hour_of(now)
    latest_rows, points, changed = [], [], False
    for r in {r.region: r for r in readings}.values():  # one reading per region: the last
        note = r.note[:128]
        changed = changed or before.get(r.region) != (r.value, note)
        latest_rows.append(
            {"code": code, "region_code": r.region, "value": r.value, "note": note,
             "computed_at": now}
        )  # fmt: skip
        points.append(
            {"code": code, "region_code": r.region, "at": bucket, "value": r.value, "note": note}
        )
    upsert(session, IndicatorLatest.__table__, latest_rows, ("code", "region_code"))
    upsert(session, IndicatorValue.__table__, points, ("code", "region_code", "at"))
    return changed


def recompute(
    factory: sessionmaker[Session],
    settings: Settings,
    codes: Sequence[str] | None = None,
    snapshots: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    registry: Registry = REGISTRY,
) -> Outcome:
    """Compute the given indicators and snapshots (all when None), each in its own
    transaction: one failing indicator is logged and does not stop the others. When
    anything changed, the `version` snapshot says what (open cockpits refresh on it)."""
    started = time.perf_counter()
    outcome = Outcome()
    with factory() as session:
        ctx = context(session, settings, now)
    wanted = set(codes) if codes is not None else None
    for ind in registry.indicators():
        if wanted is not None and ind.code not in wanted:
            continue
        try:
            with factory() as session, session.begin():
                if _write(session, ind.code, list(ind.compute(session, ctx)), ctx.now):
                    outcome.changed.append(ind.code)
        except Exception as exc:  # a faulty indicator (an app pack's) must not stop the rest
            log.exception("indicator %s failed", ind.code)
            outcome.failed[ind.code] = str(exc)[:300]
    for snap in registry.snapshots():
        if snapshots is not None and snap.name not in snapshots:
            continue
        try:
            with factory() as session, session.begin():
                body = json.dumps(snap.compute(session, ctx), ensure_ascii=False, default=str)
                if session.scalar(select(IndicatorSnapshot.body).filter_by(name=snap.name)) != body:
                    row = {"name": snap.name, "body": body, "computed_at": ctx.now}
                    upsert(session, IndicatorSnapshot.__table__, [row], ("name",))
                    outcome.snapshots.append(snap.name)
        except Exception as exc:
            log.exception("snapshot %s failed", snap.name)
            outcome.failed[snap.name] = str(exc)[:300]
    if outcome.changed or outcome.snapshots:
        # A row, not an outbox event: recomputes run every minute and are nobody's history.
        body = json.dumps({"codes": outcome.changed, "snapshots": outcome.snapshots})
        with factory() as session, session.begin():
            row = {"name": VERSION, "body": body, "computed_at": utcnow()}
            upsert(session, IndicatorSnapshot.__table__, [row], ("name",))
    outcome.seconds = time.perf_counter() - started
    return outcome


def backfill(
    factory: sessionmaker[Session],
    settings: Settings,
    days: int = 30,
    *,
    now: datetime | None = None,
    registry: Registry = REGISTRY,
) -> int:
    """Compute the daily indicators for each of the past `days` local days (their last
    hour), so trends have a history from the first day; returns the points written."""
    now = now or utcnow()
    zone = ZoneInfo(settings.local_timezone)
    today = now.astimezone(zone).replace(hour=23, minute=30, second=0, microsecond=0)
    written = 0
    daily = [i for i in registry.indicators() if i.daily]
    for back in range(days, 0, -1):
        at = today - timedelta(days=back)
        with factory() as session, session.begin():
            ctx = context(session, settings, at)
            bucket = hour_of(at.astimezone(UTC))
            for ind in daily:
                points = [
                    {"code": ind.code, "region_code": r.region, "at": bucket, "value": r.value,
                     "note": r.note[:128]}
                    for r in {r.region: r for r in ind.compute(session, ctx)}.values()
                ]  # fmt: skip
                upsert(session, IndicatorValue.__table__, points, ("code", "region_code", "at"))
                written += len(points)
    return written


# -- reading -----------------------------------------------------------------------------


class Latest(NamedTuple):
    code: str
    region_code: str
    value: float
    note: str
    computed_at: datetime


class Point(NamedTuple):
    at: datetime
    value: float
    note: str


# Reads return plain tuples, not ORM objects: a cockpit answer reads a few thousand points.
_LATEST = (IndicatorLatest.code, IndicatorLatest.region_code, IndicatorLatest.value,
           IndicatorLatest.note, IndicatorLatest.computed_at)  # fmt: skip


def latest(
    session: Session, codes: Sequence[str] | None = None, region: str | None = None
) -> dict[str, dict[str, Latest]]:
    """code → region → latest value (one indexed read of a small table)."""
    stmt = select(*_LATEST)
    if codes is not None:
        stmt = stmt.where(IndicatorLatest.code.in_(list(codes)))
    if region is not None:
        stmt = stmt.where(IndicatorLatest.region_code == region)
    found: dict[str, dict[str, Latest]] = {}
    for row in session.execute(stmt):
        item = Latest(*row)
        found.setdefault(item.code, {})[item.region_code] = item
    return found


def series(
    session: Session,
    code: str,
    region: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 5000,
) -> list[Point]:
    stmt = select(IndicatorValue.at, IndicatorValue.value, IndicatorValue.note).where(
        IndicatorValue.code == code, IndicatorValue.region_code == region
    )
    if start is not None:
        stmt = stmt.where(IndicatorValue.at >= as_utc(start))
    if end is not None:
        stmt = stmt.where(IndicatorValue.at < as_utc(end))
    rows = session.execute(stmt.order_by(IndicatorValue.at).limit(limit))
    return [Point(as_utc(at) or at, value, note) for at, value, note in rows]


def local_date(at: datetime, timezone: str) -> date:
    return (as_utc(at) or at).astimezone(ZoneInfo(timezone)).date()


def daily(points: Sequence[Point], timezone: str) -> list[Point]:
    """The last point of each local day (points in time order)."""
    by_day: dict[date, Point] = {}
    for p in points:
        by_day[local_date(p.at, timezone)] = p
    return list(by_day.values())


def snapshot(session: Session, name: str) -> tuple[Any, datetime | None]:
    row = session.get(IndicatorSnapshot, name)
    if row is None:
        return [], None
    return json.loads(row.body), row.computed_at


def indicator_or_404(code: str) -> Indicator:
    return REGISTRY.indicator(code)
