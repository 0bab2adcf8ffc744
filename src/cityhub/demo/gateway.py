"""The interface service in the Linyi demo: applications, keys, sharing requests in every
state (granted, approved, rejected, pending, overdue), two weeks of metered calls, and
generated rows for every published table that is still empty.

Runs after the catalog and the base libraries; idempotent: an existing demo application
means the requests were made, and a table that has rows is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Connection, Engine, insert, inspect, select, update
from sqlalchemy.orm import Session

from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import ResourceFormat, Status
from cityhub.core.db import session_factory, transaction, utcnow
from cityhub.demo.gateway_rows import ItemShape, generate
from cityhub.directory.models import Organization
from cityhub.gateway import apps, resources
from cityhub.gateway import requests as sharing
from cityhub.gateway.models import Application, RequestStatus, SharingRequest, UsageRecord
from cityhub.gateway.schemas import ApplicationCreate, Approve, RequestCreate
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.security.models import Role, User
from cityhub.settings import Settings

DEMO_ROWS = 200  # generated rows per empty published table: small by default
USAGE_DAYS = 14


@dataclass(frozen=True)
class AppSpec:
    org: str
    owner: str
    name: str
    purpose: str
    contact: str
    phone: str


TRAFFIC = AppSpec(
    "LYJT",
    "jt_dev",
    "智慧交通出行服务",
    "公交到站预测、出行诱导和交通事故研判（惠民应用 · 智慧交通）",
    "交通信息科",
    "05398123456",
)
LOGISTICS = AppSpec(
    "LYZLWL",
    "dev",
    "智联物流车辆调度",
    "物流企业车辆调度与合作企业资质核验（产业应用 · 智慧物流）",
    "张工",
    "13905391234",
)


@dataclass(frozen=True)
class Ask:
    """One demo request and what happens to it."""

    app: AppSpec
    resource: str
    purpose: str
    items: tuple[str, ...] | None = None
    clear: tuple[str, ...] = ()
    decision: str = ""  # approve, reject, or "" (left pending)
    reason: str = ""
    age_working_days: int = 0  # backdated: older than the deadline means overdue


ASKS: tuple[Ask, ...] = (
    Ask(TRAFFIC, "401002-LYJT-000001", "公交线路与站点展示"),  # 无条件: granted at once
    Ask(TRAFFIC, "401001-LYGA-000005", "道路交通事故热点分析"),
    Ask(TRAFFIC, "401005-LYJT-000006", "网约车出行量趋势"),
    Ask(
        TRAFFIC,
        "101001-LYGA-000001",
        "公交客流按户籍地统计（不含个人明文）",
        items=("xm", "xb", "csrq", "hjdz"),
        decision="approve",
        reason="用途明确，仅限统计分析，不得对外提供",
    ),
    Ask(
        TRAFFIC,
        "201004-LYJT-000004",
        "出租汽车驾驶员资格核验",
        clear=("gmsfhm",),
        age_working_days=14,  # overdue at the provider
    ),
    Ask(TRAFFIC, "201001-LYGA-000004", "机动车保有量分析", age_working_days=2),
    Ask(LOGISTICS, "102007-LYSJ-000001", "合作企业主体资格核验"),
    Ask(LOGISTICS, "102003-LYJT-000003", "道路运输经营许可核验"),
    Ask(
        LOGISTICS,
        "101002-LYGA-000002",
        "司机户籍变动核验",
        decision="reject",
        reason="申请用途与户籍迁移数据无直接关联，且企业不属于共享对象",
    ),
    Ask(
        LOGISTICS,
        "101001-LYGA-000001",
        "司机身份核验",
        items=("gmsfhm", "xm"),
        clear=("gmsfhm",),
        age_working_days=12,  # overdue
    ),
)


def _user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def _org(session: Session, code: str) -> Organization | None:
    return session.scalar(select(Organization).where(Organization.code == code))


def _ensure_app(session: Session, spec: AppSpec, settings: Settings) -> Application | None:
    owner, org = _user(session, spec.owner), _org(session, spec.org)
    if owner is None or org is None:
        return None
    found = session.scalar(
        select(Application).where(
            Application.organization_id == org.id, Application.name == spec.name
        )
    )
    if found is not None:
        return found
    data = ApplicationCreate(
        name=spec.name, purpose=spec.purpose, contact_name=spec.contact, contact_phone=spec.phone
    )
    app = apps.create(session, owner, data, settings)
    apps.issue_key(session, owner, app, "demo")  # the secret is not kept: issue your own
    return app


def _officer(session: Session, provider_id: int) -> User | None:
    return session.scalar(
        select(User)
        .where(User.organization_id == provider_id, User.is_active.is_(True))
        .where(User.role_rows.any(role=Role.data_officer))
        .limit(1)
    )


def _ask(session: Session, ask: Ask, app: Application, settings: Settings) -> None:
    requester = session.get(User, app.owner_id)
    info = session.scalar(select(Resource).where(Resource.code == ask.resource))
    if requester is None or info is None or info.status is not Status.published:
        return  # the catalog demo changed: skip what no longer fits
    calendar = Calendar.from_settings(settings)
    data = RequestCreate(
        application_id=app.id,
        resource_code=ask.resource,
        items=list(ask.items) if ask.items else None,
        clear_items=list(ask.clear),
        purpose=ask.purpose,
        period_end=calendar.today() + timedelta(days=365),
    )
    req = sharing.create(session, requester, data, settings)
    if ask.age_working_days:
        # Backdated, as if made that many working days ago (the deadline follows).
        made = _working_days_ago(calendar, ask.age_working_days)
        session.execute(
            update(SharingRequest)
            .where(SharingRequest.id == req.id)
            .values(
                created_at=utcnow() - (calendar.today() - made),
                deadline=calendar.add_working_days(made, settings.approval_working_days),
            )
        )
    officer = _officer(session, req.provider_id)
    if officer is None or req.status is not RequestStatus.pending:
        return
    if ask.decision == "approve":
        sharing.approve(session, officer, req, Approve(reason=ask.reason), settings)
    elif ask.decision == "reject":
        sharing.reject(session, officer, req, ask.reason, settings)


def _working_days_ago(calendar: Calendar, n: int) -> date:
    day = calendar.today()
    while n > 0:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            n -= 1
    return day


def _usage(session: Session, seed: int, cal: Calendar) -> None:
    """Two weeks of metered calls, so that the usage charts have something to show."""
    rng = random.Random(seed)
    granted = session.execute(
        select(
            SharingRequest.application_id, SharingRequest.resource_code, SharingRequest.provider_id
        ).where(SharingRequest.status.in_((RequestStatus.granted, RequestStatus.approved)))
    ).all()
    now = utcnow()
    records = []
    for day_back in range(USAGE_DAYS, 0, -1):
        for app_id, code, provider_id in granted:
            for _ in range(rng.randint(3, 25)):
                at = now - timedelta(days=day_back, seconds=rng.randint(0, 86_000))
                failed = rng.random() < 0.04
                rows = 0 if failed else rng.choice((10, 50, 100, 100, 200))
                records.append(
                    {
                        "at": at,
                        "day": cal.today(at),
                        "application_id": app_id,
                        "user_id": None,
                        "resource_code": code,
                        "provider_id": provider_id,
                        "endpoint": "rows",
                        "rows": rows,
                        "bytes": rows * 180,
                        "latency_ms": round(rng.uniform(4, 40), 2),
                        "status": rng.choice((403, 429)) if failed else 200,
                    }
                )
    if records:
        session.execute(insert(UsageRecord), records)


def fill_tables(engine: Engine, seed: int, rows: int = DEMO_ROWS) -> int:
    """Generated rows for every published table that has none yet; returns tables filled."""
    sessions = session_factory(engine)
    with sessions() as session:
        codes = list(
            session.scalars(
                select(Resource.code).where(
                    Resource.status == Status.published, Resource.format == ResourceFormat.table
                )
            )
        )
    filled = 0
    for n, code in enumerate(sorted(codes)):
        with transaction(sessions) as session:
            info = resources.load(session, code)
            if not info.items:
                continue
            conn = session.connection()
            ds.ensure_table(conn, info.table_spec)
            if not _plain(conn, info) or ds.count(conn, info.table_spec) > 0:
                continue  # another package's table (the base libraries), or already filled
            shapes = [ItemShape(i.column, i.name, i.kind.value, i.length) for i in info.items]
            ds.insert(conn, info.table_spec, generate(shapes, rows, seed + n))
            filled += 1
    return filled


def _plain(conn: Connection, info: resources.ResourceInfo) -> bool:
    """A table exactly as the datastore makes it: no extra columns, no unique keys.

    Tables the library shaped (golden records, lineage columns, keys) are filled by its own
    deliveries; random rows would break their keys and their meaning.
    """
    inspector = inspect(conn)
    name = info.table_spec.name
    expected = {ds.ROW_ID, ds.UPDATED_AT, *(i.column for i in info.items)}
    columns = {c["name"] for c in inspector.get_columns(name)}
    unique = bool(inspector.get_unique_constraints(name)) or any(
        index.get("unique") for index in inspector.get_indexes(name)
    )
    return columns == expected and not unique


def build(settings: Settings, engine: Engine, *, seed: int) -> int:
    """Applications, requests and usage (once), then rows for empty tables."""
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        first_time = not session.scalar(
            select(Application.id).where(Application.name == TRAFFIC.name)
        )
        made = {spec.name: _ensure_app(session, spec, settings) for spec in (TRAFFIC, LOGISTICS)}
        if first_time:
            for ask in ASKS:
                app = made.get(ask.app.name)
                if app is not None:
                    _ask(session, ask, app, settings)
            _usage(session, seed, Calendar.from_settings(settings))
    return fill_tables(engine, seed)
