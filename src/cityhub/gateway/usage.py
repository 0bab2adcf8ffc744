"""Usage reports: metered calls aggregated by day, application and resource.

Platform admins, operators and auditors see every call; a provider's data officers and
department admins see calls on their resources; developers see their organization's
applications' calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import Session

from cityhub.errors import Forbidden, ValidationFailed
from cityhub.gateway.models import Application, UsageRecord
from cityhub.gateway.schemas import UsageReport, UsageRow
from cityhub.security.models import Role, User

Group = Literal["day", "application", "resource"]
GROUPS: tuple[Group, ...] = ("day", "application", "resource")
SEE_ALL = frozenset({Role.platform_admin, Role.operator, Role.auditor})
PROVIDER = frozenset({Role.data_officer, Role.dept_admin})
MAX_DAYS = 366


def scope(user: User | None) -> ColumnElement[bool] | None:
    """The usage rows `user` may see (None: all), or Forbidden. No user: the console."""
    if user is None or user.roles & SEE_ALL:
        return None
    parts: list[ColumnElement[bool]] = []
    if user.roles & PROVIDER:
        parts.append(UsageRecord.provider_id == user.organization_id)
    if Role.developer in user.roles:
        parts.append(Application.organization_id == user.organization_id)
    if not parts:
        raise Forbidden(
            "usage is shown to platform admins, operators, auditors, the providers of the "
            "resources and the developers of the applications"
        )
    return or_(*parts) if len(parts) > 1 else parts[0]


def parse_groups(raw: str | None) -> list[Group]:
    if not raw:
        return ["day"]
    out: list[Group] = []
    for part in (p.strip() for p in raw.split(",")):
        if part not in GROUPS:
            raise ValidationFailed(f"group_by: {part!r} is not one of {', '.join(GROUPS)}")
        if part not in out:
            out.append(part)
    return out


def report(
    session: Session,
    user: User | None,
    *,
    today: date,
    since: date | None = None,
    until: date | None = None,
    group_by: Sequence[Group] = ("day",),
    application_id: int | None = None,
    resource_code: str | None = None,
) -> UsageReport:
    visible = scope(user)
    end = until or today
    start = since or end - timedelta(days=29)
    if start > end:
        raise ValidationFailed(f"since ({start}) is after until ({end})")
    if (end - start).days > MAX_DAYS:
        raise ValidationFailed(f"a report covers at most {MAX_DAYS} days")
    keys: dict[Group, Any] = {
        "day": UsageRecord.day,
        "application": UsageRecord.application_id,
        "resource": UsageRecord.resource_code,
    }
    wanted = [keys[g] for g in group_by]
    measures = (
        func.count(),
        func.sum(case((UsageRecord.status >= 400, 1), else_=0)),
        func.coalesce(func.sum(UsageRecord.rows), 0),
        func.coalesce(func.sum(UsageRecord.bytes), 0),
        func.coalesce(func.avg(UsageRecord.latency_ms), 0.0),
    )
    where: list[ColumnElement[bool]] = [UsageRecord.day >= start, UsageRecord.day <= end]
    if visible is not None:
        where.append(visible)
    if application_id is not None:
        where.append(UsageRecord.application_id == application_id)
    if resource_code:
        where.append(UsageRecord.resource_code == resource_code)
    base = (
        select(*wanted, *measures)
        .select_from(UsageRecord)
        .outerjoin(Application, Application.id == UsageRecord.application_id)
        .where(and_(*where) if where else false())
    )
    stmt = base.group_by(*wanted).order_by(*wanted) if wanted else base
    names = _app_names(session)
    items = []
    for row in session.execute(stmt):
        values = dict(zip(group_by, row[: len(wanted)], strict=True))
        calls, errors, rows, size, latency = row[len(wanted) :]
        app_id = values.get("application")
        items.append(
            UsageRow(
                day=values.get("day"),
                application_id=app_id,
                application=names.get(app_id) if app_id is not None else None,
                resource_code=values.get("resource"),
                calls=int(calls),
                errors=int(errors or 0),
                rows=int(rows or 0),
                bytes=int(size or 0),
                avg_latency_ms=round(float(latency or 0), 3),
            )
        )
    return UsageReport(
        group_by=list(group_by), since=start, until=end, items=items, totals=_totals(items)
    )


def _totals(items: list[UsageRow]) -> UsageRow:
    calls = sum(i.calls for i in items)
    latency = sum(i.avg_latency_ms * i.calls for i in items) / calls if calls else 0.0
    return UsageRow(
        calls=calls,
        errors=sum(i.errors for i in items),
        rows=sum(i.rows for i in items),
        bytes=sum(i.bytes for i in items),
        avg_latency_ms=round(latency, 3),
    )


def _app_names(session: Session) -> dict[int, str]:
    return {
        app_id: name for app_id, name in session.execute(select(Application.id, Application.name))
    }
