"""A few rows of a resource as a signed-in person may see them (the catalog page's sample).

- the provider's data officers and department admins: every item, in clear;
- someone whose organization holds active grants on the resource: the granted items,
  masked unless a grant allows clear text;
- otherwise, for 无条件共享 resources: a preview of every item, masked items masked
  (the grant would be given at once anyway); for others: nothing but how to ask.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cityhub.catalog.vocab import ShareType
from cityhub.core.db import utcnow
from cityhub.gateway import grants, rows
from cityhub.gateway.access import PROVIDER_STAFF, View
from cityhub.gateway.metering import Usage
from cityhub.gateway.models import Application, Grant
from cityhub.gateway.resources import ResourceInfo, load_published_table
from cityhub.gateway.runtime import meter_of
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.security.models import User

Access = Literal["provider", "granted", "preview", "none"]
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Sample:
    code: str
    access: Access
    fields: list[str]
    masked: list[str]
    items: list[dict[str, Any]]


def _org_grants(session: Session, user: User, info: ResourceInfo) -> list[Any]:
    now = utcnow()
    return list(
        session.execute(
            select(Grant.id, Grant.items, Grant.clear_items)
            .join(Application, Application.id == Grant.application_id)
            .where(
                Application.organization_id == user.organization_id,
                Grant.resource_code == info.code,
                Grant.revoked_at.is_(None),
                Grant.starts_at <= now,
                Grant.expires_at > now,
            )
        ).all()
    )


def view_for(session: Session, user: User, info: ResourceInfo) -> tuple[Access, View | None]:
    if user.organization_id == info.provider_id and user.roles & PROVIDER_STAFF:
        return "provider", View(info, info.items, frozenset(i.code for i in info.items))
    if found := _org_grants(session, user, info):
        access = grants.access_of(found)
        items = tuple(i for i in info.items if i.code in access.items)
        return "granted", View(info, items, access.clear_items, access.grant_ids)
    if info.share_type is ShareType.unconditional:
        return "preview", View(info, info.items, frozenset())
    return "none", None


def sample(session: Session, engine: Engine, user: User, code: str) -> Sample:
    info = load_published_table(session, code)
    access, view = view_for(session, user, info)
    if view is None:
        return Sample(code, access, [], [], [])
    plan = rows.parse(view, [("limit", str(SAMPLE_ROWS))])
    with engine.begin() as conn:
        if not ds.exists(conn, info.code):
            ds.ensure_table(conn, info.table_spec)
        page = ds.page(conn, info.table_spec, plan.query)
    return Sample(
        code,
        access,
        [i.code for i in plan.fields],
        plan.masked,
        rows.records(plan, page.rows),
    )


def metered(app: Any, session: Session, user: User, code: str, endpoint: str) -> Sample:
    """`sample`, metered like every data read (no application: a person's own view)."""
    started = time.perf_counter()
    found = sample(session, app.state.engine, user, code)
    calendar = Calendar.from_settings(app.state.settings)
    meter_of(app).record(
        Usage(
            at=utcnow(),
            day=calendar.today(),
            application_id=None,
            user_id=user.id,
            resource_code=code[:64],
            provider_id=None,
            endpoint=endpoint,
            rows=len(found.items),
            bytes=0,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
            status=200,
        )
    )
    return found
