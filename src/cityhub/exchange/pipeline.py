"""Running a batch: claim it, prepare it, apply it in one transaction, record the outcome.

The batch row is the truth about the libraries: it turns `completed` in the very
transaction that merged its rows, so a process killed mid-batch leaves it `running` and
the libraries as they were. A running batch whose worker is gone (its lease ran out, or
its process on this host no longer exists) is put back to `pending` by `recover` and
processed again from its stored file: nothing is lost.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.db import transaction, utcnow
from cityhub.core.events import EventBus, attach, emit
from cityhub.core.times import as_utc
from cityhub.errors import CityHubError
from cityhub.exchange import quality
from cityhub.exchange.apply import Applier, Context, Totals, duplicate_hashes
from cityhub.exchange.models import Batch, Connector, QuarantineRow
from cityhub.exchange.prepare import BatchRef, Prepared, prepare
from cityhub.exchange.vocab import BatchStatus, QuarantineStatus, SourceKind
from cityhub.settings import Settings

log = logging.getLogger("cityhub.exchange")
MAX_ATTEMPTS = 3
_HOST = socket.gethostname()


def worker_id() -> str:
    return f"{_HOST}:{os.getpid()}"


def _lease_seconds(size: int) -> float:
    """Generous: a lease cannot be renewed while the batch's transaction holds the
    database (SQLite has one writer), so it covers the slowest plausible run."""
    return 600 + size / 1_000_000  # ten minutes plus a second per MB


def claim(factory: sessionmaker[Session], batch_id: int) -> BatchRef | None:
    """Take a pending batch for this process; None when someone else has it."""
    now = utcnow()
    with transaction(factory) as session:
        size = session.scalar(select(Batch.bytes).where(Batch.id == batch_id)) or 0
        taken = session.execute(
            update(Batch)
            .where(Batch.id == batch_id, Batch.status == BatchStatus.pending)
            .values(
                status=BatchStatus.running,
                started_at=now,
                lease_until=now + timedelta(seconds=_lease_seconds(size)),
                worker=worker_id(),
                attempts=Batch.attempts + 1,
                error="",
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        batch = session.get(Batch, batch_id)
        assert batch is not None
        return BatchRef.of(batch)


def _event_payload(batch: Batch, provider_code: str = "") -> dict[str, Any]:
    # Identifiers, counts, status and the SM3 digest only: the ledger publishes these.
    return {
        "batch_id": batch.id,
        "resource_code": batch.resource_code,
        "provider_id": batch.provider_id,
        "provider_code": provider_code,
        "source_kind": batch.source_kind.value,
        "status": batch.status.value,
        "sm3": batch.digest,
        "size": batch.bytes,
        "rows_in": batch.rows_in,
        "rows_accepted": batch.accepted,
        "rows_rejected": batch.rejected,
        "rows_inserted": batch.inserted,
        "rows_updated": batch.updated,
        "rows_unchanged": batch.unchanged,
        "rows_deleted": batch.deleted,
        "parent_id": batch.parent_id,
    }


def fail(
    factory: sessionmaker[Session],
    batch_id: int,
    message: str,
    bus: EventBus | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Record the failure (and the problem's details); nothing of the batch was merged."""
    with transaction(factory) as session:
        if bus is not None:
            attach(session, bus)
        batch = session.get(Batch, batch_id)
        if batch is None:
            return
        now = utcnow()
        batch.status = BatchStatus.failed
        batch.error = message[:2000]
        if extra:
            batch.quality = {"problem": extra}
        batch.finished_at = now
        batch.lease_until = None
        started = as_utc(batch.started_at) or now
        batch.duration_ms = round((now - started).total_seconds() * 1000, 1)
        emit(session, "exchange.batch.failed", _event_payload(batch), actor=batch.created_by)
        if batch.connector_id is not None:
            connector = session.get(Connector, batch.connector_id)
            if connector is not None:
                connector.last_status, connector.last_error = "failed", message[:2000]
                connector.last_batch_id = batch.id


def run(
    factory: sessionmaker[Session],
    settings: Settings,
    batch_id: int,
    *,
    bus: EventBus | None = None,
    progress: Any = None,
) -> Batch:
    """Process a pending batch to its end; returns the batch row as it ended."""
    ref = claim(factory, batch_id)
    if ref is None:
        return _load(factory, batch_id)
    if ref.source_kind is not SourceKind.resubmit and _repeats(factory, ref, bus):
        return _load(factory, batch_id)
    started = time.perf_counter()
    prepared: Prepared | None = None
    try:
        with factory() as session:
            prepared = prepare(session, ref, settings.data_dir)
        ctx = Context(settings.city_code, settings.local_timezone, settings.exchange_chunk_rows)
        dups = duplicate_hashes(prepared, ctx)
        with transaction(factory) as session:
            if bus is not None:
                attach(session, bus)
            applier = Applier(session, prepared, ctx, dups, progress)
            totals = applier.run()
            _complete(
                session, ref, totals, applier.provider_code, started, prepared.source.encoding
            )
    except CityHubError as exc:
        fail(factory, batch_id, exc.detail, bus, exc.extra)
    except Exception as exc:  # a bug or a database failure: recorded, not lost
        log.exception("batch failed", extra={"batch_id": batch_id})
        fail(factory, batch_id, f"internal error: {type(exc).__name__}: {exc}"[:500], bus)
    finally:
        if prepared is not None:
            prepared.cleanup()
    return _load(factory, batch_id)


