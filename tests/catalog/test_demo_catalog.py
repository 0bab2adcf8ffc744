"""The Linyi demo catalog: at least 80 resources from every department, every category,
share and open type, realistic items; built through the workflow; idempotent."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from cityhub.catalog import codes, masking
from cityhub.catalog.models import Resource, ResourceVersion
from cityhub.catalog.vocab import Category, OpenType, ShareType, Status
from cityhub.core.db import transaction
from cityhub.demo.catalog import build_catalog, plan
from cityhub.demo.departments import ALL_ORGS, DEPARTMENTS
from cityhub.directory.models import Organization


def _departments(session: Session) -> dict[str, Organization]:
    """The demo's organizations (what `build_demo` makes before the catalog)."""
    orgs: dict[str, Organization] = {}
    for spec in ALL_ORGS:
        org = Organization(
            code=spec.code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            kind=spec.kind,
            region_code=spec.region_code,
            parent_id=orgs[spec.parent].id if spec.parent else None,
        )
        session.add(org)
        session.flush()
        orgs[spec.code] = org
    return orgs


def test_the_demo_publishes_a_realistic_catalog_once(db: sessionmaker[Session]) -> None:
    with transaction(db) as session:
        orgs = _departments(session)
        assert build_catalog(session, orgs) == len(plan())
    with transaction(db) as session:
        resources = list(session.scalars(select(Resource)))
        assert len(resources) == len(plan()) >= 80
        providers = {r.provider.code for r in resources}
        assert {d.code for d in DEPARTMENTS} <= providers  # every department
        assert set(Counter(r.category for r in resources)) == set(Category)
        assert set(Counter(r.share_type for r in resources)) == set(ShareType)
        assert set(Counter(r.open_type for r in resources)) == set(OpenType)
        states = Counter(r.status for r in resources)
        assert set(states) == set(Status) and states[Status.published] >= 80
        for resource in resources:  # every code is well formed and fits its metadata
            assert codes.problems(resource.code, resource.category, resource.provider.code) is None
            assert resource.items, resource.name
        by_name = {r.name: r for r in resources}
        population = by_name["人口基础信息"]
        assert population.provider.name_zh == "临沂市公安局"
        assert population.category == Category.basic
        items = {i.name: i.masking for i in population.items}
        assert items["公民身份号码"] == "keep:first6,last4"
        assert items["姓名"] == "name" and items["联系电话"] == "phone"
        assert masking.mask_value("371302198001011234", items["公民身份号码"]) == (
            "371302********1234"
        )
        assert by_name["法人基础信息"].provider.name_zh == "临沂市市场监督管理局"
        assert by_name["空气质量监测数据"].provider.name_zh == "临沂市生态环境局"
        versions = session.scalar(select(func.count()).select_from(ResourceVersion))
        assert versions == states[Status.published] + states[Status.withdrawn]

    with transaction(db) as session:  # again: nothing new
        orgs = {o.code: o for o in session.scalars(select(Organization))}
        assert build_catalog(session, orgs) == 0
        assert session.scalar(select(func.count()).select_from(Resource)) == len(plan())
        again = session.scalar(select(func.count()).select_from(ResourceVersion))
        assert again == versions
