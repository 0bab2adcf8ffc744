"""The gateway's part of the Linyi demo: applications, requests in every state, usage, and
rows behind every published table; a re-run changes nothing."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog.models import Resource
from cityhub.catalog.vocab import ResourceFormat, Status
from cityhub.core.db import make_engine
from cityhub.demo import build_demo
from cityhub.demo import gateway as gateway_demo
from cityhub.gateway import requests as sharing
from cityhub.gateway import resources
from cityhub.gateway.models import Application, SharingRequest, UsageRecord
from cityhub.gateway.workdays import Calendar
from cityhub.library import datastore as ds
from cityhub.settings import Settings
from cityhub.standards import credit_code, id_number


def _state(db: sessionmaker[Session], settings: Settings) -> tuple[object, ...]:
    today = Calendar.from_settings(settings).today()
    with db() as session:
        apps = sorted(session.scalars(select(Application.name)))
        statuses = Counter(r.status.value for r in session.scalars(select(SharingRequest)))
        overdue = sum(sharing.is_overdue(r, today) for r in session.scalars(select(SharingRequest)))
        usage = session.scalar(select(func.count()).select_from(UsageRecord))
    return apps, dict(statuses), overdue, usage


def test_the_demo_has_applications_requests_usage_and_rows(
    settings: Settings, db: sessionmaker[Session]
) -> None:
    build_demo(settings, seed=7, population=0)
    apps, statuses, overdue, usage = _state(db, settings)
    assert apps == ["智慧交通出行服务", "智联物流车辆调度"]
    assert statuses["granted"] >= 3 and statuses["approved"] >= 1
    assert statuses["rejected"] >= 1 and statuses["pending"] >= 3
    assert overdue >= 2
    assert usage and usage > 100

    engine = make_engine(settings.effective_database_url)
    with db() as session, engine.connect() as conn:
        tables = session.scalars(
            select(Resource.code).where(
                Resource.status == Status.published, Resource.format == ResourceFormat.table
            )
        ).all()
        infos = [resources.load(session, code) for code in tables]
        plain = [i for i in infos if gateway_demo._plain(conn, i)]
        assert len(plain) > 40  # the library shapes its own tables and fills them itself
        empty = [i.code for i in plain if ds.count(conn, i.table_spec) == 0]
        assert not empty, f"published tables without rows: {empty}"
        drivers = resources.load(session, "201004-LYJT-000004")
        ids = ds.page(conn, drivers.table_spec, ds.RowQuery(("gmsfhm",), limit=50)).rows
        assert ids and all(id_number.is_valid(r[0]) for r in ids)
        firms = resources.load(session, "102003-LYJT-000003")
        codes = ds.page(conn, firms.table_spec, ds.RowQuery(("tyshxydm",), limit=50)).rows
        assert codes and all(credit_code.is_valid(r[0]) for r in codes)
    engine.dispose()

    build_demo(settings, seed=7, population=0)  # idempotent
    assert _state(db, settings) == (apps, statuses, overdue, usage)
