"""The append-only audit log: who did what, when, from where, with what outcome.

Every /api/v1 call gets one row, written by `AuditMiddleware` once the call is answered:
a change's row at once, a read's row in the next batch of `CITYHUB_AUDIT_FLUSH_SECONDS`
(one transaction per call would cost a read more than the read itself).
The caller is known from a plain snapshot (`AuditActor`) that the auth dependency leaves in
the request state: ORM objects may be expired or detached by then. A handler may add
detail (`annotate`) or, when it writes its own rows in their own transactions as login
does, tell the middleware to stay silent (`mark_recorded`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.core.batching import BatchWriter
from cityhub.core.db import utcnow, write_lock
from cityhub.core.logging import request_id_var
from cityhub.security.models import AuditEvent

if TYPE_CHECKING:  # typing only: the service layer imports this module and stays web-free
    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("cityhub.audit")

ACTOR_KEY = "audit_actor"
DETAIL_KEY = "audit_detail"
RECORDED_KEY = "audit_recorded"
AUDITED_PREFIXES = ("/api/v1/", "/login", "/logout")
READS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITER = "audit_writer"
_KEEP = 8192  # bytes of an error answer kept to find its reason


@dataclass(frozen=True)
class AuditActor:
    """Who is calling, copied out of the ORM user while its session is open."""

    username: str
    organization_id: int | None
    credential: str  # "api_key:<prefix>", "session" or "password"


@dataclass(frozen=True)
class AuditLine:
    """One audit row, held in memory until its batch is written."""

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


def audit_rows(lines: list[AuditLine]) -> list[dict[str, Any]]:
    """`audit_events` rows of `lines`, for one multi-row insert."""
    return [
        {
            **asdict(line),
            "detail": json.dumps(line.detail, ensure_ascii=False, default=str),
            "actor": line.actor[:64],
            "action": line.action[:128],
            "target": line.target[:512],
            "ip": line.ip[:64],
            "request_id": line.request_id[:64],
        }
        for line in lines
    ]


def write_lines(sessions: sessionmaker[Session], lines: list[AuditLine]) -> None:
    with sessions() as session, write_lock(session.get_bind()), session.begin():
        session.execute(insert(AuditEvent), audit_rows(lines))


def writer_of(app: Any) -> BatchWriter[AuditLine]:
    """The app's batch writer of read calls' rows (started by the app's lifespan; until
    then, or without one, each row is written at once)."""
    found: BatchWriter[AuditLine] | None = getattr(app.state, WRITER, None)
    if found is None:
        settings = app.state.settings
        sessions = app.state.sessions
        found = BatchWriter(
            "audit", lambda lines: write_lines(sessions, lines),
            lambda: float(settings.audit_flush_seconds),
        )  # fmt: skip
        setattr(app.state, WRITER, found)
    return found


def outcome_for(status: int) -> str:
    if status < 400:
        return "success"
    if status in (401, 403, 429):
        return "denied"
    return "failed" if status < 500 else "error"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str = "",
    outcome: str = "success",
    status: int | None = None,
    ip: str = "",
    organization_id: int | None = None,
    detail: dict[str, Any] | None = None,
    request_id: str | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor=actor[:64],
            organization_id=organization_id,
            action=action[:128],
            target=target[:512],
            ip=ip[:64],
            request_id=(request_id if request_id is not None else request_id_var.get())[:64],
            outcome=outcome,
            status=status,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
    )


# -- what handlers tell the middleware ---------------------------------------


def set_actor(request: Request, actor: AuditActor) -> None:
    setattr(request.state, ACTOR_KEY, actor)


def annotate(request: Request, **detail: Any) -> None:
    """Add facts to this request's audit row (never secrets)."""
    current: dict[str, Any] = getattr(request.state, DETAIL_KEY, {})
    setattr(request.state, DETAIL_KEY, current | detail)


def mark_recorded(request: Request) -> None:
    """This handler audits itself in its own transactions; the middleware stays silent."""
    setattr(request.state, RECORDED_KEY, True)


# -- reading ------------------------------------------------------------------


def list_events(
    session: Session,
    *,
    limit: int,
    before_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[AuditEvent]:
    """Newest first; `action` is a prefix ("auth." or "POST /api/v1/users")."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action:
        escaped = action.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(AuditEvent.action.like(f"{escaped}%", escape="\\"))
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    # Stored as UTC (naive on SQLite): compare in UTC; a naive bound is taken as UTC.
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= _utc(since))
    if until is not None:
        stmt = stmt.where(AuditEvent.at < _utc(until))
    return list(session.scalars(stmt))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


# -- the middleware -----------------------------------------------------------


class AuditMiddleware:
    """Records every API call (every write and every data read) once it has been answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(AUDITED_PREFIXES):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        status = 500
        is_problem = False
        body = bytearray()  # an error answer's problem document, to keep its reason

        async def capture(message: Message) -> None:
            nonlocal status, is_problem
            if message["type"] == "http.response.start":
                status = message["status"]
                ctype = dict(message.get("headers", [])).get(b"content-type", b"")
                is_problem = status >= 400 and b"problem+json" in ctype
            elif is_problem and message["type"] == "http.response.body" and len(body) < _KEEP:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if not state.get(RECORDED_KEY):
                reason = _reason(bytes(body)) if is_problem else None
                # Shielded: a client hanging up must not cost the audit row.
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(self._write, scope, state, status, reason)

    def _write(self, scope: Scope, state: dict[str, Any], status: int, reason: str | None) -> None:
        actor: AuditActor | None = state.get(ACTOR_KEY)
        client = scope.get("client") or ("", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        detail: dict[str, Any] = dict(state.get(DETAIL_KEY, {}))
        if actor is not None:
            detail["credential"] = actor.credential
        if reason:
            detail["reason"] = reason
        line = AuditLine(
            at=utcnow(),
            actor=actor.username if actor else "anonymous",
            organization_id=actor.organization_id if actor else None,
            action=f"{scope['method']} {scope['path']}",
            target=scope["path"] + (f"?{query}" if query else ""),
            outcome=outcome_for(status),
            status=status,
            ip=client[0] or "",
            request_id=str(state.get("request_id", "")),
            detail=detail,
        )
        try:
            if scope["method"] in READS:
                writer_of(scope["app"]).add(line)  # a failed batch is retried, and logged
            else:
                write_lines(scope["app"].state.sessions, [line])
        except Exception:  # the answer is already sent; losing the row must be loud
            log.critical("audit row could not be written", exc_info=True)


def _reason(body: bytes) -> str | None:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return None
    return str(detail)[:500] if detail else None
