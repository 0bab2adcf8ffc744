"""Leases of exclusive scheduled jobs: one row per job in `scheduler_leases`, claimed with
one conditional UPDATE, so across every process sharing the database only one runs the job
at a time, and it runs once per interval cluster-wide."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, DateTime, Float, String, or_, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from cityhub.core.db import Base, transaction, utcnow
from cityhub.core.times import as_utc

log = logging.getLogger("cityhub.scheduler")
_MAX_NAME = 128
_LEASE_GRACE = timedelta(seconds=5)


class JobLease(Base):
    """One row per exclusive job: who runs it, until when, and when it is next due."""

    __tablename__ = "scheduler_leases"

    job: Mapped[str] = mapped_column(String(_MAX_NAME), primary_key=True)
    owner: Mapped[str] = mapped_column(String(128), default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    next_run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_status: Mapped[str] = mapped_column(String(16), default="")
    last_error: Mapped[str] = mapped_column(String(500), default="")
    last_duration_ms: Mapped[float | None] = mapped_column(Float, default=None)
    runs: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(BigInteger, default=0)


def claim_lease(
    factory: sessionmaker[Session], name: str, interval: float, timeout: float, owner: str
) -> tuple[bool, datetime | None]:
    """(True, None) when `owner` took the lease of a due job; else (False, when it is due
    again, or None when unknown)."""
    now = utcnow()
    lease_until = now + timedelta(seconds=timeout) + _LEASE_GRACE
    next_run = now + timedelta(seconds=interval)
    try:
        with transaction(factory) as session:
            taken = session.execute(
                update(JobLease)
                .where(
                    JobLease.job == name,
                    JobLease.next_run_at <= now,
                    or_(JobLease.lease_until.is_(None), JobLease.lease_until <= now),
                )
                .values(
                    owner=owner,
                    lease_until=lease_until,
                    next_run_at=next_run,
                    last_started_at=now,
                    runs=JobLease.runs + 1,
                )
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True, None
            row = session.get(JobLease, name)
            if row is None:
                session.add(
                    JobLease(
                        job=name,
                        owner=owner,
                        lease_until=lease_until,
                        next_run_at=next_run,
                        last_started_at=now,
                        runs=1,
                        failures=0,
                    )
                )
                return True, None
            return False, max(as_utc(row.next_run_at) or now, as_utc(row.lease_until) or now)
    except IntegrityError:  # another process created the row first
        return False, now + timedelta(seconds=1)
    except SQLAlchemyError:
        log.exception("cannot claim the lease of a job", extra={"job": name})
        return False, now + timedelta(seconds=5)


def release_lease(
    factory: sessionmaker[Session],
    name: str,
    owner: str,
    status: str,
    error: str,
    duration_ms: float,
) -> None:
    """Record how the run ended and free the lease (it expires anyway if this fails)."""
    failed = status in ("failed", "timeout")
    try:
        with transaction(factory) as session:
            session.execute(
                update(JobLease)
                .where(JobLease.job == name, JobLease.owner == owner)
                .values(
                    lease_until=None,
                    last_finished_at=utcnow(),
                    last_status=status,
                    last_error=error[:500],
                    last_duration_ms=round(duration_ms, 2),
                    failures=JobLease.failures + (1 if failed else 0),
                )
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError:
        log.exception("cannot release the lease of a job", extra={"job": name})
