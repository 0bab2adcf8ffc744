"""Publish the libraries in the catalog like any resource: the base libraries (by their
registrar), the department resources that feed them, and the derived libraries.

Idempotent: a resource already in the catalog under its code is left as it is (the
catalog's own demo may have registered it first). Resources whose provider organization
does not exist are skipped and reported. A base library's keyed table is created before
publication, so that PostgreSQL gets the partitioned layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog import service as catalog
from cityhub.catalog import workflow
from cityhub.catalog.schemas import ItemIn, ResourceCreate, ResourceUpdate
from cityhub.catalog.vocab import (
    Category,
    OpenType,
    ResourceFormat,
    ShareType,
    SharingMethod,
    Status,
    UpdateCycle,
)
from cityhub.directory.models import Organization, Region
from cityhub.library import golden
from cityhub.library.derived import DERIVATIONS, DerivationSpec
from cityhub.library.merge import partitions_for
from cityhub.library.specs import LIBRARIES, FeedSpec, FieldSpec, LibrarySpec
from cityhub.library.target import library_layout, target_of
from cityhub.security.models import Role

ACTOR = "library"
_PERSONAL = {"population"}  # personal data: shared on conditions, never opened


@dataclass
class Registered:
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # provider missing
    aligned: list[str] = field(default_factory=list)  # existing, library items added


def _items(fields: tuple[FieldSpec, ...]) -> list[ItemIn]:
    return [
        ItemIn(
            name=f.name_zh,
            code=f.code,
            data_type=f.data_type,
            length=f.length,
            sensitivity=f.sensitivity,
            masking=f.masking,
        )
        for f in fields
    ]


def _city_regions(session: Session, org: Organization) -> list[str]:
    city = (org.region_code or "")[:4] + "00"
    found = session.scalar(select(Region.code).where(Region.code == city))
    return [found] if found else []


def _share(slug: str) -> tuple[ShareType, str, OpenType]:
    if slug in _PERSONAL or slug in ("legal_entities", "social_security"):
        condition = "经市大数据局审批，按最小必要原则共享；个人信息按规则脱敏"
        return ShareType.conditional, condition, OpenType.closed
    return ShareType.unconditional, "", OpenType.open


def library_request(lib: LibrarySpec) -> ResourceCreate:
    share, condition, opening = _share(lib.slug)
    return ResourceCreate(
        code=lib.resource_code,
        provider=lib.registrar,
        name=lib.name_zh,
        summary=lib.summary_zh or f"{lib.name_zh}（{lib.name_en}），基础资源库。",
        category=Category.basic,
        format=ResourceFormat.table,
        share_type=share,
        share_condition=condition,
        sharing_method=SharingMethod.api,
        open_type=opening,
        update_cycle=lib.update_cycle,
        keywords=list(lib.keywords),
        related_codes=[f.resource_code for f in lib.feeds],
        items=_items(lib.fields),
    )


def feed_request(lib: LibrarySpec, feed: FeedSpec) -> ResourceCreate:
    share, condition, _ = _share(lib.slug)
    return ResourceCreate(
        code=feed.resource_code,
        provider=feed.provider,
        name=feed.name_zh,
        summary=f"{feed.name_zh}：汇入{lib.name_zh}（{lib.resource_code}），按字段记录来源。",
        category=Category.department,
        format=ResourceFormat.table,
        share_type=share,
        share_condition=condition,
        sharing_method=SharingMethod.api,
        open_type=OpenType.closed,
        update_cycle=UpdateCycle.daily,
        keywords=[lib.name_zh[:4]],
        items=_items(tuple(lib.by_code[c] for c in feed.fields)),
    )


def derived_request(spec: DerivationSpec) -> ResourceCreate:
    share, condition, opening = _share(spec.slug)
    return ResourceCreate(
        code=spec.resource_code,
        provider=spec.owner,
        name=spec.name_zh,
        summary=spec.summary_zh,
        category=spec.category,
        format=ResourceFormat.table,
        share_type=share,
        share_condition=condition,
        sharing_method=SharingMethod.api,
        open_type=opening,
        update_cycle=UpdateCycle.daily,
        keywords=list(spec.keywords),
        related_codes=list(spec.inputs),
        items=_items(spec.fields),
    )


def align(session: Session, request: ResourceCreate) -> bool:
    """Give a resource registered by others (the demo catalog) the library's items it lacks,
    through the workflow: withdraw, update, submit, approve. True when it changed."""
    resource = catalog.find(session, request.code)
    if resource is None:
        return False
    have = {i.code for i in resource.items}
    missing = [i for i in request.items if i.code not in have]
    if not missing:
        return False
    officer = catalog.Actor(ACTOR, resource.provider_id, frozenset({Role.data_officer}))
    admin = catalog.Actor(ACTOR, None, frozenset({Role.platform_admin}))
    reopen = "公共数据库：补充信息项"
    if resource.status is Status.published:
        workflow.withdraw(session, resource, admin, reopen)
    items = [ItemIn.model_validate(i, from_attributes=True) for i in resource.items]
    catalog.update_resource(session, resource, ResourceUpdate(items=items + missing), officer)
    workflow.submit(session, resource, officer, reopen)
    workflow.approve(session, resource, admin, reopen)
    return True


def _publish(session: Session, request: ResourceCreate, out: Registered) -> bool:
    if catalog.find(session, request.code) is not None:
        out.existing.append(request.code)
        if align(session, request):
            out.aligned.append(request.code)
        return False
    org = session.scalar(select(Organization).where(Organization.code == request.provider))
    if org is None:
        out.skipped.append(request.code)
        return False
    request.regions = _city_regions(session, org)
    request.related_codes = [c for c in request.related_codes if catalog.find(session, c)]
    officer = catalog.Actor(ACTOR, org.id, frozenset({Role.data_officer}))
    admin = catalog.Actor(ACTOR, None, frozenset({Role.platform_admin}))
    resource = catalog.create_resource(session, request, officer)
    workflow.submit(session, resource, officer, "公共数据库登记")
    workflow.approve(session, resource, admin, "公共数据库发布")
    out.created.append(request.code)
    return True


def register_all(session: Session) -> Registered:
    """Every base library, feed and derived library in the catalog (published)."""
    out = Registered()
    for lib in LIBRARIES:
        registrar = session.scalar(
            select(Organization.id).where(Organization.code == lib.registrar)
        )
        if registrar is not None:  # the keyed (partitioned) table before anyone reads it
            target = target_of(session, lib.resource_code)
            golden.ensure(
                session.connection(), library_layout(lib), partitions_for(session, target)
            )
        for feed in lib.feeds:  # first: the library names them as related resources
            _publish(session, feed_request(lib, feed), out)
        _publish(session, library_request(lib), out)
    for spec in DERIVATIONS:
        _publish(session, derived_request(spec), out)
    return out
