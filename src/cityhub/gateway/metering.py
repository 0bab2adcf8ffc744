"""Metering: every data call becomes one `gateway_usage` row (and its `audit_events` row),
written in batches.

Calls are buffered in memory and written together every `CITYHUB_METER_FLUSH_SECONDS`
by a background thread (0 writes each call at once; see `core.batching`). The rows a
call returned are added to the application's daily counter in the same transaction,
which is what the row quota reads.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.batching import BatchWriter
from cityhub.core.db import write_lock
from cityhub.gateway.limits import ADD_ROWS
from cityhub.gateway.models import UsageRecord
from cityhub.security.audit import AuditLine, audit_rows
from cityhub.security.models import AuditEvent
from cityhub.settings import Settings


@dataclass(frozen=True)
class Usage:
    at: datetime
    day: date
    application_id: int | None
    user_id: int | None
    resource_code: str
    provider_id: int | None
    endpoint: str
    rows: int
    bytes: int
    latency_ms: float
    status: int


class Meter(BatchWriter[tuple[Usage, AuditLine | None]]):
    """A buffer of usage records (with their audit rows) and the thread that writes them."""

    def __init__(self, sessions: sessionmaker[Session], flush_seconds: float | Settings) -> None:
        def interval() -> float:
            if isinstance(flush_seconds, Settings):
                return flush_seconds.meter_flush_seconds
            return float(flush_seconds)

        super().__init__("gateway.metering", lambda batch: write(sessions, batch), interval)

    def record(self, usage: Usage, audit_line: AuditLine | None = None) -> None:
        self.add((usage, audit_line))


def write(sessions: sessionmaker[Session], batch: list[tuple[Usage, AuditLine | None]]) -> None:
    """Insert the usage and audit rows and add returned rows to the daily counters, in one
    transaction."""
    rows_by_day: dict[tuple[int, date], int] = defaultdict(int)
    for usage, _ in batch:
        if usage.application_id is not None and usage.rows:
            rows_by_day[(usage.application_id, usage.day)] += usage.rows
    audits = audit_rows([line for _, line in batch if line is not None])
    with sessions() as session, write_lock(session.get_bind()), session.begin():
        session.execute(insert(UsageRecord), [asdict(u) for u, _ in batch])
        if audits:
            session.execute(insert(AuditEvent), audits)
        for (app_id, day), rows in sorted(rows_by_day.items()):
            session.execute(ADD_ROWS, {"app": app_id, "day": day, "rows": rows})
