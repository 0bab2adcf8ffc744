"""Who calls an exchange endpoint, found in a short transaction of its own.

Uploads and batch runs take their own transactions (a batch is one long transaction), so
the caller is not looked up through the request's session: on SQLite that session
would hold the single write lock (the key's last-use stamp) for the whole upload.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from cityhub.core.db import transaction
from cityhub.errors import Unauthorized
from cityhub.exchange.service import Actor
from cityhub.gateway import access
from cityhub.security import audit
from cityhub.security.deps import SESSION_COOKIE


def actor(request: Request) -> Actor:
    raw = access.bearer(request.headers.get("authorization", ""), bare_allowed=False)
    if raw is not None:
        with request.app.state.engine.connect() as conn:
            caller = access.from_key(conn, raw)
    else:
        token = request.cookies.get(SESSION_COOKIE)
        found = None
        if token:
            with transaction(request.app.state.sessions) as session:
                found = access.from_session(session, token)
        if found is None:
            raise Unauthorized("log in or send `Authorization: Bearer <api key>`")
        caller = found
    audit.set_actor(
        request, audit.AuditActor(caller.username, caller.organization_id, caller.credential)
    )
    return Actor(caller.username, caller.organization_id, caller.roles)


ActorDep = Annotated[Actor, Depends(actor)]
