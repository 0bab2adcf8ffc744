"""1-minute and 1-hour rollups, kept up to date incrementally.

Ingest marks each device-minute it writes to (`telemetry_dirty`). A pass recomputes just
those minutes from the raw readings (so late and out-of-order data are handled exactly),
then the hours that contain them from the minute rollups, and clears the marks that no
write touched meanwhile. Queries call `refresh` for their devices first, so an answer never
misses what was stored before it was asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction
from cityhub.sensing import partitions, store
from cityhub.sensing.models import DirtyMinute, Rollup1h, Rollup1m

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
BATCH = 5000


def refresh(session: Session, device_ids: Iterable[int] | None = None, limit: int = BATCH) -> int:
    """Recompute up to `limit` dirty device-minutes (of `device_ids`, or any); how many."""
    stmt = select(DirtyMinute.device_id, DirtyMinute.bucket_ms, DirtyMinute.gen)
    if device_ids is not None:
        ids = sorted(set(device_ids))
        if not ids:
            return 0
        stmt = stmt.where(DirtyMinute.device_id.in_(ids))
    marks = [
        (r[0], r[1], r[2])
        for r in session.execute(stmt.order_by(DirtyMinute.bucket_ms).limit(limit))
    ]
    if not marks:
        return 0
    _recompute(session, marks)
    store.clear_dirty(session, marks)
    return len(marks)


def refresh_all(session_factory: sessionmaker[Session], *, rounds: int = 100) -> int:
    """Work through every dirty mark in batches, each in its own transaction."""
    total = 0
    for _ in range(rounds):
        with transaction(session_factory) as session:
            done = refresh(session)
        total += done
        if done < BATCH:
            break
    return total


def _recompute(session: Session, marks: Sequence[tuple[int, int, int]]) -> None:
    by_hour: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for device_id, bucket, _gen in marks:
        by_hour[bucket - bucket % HOUR_MS].add((device_id, bucket))
    engine = session.get_bind()
    for spec in (partitions.ROLLUP_1M, partitions.ROLLUP_1H):
        partitions.ensure(engine, spec, min(by_hour), max(by_hour) + HOUR_MS - 1)  # type: ignore[arg-type]
    for hour, wanted in sorted(by_hour.items()):
        devices = sorted({d for d, _ in wanted})
        minute_rows = _aggregate(
            session,
            "SELECT device_id, metric_id, ts_ms - (ts_ms % 60000) AS b, count(*), sum(value), "
            "min(value), max(value) FROM telemetry_points",
            "ts_ms",
            devices,
            hour,
        )
        rows = [r for r in minute_rows if (r[0], r[2]) in wanted]
        _upsert(session, Rollup1m, rows)
        hour_rows = _aggregate(
            session,
            f"SELECT device_id, metric_id, {hour} AS b, sum(n), sum(total), min(vmin), max(vmax) "
            "FROM telemetry_rollup_1m",
            "bucket_ms",
            devices,
            hour,
        )
        _upsert(session, Rollup1h, hour_rows)


def _aggregate(
    session: Session, head: str, column: str, devices: list[int], hour: int
) -> list[tuple[int, int, int, int, float, float, float]]:
    ids = ",".join(str(int(d)) for d in devices)
    sql = (
        f"{head} WHERE device_id IN ({ids}) AND {column} >= :lo AND {column} < :hi GROUP BY 1, 2, 3"
    )
    result = session.execute(text(sql), {"lo": hour, "hi": hour + HOUR_MS})
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in result]


def _upsert(
    session: Session,
    model: type[Rollup1m] | type[Rollup1h],
    rows: list[tuple[int, int, int, int, float, float, float]],
) -> None:
    if not rows:
        return
    stmt = store.upsert(session, model)
    stmt = stmt.on_conflict_do_update(
        index_elements=["device_id", "metric_id", "bucket_ms"],
        set_={
            "n": stmt.excluded.n,
            "total": stmt.excluded.total,
            "vmin": stmt.excluded.vmin,
            "vmax": stmt.excluded.vmax,
        },
    )
    session.execute(
        stmt,
        [
            {
                "device_id": d,
                "metric_id": m,
                "bucket_ms": b,
                "n": n,
                "total": t,
                "vmin": lo,
                "vmax": hi,
            }
            for d, m, b, n, t, lo, hi in rows
        ],
    )
