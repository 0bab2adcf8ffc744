"""One metered data call: authenticate, admit (limits), resolve the caller's view of the
resource, run, and record usage and audit whatever the outcome (errors included).

The hot path holds one pooled connection at a time: reads (key, resource, grants) on one,
the limiter's short write transaction on another, the data on a third. The call's audit
row is written with its usage row in the meter's next batch (`audit.mark_recorded`
tells the audit middleware so): a data call costs one commit, the limiter's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from cityhub.core.db import utcnow
from cityhub.core.logging import request_id_var
from cityhub.errors import CityHubError, Unauthorized
from cityhub.gateway import access, resources
from cityhub.gateway.limits import Allowance
from cityhub.gateway.metering import Usage
from cityhub.gateway.runtime import cache_of, ensure_then_retry, gate_of, meter_of
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.security import audit
from cityhub.security.audit import AuditLine
from cityhub.security.deps import SESSION_COOKIE, client_ip

T = TypeVar("T")


@dataclass
class DataCall:
    """State of one call, from the first byte read to the last byte sent."""

    request: Request
    endpoint: str
    resource_code: str = ""
    started: float = field(default_factory=time.perf_counter)
    caller: access.Caller | None = None
    allowance: Allowance | None = None
    provider_id: int | None = None
    rows: int = 0
    size: int = 0  # bytes sent
    status: int = 200
    reason: str = ""
    recorded: bool = False

    def __post_init__(self) -> None:
        audit.mark_recorded(self.request)  # this call's audit row goes with its usage row

    @property
    def engine(self) -> Engine:
        engine: Engine = self.request.app.state.engine
        return engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = self.request.app.state.sessions
        return factory

    @property
    def gate(self) -> threading.BoundedSemaphore:
        return gate_of(self.request.app)

    @property
    def calendar(self) -> Calendar:
        return Calendar.from_settings(self.request.app.state.settings)

    def authenticate(self, conn: Connection, *, ckan: bool = False) -> access.Caller:
        headers = self.request.headers
        raw = access.bearer(headers.get("authorization", ""), bare_allowed=ckan)
        if raw is None and ckan:
            raw = headers.get("x-ckan-api-key") or None
        if raw is not None:
            caller = access.from_key(conn, raw)
        else:
            token = self.request.cookies.get(SESSION_COOKIE)
            found = None
            if token:
                with self.sessions() as session, session.begin():
                    found = access.from_session(session, token)
            if found is None:
                raise Unauthorized("send `Authorization: Bearer <application key>`")
            caller = found
        self.caller = caller
        return caller

    def open(self, code: str, *, ckan: bool = False) -> access.View:
        """Authenticate, count against the limits, and find what the caller may read."""
        self.resource_code = code
        with self.gate, self.engine.connect() as conn:
            caller = self.authenticate(conn, ckan=ckan)
        with self.gate:
            self.allowance = access.admit(self.engine, caller, self.calendar)
        with self.gate, self.engine.connect() as conn:
            info = cache_of(self.request.app).published_table(conn, code)
            self.provider_id = info.provider_id
            return access.view(conn, caller, info)

    def run(self, work: Callable[[], T]) -> T:
        """`work()`; an error is metered and audited with its status, then re-raised."""
        try:
            return work()
        except CityHubError as exc:
            self.fail(exc)
            raise
        except Exception:
            self.status = 500
            self.record()
            raise

    def fail(self, exc: CityHubError) -> None:
        self.status, self.reason = exc.status, exc.detail
        self.record()

    def read(self, info: resources.ResourceInfo, fn: Callable[[Connection], T]) -> T:
        """Run a datastore read; a table missing for a published resource is created."""
        try:
            with self.gate, self.engine.connect() as conn:
                return fn(conn)
        except DBAPIError as exc:
            ensure_then_retry(self.engine, info, exc)
        with self.gate, self.engine.connect() as conn:
            return fn(conn)

    def ensure_table(self, info: resources.ResourceInfo) -> None:
        with self.engine.begin() as conn:
            if not ds.exists(conn, info.code):
                ds.ensure_table(conn, info.table_spec)

    def record(self) -> None:
        """Hand usage and audit to the meter (once per call)."""
        if self.recorded:
            return
        self.recorded = True
        caller, app = self.caller, self.caller.application if self.caller else None
        now = utcnow()
        scope = self.request.scope
        query = scope.get("query_string", b"").decode("latin-1")
        detail: dict[str, Any] = {"rows": self.rows}
        if caller is not None:
            detail["credential"] = caller.credential
        if app is not None:
            detail["application_id"] = app.id
        if self.reason:
            detail["reason"] = self.reason[:500]
        meter_of(self.request.app).record(
            Usage(
                at=now,
                day=self.allowance.day if self.allowance else self.calendar.today(now),
                application_id=app.id if app else None,
                user_id=caller.user_id if caller else None,
                resource_code=self.resource_code[:64],
                provider_id=self.provider_id,
                endpoint=self.endpoint,
                rows=self.rows,
                bytes=self.size,
                latency_ms=round((time.perf_counter() - self.started) * 1000, 3),
                status=self.status,
            ),
            AuditLine(
                at=now,
                actor=caller.username if caller else "anonymous",
                organization_id=caller.organization_id if caller else None,
                action=f"{scope['method']} {scope['path']}",
                target=scope["path"] + (f"?{query}" if query else ""),
                outcome=audit.outcome_for(self.status),
                status=self.status,
                ip=client_ip(self.request),
                request_id=str(scope.get("state", {}).get("request_id", request_id_var.get())),
                detail=detail,
            ),
        )

    def stream(self, chunks: Iterator[bytes], counted: Any) -> Iterator[bytes]:
        """Pass an export through, recording its usage when it ends (or is cut off)."""
        try:
            yield from chunks
        except Exception:
            self.status = 500
            raise
        finally:
            self.rows, self.size = counted.rows, counted.bytes
            self.record()

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.caller is not None and self.caller.application is not None:
            out["X-RateLimit-Limit"] = str(self.caller.application.limits.rate_limit)
        if self.allowance is not None:
            out["X-Quota-Calls-Remaining"] = str(self.allowance.calls_left)
            out["X-Quota-Rows-Remaining"] = str(self.allowance.rows_left)
        return out