def _repeats(factory: sessionmaker[Session], ref: BatchRef, bus: EventBus | None) -> bool:
    """Two uploads of the same content raced past the check at receipt: the later one
    changes nothing and says which batch it repeats."""
    from cityhub.exchange.service import earlier

    with transaction(factory) as session:
        first = earlier(session, ref.resource_code, ref.digest, before=ref.id)
        if first is None or not ref.digest:
            return False
        if bus is not None:
            attach(session, bus)
        batch = session.get(Batch, ref.id)
        assert batch is not None
        batch.status = BatchStatus.duplicate
        batch.error = f"same content as batch {first.id}"
        batch.finished_at = utcnow()
        batch.lease_until = None
        emit(session, "exchange.batch.duplicate", _event_payload(batch), actor=batch.created_by)
    return True


def _complete(
    session: Session,
    ref: BatchRef,
    totals: Totals,
    provider_code: str,
    started: float,
    detected_encoding: str,
) -> None:
    batch = session.get(Batch, ref.id)
    assert batch is not None
    now = utcnow()
    batch.status = BatchStatus.completed
    batch.encoding = batch.encoding or detected_encoding.removesuffix("-sig")
    batch.rows_in = totals.rows_in
    batch.accepted = totals.accepted
    batch.rejected = totals.rejected
    batch.inserted = totals.inserted
    batch.updated = totals.updated
    batch.unchanged = totals.unchanged
    batch.deleted = totals.deleted
    batch.finished_at = now
    batch.lease_until = None
    batch.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    batch.quality = quality.batch_report(session, batch, totals)
    if ref.connector_id is not None:
        connector = session.get(Connector, ref.connector_id)
        if connector is not None:
            if ref.high_water is not None:
                connector.high_water = ref.high_water  # remembered with the data it covers
            connector.last_status, connector.last_error = "ok", ""
            connector.last_batch_id = ref.id
            connector.failures = 0
    if ref.source_kind is SourceKind.resubmit and ref.parent_id is not None:
        session.execute(
            update(QuarantineRow)
            .where(
                QuarantineRow.batch_id == ref.parent_id,
                QuarantineRow.status == QuarantineStatus.open,
            )
            .values(status=QuarantineStatus.resubmitted, resubmitted_batch_id=ref.id)
            .execution_options(synchronize_session=False)
        )
        emit(
            session,
            "exchange.quarantine.resubmitted",
            {"batch_id": ref.id, "parent_id": ref.parent_id, "resource_code": ref.resource_code},
            actor=ref.created_by,
        )
    emit(
        session,
        "exchange.batch.completed",
        _event_payload(batch, provider_code),
        actor=batch.created_by,
    )


def _load(factory: sessionmaker[Session], batch_id: int) -> Batch:
    with factory() as session:
        batch = session.get(Batch, batch_id)
        assert batch is not None
        session.expunge(batch)
        return batch


def _gone(worker: str) -> bool:
    """A worker on this host whose process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != _HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover(factory: sessionmaker[Session], bus: EventBus | None = None) -> list[int]:
    """Put interrupted batches back in the queue (or fail them after MAX_ATTEMPTS)."""
    now = utcnow()
    requeued: list[int] = []
    with factory() as session:
        running = session.execute(
            select(Batch.id, Batch.worker, Batch.lease_until, Batch.attempts).where(
                Batch.status == BatchStatus.running
            )
        ).all()
    for batch_id, worker, lease_until, attempts in running:
        expired = lease_until is not None and as_utc(lease_until) < now
        if not (expired or _gone(worker)) or worker == worker_id():
            continue
        if attempts >= MAX_ATTEMPTS:
            fail(factory, batch_id, f"interrupted {attempts} times; deliver it again", bus)
            continue
        with transaction(factory) as session:
            done = session.execute(
                update(Batch)
                .where(Batch.id == batch_id, Batch.status == BatchStatus.running)
                .values(status=BatchStatus.pending, lease_until=None, worker="")
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                requeued.append(batch_id)
                log.warning("interrupted batch queued again", extra={"batch_id": batch_id})
    return requeued


def pending_ids(factory: sessionmaker[Session], limit: int = 10) -> list[int]:
    with factory() as session:
        return list(
            session.scalars(
                select(Batch.id)
                .where(Batch.status == BatchStatus.pending)
                .order_by(Batch.id)
                .limit(limit)
            )
        )
