"""The append-only audit log: who did what, when, from where, with what outcome."""

from __future__ import annotations

import json
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityhub.core.logging import request_id_var
from cityhub.security.models import AuditEvent


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
) -> None:
    session.add(
        AuditEvent(
            actor=actor[:64],
            organization_id=organization_id,
            action=action[:128],
            target=target[:512],
            ip=ip[:64],
            request_id=request_id_var.get(),
            outcome=outcome,
            status=status,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
    )


class AuditMiddleware:
    """Records every API call (every write and every data read) once it has been answered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(("/api/v1/", "/login", "/logout")):
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            await anyio.to_thread.run_sync(self._write, scope, status)

    def _write(self, scope: Scope, status: int) -> None:
        actor: tuple[str, int] | None = scope.get("state", {}).get("actor")
        client = scope.get("client") or ("", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        factory: sessionmaker[Session] = scope["app"].state.sessions
        with factory() as session, session.begin():
            record(
                session,
                actor=actor[0] if actor else "anonymous",
                organization_id=actor[1] if actor else None,
                action=f"{scope['method']} {scope['path']}",
                target=scope["path"] + (f"?{query}" if query else ""),
                outcome=outcome_for(status),
                status=status,
                ip=client[0] or "",
            )
