"""Bulk writes of the time series: readings, dirty minutes, latest values, rate windows,
rejection counts. Column arrays in, one statement per table out (never a row per call).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from sqlalchemy import Table, delete, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.sensing.models import (
    DirtyMinute,
    LatestValue,
    RateWindow,
    RejectedMessage,
    Rejection,
)
from cityhub.sensing.reasons import Reason

MINUTE_MS = 60_000
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

# One statement per batch: the columns travel as four array literals (built in C by str.join,
# far cheaper than adapting 10,000 Python numbers one by one), and only the per-device count
# of rows actually inserted comes back.
_PG_INSERT = (
    "WITH ins AS (INSERT INTO telemetry_points (device_id, metric_id, ts_ms, value) "
    "SELECT * FROM unnest(%s::int4[], %s::int4[], %s::int8[], %s::float8[]) "
    "ON CONFLICT DO NOTHING RETURNING device_id) "
    "SELECT device_id, count(*) FROM ins GROUP BY device_id"
)


# PostgreSQL upserts of a whole batch in one statement each, the columns as array literals.
_PG_DIRTY = (
    "INSERT INTO telemetry_dirty (device_id, bucket_ms, gen) "
    "SELECT d, b, 1 FROM unnest(%s::int4[], %s::int8[]) AS v(d, b) "
    "ON CONFLICT (device_id, bucket_ms) DO UPDATE SET gen = telemetry_dirty.gen + 1"
)
_PG_LATEST = (
    "INSERT INTO telemetry_latest (device_id, metric_id, ts_ms, value) "
    "SELECT * FROM unnest(%s::int4[], %s::int4[], %s::int8[], %s::float8[]) "
    "ON CONFLICT (device_id, metric_id) DO UPDATE SET ts_ms = EXCLUDED.ts_ms, "
    "value = EXCLUDED.value WHERE EXCLUDED.ts_ms > telemetry_latest.ts_ms"
)
_PG_RATES = (
    "INSERT INTO sensing_rate_windows (device_id, window_ms, points) "
    "SELECT d, %s, n FROM unnest(%s::int4[], %s::int4[]) AS v(d, n) "
    "ON CONFLICT (device_id, window_ms) DO UPDATE "
    "SET points = sensing_rate_windows.points + EXCLUDED.points"
)
_PG_COPY = "COPY telemetry_points (device_id, metric_id, ts_ms, value) FROM STDIN"


def _array(values: list[int] | list[float]) -> str:
    return "{" + ",".join(map(repr, values)) + "}"


# SQLite: one executemany of plain tuples. (Tried: the batch as one JSON array read by
# json_each in a single statement, which frees the GIL for the whole insert; it cost ~40%
# more CPU per reading, and ingestion is CPU-bound.)
_SQLITE_APPEND = (
    "INSERT INTO telemetry_points (device_id, metric_id, ts_ms, value) VALUES (?, ?, ?, ?)"
)
_SQLITE_INSERT = (
    "INSERT OR IGNORE INTO telemetry_points (device_id, metric_id, ts_ms, value) "
    "VALUES (?, ?, ?, ?)"
)


def is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def table_of(model: Any) -> Table:
    table: Table = model.__table__
    return table


def upsert(session: Session, model: Any) -> Any:
    """A Core INSERT that can take ON CONFLICT, in the session's dialect. Core, not the ORM:
    a list of parameter sets then runs as one executemany, without per-row ORM work."""
    return (postgresql.insert if is_pg(session) else sqlite.insert)(table_of(model))


def appends_only(
    dev: Ints, met: Ints, ts: Ints, latest: dict[tuple[int, int], tuple[int, float]]
) -> bool:
    """True when every reading is newer than what its device and metric stored last: then
    no reading can be stored already, and the check for it can be skipped."""
    if not latest:
        return True
    keys = dev * (1 << 32) + met
    order = np.lexsort((ts, keys))
    k = keys[order]
    first = np.ones(k.size, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    for key, oldest in zip(k[first].tolist(), ts[order][first].tolist(), strict=True):
        stored = latest.get((key >> 32, key & 0xFFFFFFFF))
        if stored is not None and oldest <= stored[0]:
            return False
    return True


def _copy_rows(session: Session, dev: Ints, met: Ints, ts: Ints, val: Floats) -> bool:
    """COPY the readings in (PostgreSQL's fastest path); False if one was stored meanwhile
    (a concurrent retry of the same readings), with nothing written."""
    text_rows = "".join(
        f"{a}\t{b}\t{c}\t{d!r}\n"
        for a, b, c, d in zip(dev.tolist(), met.tolist(), ts.tolist(), val.tolist(), strict=True)
    )
    nested = session.begin_nested()
    raw = session.connection().connection.driver_connection
    assert raw is not None  # a live connection inside the session's transaction
    try:
        with raw.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            copy.write(text_rows)
    except psycopg.errors.UniqueViolation:
        nested.rollback()
        return False
    nested.commit()
    return True


def _insert_all(session: Session, dev: Ints, met: Ints, ts: Ints, val: Floats) -> bool:
    """SQLite: every reading in one executemany; False if one was stored meanwhile."""
    rows = list(zip(dev.tolist(), met.tolist(), ts.tolist(), val.tolist(), strict=True))
    nested = session.begin_nested()
    try:
        session.connection().exec_driver_sql(_SQLITE_APPEND, rows)
    except IntegrityError:
        nested.rollback()
        return False
    nested.commit()
    return True


def insert_points(
    session: Session,
    dev: Ints,
    met: Ints,
    ts: Ints,
    val: Floats,
    *,
    appending: bool = False,
) -> dict[int, int]:
    """Store readings, skipping ones already stored; how many were new, per device.
    `appending` (see appends_only) lets PostgreSQL take the COPY path."""
    if dev.size == 0:
        return {}
    conn = session.connection()
    if appending and (
        _copy_rows(session, dev, met, ts, val)
        if is_pg(session)
        else _insert_all(session, dev, met, ts, val)
    ):
        ids, counts = np.unique(dev, return_counts=True)
        return dict(zip(ids.tolist(), counts.tolist(), strict=True))
    if is_pg(session):
        params = (
            _array(dev.tolist()),
            _array(met.tolist()),
            _array(ts.tolist()),
            _array(val.tolist()),
        )
        return {int(d): int(n) for d, n in conn.exec_driver_sql(_PG_INSERT, params)}
    inserted: dict[int, int] = {}
    order = np.argsort(dev, kind="stable")
    bounds = np.flatnonzero(np.diff(dev[order])) + 1
    for group in np.split(order, bounds):
        rows_ = list(
            zip(
                dev[group].tolist(),
                met[group].tolist(),
                ts[group].tolist(),
                val[group].tolist(),
                strict=True,
            )
        )
        result = conn.exec_driver_sql(_SQLITE_INSERT, rows_)
        inserted[int(dev[group[0]])] = max(result.rowcount, 0)
    return inserted


def mark_dirty(session: Session, dev: Ints, ts: Ints) -> None:
    """Mark the device-minutes that received readings, for the rollup pass."""
    if dev.size == 0:
        return
    # One integer key per device-minute (minutes since 1970 fit in 32 bits until 10136).
    keys = np.unique(dev * (1 << 32) + ts // MINUTE_MS).tolist()
    devices = [k >> 32 for k in keys]
    buckets = [(k & 0xFFFFFFFF) * MINUTE_MS for k in keys]
    if is_pg(session):
        session.connection().exec_driver_sql(_PG_DIRTY, (_array(devices), _array(buckets)))
        return
    stmt = upsert(session, DirtyMinute)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "bucket_ms"], set_={"gen": table_of(DirtyMinute).c.gen + 1}
    )
    session.execute(
        stmt,
        [{"device_id": d, "bucket_ms": b, "gen": 1} for d, b in zip(devices, buckets, strict=True)],
    )


def read_latest(
    session: Session, device_ids: Iterable[int]
) -> dict[tuple[int, int], tuple[int, float]]:
    ids = sorted(set(device_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(
            LatestValue.device_id, LatestValue.metric_id, LatestValue.ts_ms, LatestValue.value
        ).where(LatestValue.device_id.in_(ids))
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def write_latest(session: Session, dev: Ints, met: Ints, ts: Ints, val: Floats) -> None:
    """Keep the newest reading per device and metric (older ones never overwrite)."""
    if dev.size == 0:
        return
    order = np.lexsort((ts, met, dev))  # last of each (dev, met) group is the newest
    d, m = dev[order], met[order]
    last = np.ones(d.size, dtype=bool)
    last[:-1] = (d[1:] != d[:-1]) | (m[1:] != m[:-1])
    picked = order[last]
    columns = (
        dev[picked].tolist(),
        met[picked].tolist(),
        ts[picked].tolist(),
        val[picked].tolist(),
    )
    if is_pg(session):
        session.connection().exec_driver_sql(_PG_LATEST, tuple(_array(c) for c in columns))
        return
    stmt = upsert(session, LatestValue)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "metric_id"],
        set_={"ts_ms": stmt.excluded.ts_ms, "value": stmt.excluded.value},
        where=stmt.excluded.ts_ms > table_of(LatestValue).c.ts_ms,
    )
    session.execute(
        stmt,
        [
            {"device_id": a, "metric_id": b, "ts_ms": c, "value": e}
            for a, b, c, e in zip(*columns, strict=True)
        ],
    )


def read_rates(session: Session, device_ids: Sequence[int], window_ms: int) -> dict[int, int]:
    if not device_ids:
        return {}
    rows = session.execute(
        select(RateWindow.device_id, RateWindow.points).where(
            RateWindow.device_id.in_(device_ids), RateWindow.window_ms == window_ms
        )
    )
    return {r[0]: r[1] for r in rows}


def add_rates(session: Session, counts: dict[int, int], window_ms: int) -> None:
    counts = {d: n for d, n in counts.items() if n}
    if not counts:
        return
    if is_pg(session):
        params = (window_ms, _array(list(counts)), _array(list(counts.values())))
        session.connection().exec_driver_sql(_PG_RATES, params)
        return
    stmt = upsert(session, RateWindow)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "window_ms"],
        set_={"points": table_of(RateWindow).c.points + stmt.excluded.points},
    )
    session.execute(
        stmt, [{"device_id": d, "window_ms": window_ms, "points": n} for d, n in counts.items()]
    )


@dataclass
class RejectTally:
    """Refusals of one batch for one device and reason, with a sample to show."""

    device_ref: str
    device_id: int | None
    reason: Reason
    count: int
    detail: str
    excerpt: str = ""


SAMPLES_PER_TALLY = 3


def record_rejections(
    session: Session, tallies: Iterable[RejectTally], channel: str, at: datetime | None = None
) -> None:
    """Count refusals per device and reason, and keep a few samples of each."""
    rows = [t for t in tallies if t.count]
    if not rows:
        return
    now = at or utcnow()
    merged: dict[tuple[str, str], RejectTally] = {}
    for t in rows:
        key = (t.device_ref[:160], t.reason.value)
        if key in merged:
            merged[key].count += t.count
        else:
            merged[key] = RejectTally(key[0], t.device_id, t.reason, t.count, t.detail, t.excerpt)
    stmt = upsert(session, Rejection)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_ref", "reason"],
        set_={
            "count": table_of(Rejection).c["count"] + stmt.excluded["count"],
            "last_at": stmt.excluded.last_at,
            "last_detail": stmt.excluded.last_detail,
            "device_id": stmt.excluded.device_id,
        },
    )
    session.execute(
        stmt,
        [
            {
                "device_ref": t.device_ref,
                "device_id": t.device_id,
                "reason": t.reason.value,
                "count": t.count,
                "first_at": now,
                "last_at": now,
                "last_detail": t.detail[:500],
            }
            for t in merged.values()
        ],
    )
    session.execute(
        insert(table_of(RejectedMessage)),
        [
            {
                "at": now,
                "device_ref": t.device_ref,
                "reason": t.reason.value,
                "channel": channel,
                "detail": t.detail[:500],
                "excerpt": t.excerpt[:500],
            }
            for t in list(merged.values())[: SAMPLES_PER_TALLY * 20]
        ],
    )


def dirty_pairs(session: Session, limit: int) -> list[tuple[int, int, int]]:
    rows = session.execute(
        select(DirtyMinute.device_id, DirtyMinute.bucket_ms, DirtyMinute.gen)
        .order_by(DirtyMinute.bucket_ms)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def clear_dirty(session: Session, marks: Sequence[tuple[int, int, int]]) -> None:
    """Clear marks whose generation did not move while the pass computed."""
    if not marks:
        return
    key = tuple_(DirtyMinute.device_id, DirtyMinute.bucket_ms, DirtyMinute.gen)
    for chunk_start in range(0, len(marks), 500):
        chunk = marks[chunk_start : chunk_start + 500]
        session.execute(delete(DirtyMinute).where(key.in_(chunk)))
