"""Data quality (数据质量) of batches and resources, each dimension a share in [0, 1]:

- completeness  values present / (rows × items of the resource);
- validity      rows without a value error / rows;
- uniqueness    rows whose key is not repeated in the batch / rows;
- timeliness    the declared update cycle / the time since the previous delivery
                (1 while deliveries keep to the cycle);
- consistency   1 − conflicts the library recorded between sources / accepted rows
                (only for resources several departments feed; otherwise not rated).

The score is the weighted mean of the rated dimensions, out of 100.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import UpdateCycle
from cityhub.core.db import utcnow
from cityhub.core.times import as_utc
from cityhub.exchange.models import Batch
from cityhub.exchange.vocab import BatchStatus

if TYPE_CHECKING:
    from cityhub.exchange.apply import Totals

CYCLE = {
    UpdateCycle.realtime: timedelta(hours=1),
    UpdateCycle.daily: timedelta(days=1),
    UpdateCycle.weekly: timedelta(days=7),
    UpdateCycle.monthly: timedelta(days=31),
    UpdateCycle.quarterly: timedelta(days=92),
    UpdateCycle.yearly: timedelta(days=366),
}
WEIGHTS = {
    "completeness": 0.25,
    "validity": 0.30,
    "uniqueness": 0.15,
    "timeliness": 0.15,
    "consistency": 0.15,
}
DIMENSIONS = tuple(WEIGHTS)
RECENT = 20  # batches a resource report looks back on


def _iso(value: datetime | None) -> str | None:
    moment = as_utc(value)
    return moment.isoformat() if moment is not None else None


def _share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole > 0 else 1.0


def score(dims: dict[str, float | None]) -> float:
    rated = {k: v for k, v in dims.items() if v is not None}
    if not rated:
        return 0.0
    weight = sum(WEIGHTS[k] for k in rated)
    return round(100 * sum(WEIGHTS[k] * v for k, v in rated.items()) / weight, 1)


def cycle_of(session: Session, resource_code: str) -> timedelta:
    cycle = session.scalar(select(Resource.update_cycle).where(Resource.code == resource_code))
    return (
        CYCLE.get(UpdateCycle(cycle), CYCLE[UpdateCycle.daily])
        if cycle
        else CYCLE[UpdateCycle.daily]
    )


def timeliness(cycle: timedelta, gap: timedelta | None) -> float:
    if gap is None or gap <= cycle:
        return 1.0
    return round(cycle / gap, 4)


def _conflicts(session: Session, batch_id: int) -> int | None:
    """Conflicts the library recorded for this batch; None where it keeps no such log."""
    try:
        from cityhub.library.models import LibraryMerge
    except ImportError:  # the library may not record merges
        return None
    total = session.scalar(
        select(func.sum(LibraryMerge.conflicts)).where(LibraryMerge.batch_id == batch_id)
    )
    return int(total) if total is not None else None


def _several_sources(resource_code: str) -> bool:
    from cityhub.library.specs import BY_RESOURCE, FEEDS

    return resource_code in BY_RESOURCE or resource_code in FEEDS


def batch_report(session: Session, batch: Batch, totals: Totals) -> dict[str, Any]:
    from cityhub.gateway import resources

    info = resources.load(session, batch.resource_code)
    rows = totals.rows_in
    present = sum(s.present for s in totals.items.values())
    value_errors = totals.rejected - totals.duplicates
    previous = session.scalar(
        select(func.max(Batch.finished_at)).where(
            Batch.resource_code == batch.resource_code,
            Batch.status == BatchStatus.completed,
            Batch.id != batch.id,
        )
    )
    gap = (utcnow() - as_utc(previous)) if previous is not None else None
    conflicts = _conflicts(session, batch.id) if _several_sources(batch.resource_code) else None
    dims: dict[str, float | None] = {
        "completeness": _share(present, rows * max(1, len(info.items))),
        "validity": _share(rows - value_errors, rows),
        "uniqueness": _share(rows - totals.duplicates, rows),
        "timeliness": timeliness(cycle_of(session, batch.resource_code), gap),
        "consistency": None
        if conflicts is None
        else _share(totals.accepted - conflicts, totals.accepted),
    }
    return {
        **dims,
        "score": score(dims),
        "duplicates": totals.duplicates,
        "conflicts": conflicts,
        "items": {
            code: {"present": s.present, "invalid": s.invalid}
            for code, s in sorted(totals.items.items())
        },
    }


def resource_report(
    session: Session, resource_code: str, now: datetime | None = None
) -> dict[str, Any]:
    """The resource's quality over its recent completed batches, timeliness as of now."""
    moment = now or utcnow()
    batches = session.scalars(
        select(Batch)
        .where(Batch.resource_code == resource_code, Batch.status == BatchStatus.completed)
        .order_by(Batch.id.desc())
        .limit(RECENT)
    ).all()
    cycle = cycle_of(session, resource_code)
    last = as_utc(batches[0].finished_at) if batches else None
    rows = sum(b.rows_in for b in batches)
    sums: dict[str, float] = dict.fromkeys(("completeness", "validity", "uniqueness"), 0.0)
    conflicts = 0
    accepted = 0
    rated_consistency = False
    for b in batches:
        report = b.quality or {}
        for dim in sums:
            sums[dim] += float(report.get(dim, 1.0)) * b.rows_in
        if report.get("conflicts") is not None:
            rated_consistency = True
            conflicts += int(report["conflicts"])
            accepted += b.accepted
    dims: dict[str, float | None] = {
        dim: round(total / rows, 4) if rows else None for dim, total in sums.items()
    }
    dims["timeliness"] = timeliness(cycle, moment - last) if last is not None else 0.0
    dims["consistency"] = _share(accepted - conflicts, accepted) if rated_consistency else None
    sources = session.execute(
        select(Batch.source, func.count(), func.max(Batch.finished_at), func.sum(Batch.rows_in))
        .where(Batch.resource_code == resource_code, Batch.status == BatchStatus.completed)
        .group_by(Batch.source)
        .order_by(Batch.source)
    ).all()
    return {
        "resource_code": resource_code,
        **dims,
        "score": score(dims) if batches else 0.0,
        "batches": len(batches),
        "rows": rows,
        "last_delivery_at": last.isoformat() if last else None,
        "update_cycle_hours": cycle.total_seconds() / 3600,
        "conflicts": conflicts if rated_consistency else None,
        "sources": [
            {
                "source": source,
                "batches": int(count),
                "rows": int(total or 0),
                "last_delivery_at": _iso(latest),
            }
            for source, count, latest, total in sources
        ],
        "recent": [
            {
                "batch_id": b.id,
                "score": (b.quality or {}).get("score"),
                "rows_in": b.rows_in,
                "finished_at": _iso(b.finished_at),
            }
            for b in batches
        ],
    }
