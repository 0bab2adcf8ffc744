"""Metering: every data call becomes one `gateway_usage` row (and its `audit_events` row),
written in batches.

Calls are buffered in memory and written together every `CITYHUB_METER_FLUSH_SECONDS`
by a background thread (0 writes each call at once). The rows a call returned are
added to the application's daily counter in the same transaction, which is what the
row quota reads. A clean shutdown flushes what is pending; a failed write keeps the
batch for the next attempt.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from cityhub.gateway.limits import ADD_ROWS
from cityhub.gateway.models import UsageRecord
from cityhub.security.models import AuditEvent
from cityhub.settings import Settings

log = logging.getLogger("cityhub.gateway.metering")
_MAX_PENDING = 200_000  # beyond this the database is down: keep memory bounded, say so


@dataclass(frozen=True)
class AuditLine:
    """The audit row of a data call, written in the same batch as its usage row."""

    at: datetime
    actor: str
    organization_id: int | None
    action: str
    target: str
    outcome: str
    status: int
    ip: str
    request_id: str
    detail: dict[str, Any]


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


class Meter:
    """A buffer of usage records and the thread that writes them."""

    def __init__(self, sessions: sessionmaker[Session], flush_seconds: float | Settings) -> None:
        self._sessions = sessions
        self._settings = flush_seconds if isinstance(flush_seconds, Settings) else None
        self._fixed = flush_seconds if isinstance(flush_seconds, float | int) else 0.0
        self._pending: list[tuple[Usage, AuditLine | None]] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _interval(self) -> float:
        """Read each time: tests (and operators via settings reload) may change it."""
        return self._settings.meter_flush_seconds if self._settings else float(self._fixed)

    def start(self) -> None:
        if self._interval > 0 and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cityhub-meter", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the writer and write whatever is pending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.flush()

    def record(self, usage: Usage, audit_line: AuditLine | None = None) -> None:
        with self._lock:
            if len(self._pending) >= _MAX_PENDING:
                log.error("usage buffer full; dropping the oldest record")
                self._pending.pop(0)
            self._pending.append((usage, audit_line))
        if self._interval <= 0 or self._stop.is_set():
            self.flush()

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def flush(self) -> int:
        """Write the buffered records now; returns how many were written."""
        with self._write_lock:  # one writer at a time keeps the order and the counters right
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                return 0
            try:
                write(self._sessions, batch)
            except Exception:
                log.exception("usage records could not be written; will retry")
                with self._lock:
                    self._pending[:0] = batch
                return 0
            return len(batch)

    def _run(self) -> None:
        while not self._stop.wait(self._interval or 1.0):
            self.flush()


def write(sessions: sessionmaker[Session], batch: list[tuple[Usage, AuditLine | None]]) -> None:
    """Insert the usage and audit rows and add returned rows to the daily counters, in one
    transaction."""
    rows_by_day: dict[tuple[int, date], int] = defaultdict(int)
    for usage, _ in batch:
        if usage.application_id is not None and usage.rows:
            rows_by_day[(usage.application_id, usage.day)] += usage.rows
    audits = [
        {
            **asdict(line),
            "detail": json.dumps(line.detail, ensure_ascii=False, default=str),
            "actor": line.actor[:64],
            "action": line.action[:128],
            "target": line.target[:512],
            "ip": line.ip[:64],
            "request_id": line.request_id[:64],
        }
        for _, line in batch
        if line is not None
    ]
    with sessions() as session, session.begin():
        session.execute(insert(UsageRecord), [asdict(u) for u, _ in batch])
        if audits:
            session.execute(insert(AuditEvent), audits)
        for (app_id, day), rows in sorted(rows_by_day.items()):
            session.execute(ADD_ROWS, {"app": app_id, "day": day, "rows": rows})
