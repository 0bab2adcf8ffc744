"""Publish the Linyi demo catalog (`catalog_specs.CATALOG`) through the real workflow:
each resource is registered by its department's data officer, submitted, and approved by
the platform admin (a few stay in draft, in review or withdrawn, to show the workflow).

Idempotent: codes are derived from the declaration order, and a resource whose code exists
is left as it is, so a re-run changes nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cityhub.catalog import codes, service, workflow
from cityhub.catalog.schemas import ItemIn, ResourceCreate
from cityhub.catalog.service import Actor
from cityhub.catalog.vocab import CATEGORY_CLASS, Status
from cityhub.demo.catalog_specs import CATALOG, ResourceSpec
from cityhub.demo.departments import OPERATOR, USERS
from cityhub.directory.models import Organization
from cityhub.security.models import Role

_OFFICER = frozenset({Role.data_officer})
_ADMIN = frozenset({Role.platform_admin})


@dataclass(frozen=True)
class PlannedResource:
    spec: ResourceSpec
    code: str
    related: tuple[str, ...]


def plan() -> tuple[PlannedResource, ...]:
    """Codes for every spec: 目 counts per (类, 项), the sequence per provider."""
    items: Counter[tuple[str, str]] = Counter()
    sequence: Counter[str] = Counter()
    by_name: dict[str, str] = {}
    planned = []
    for spec in CATALOG:
        cls = CATEGORY_CLASS[spec.category]
        items[(cls, spec.subject)] += 1
        sequence[spec.org] += 1
        code = codes.make(
            spec.category,
            spec.subject,
            f"{items[(cls, spec.subject)]:03d}",
            spec.org,
            sequence[spec.org],
        )
        related = tuple(by_name[name] for name in spec.related)
        by_name[spec.name] = code
        planned.append(PlannedResource(spec, code, related))
    return tuple(planned)


def _officer_name(org_code: str) -> str:
    for user in USERS:
        if user.org == org_code and user.role == Role.data_officer:
            return user.username
    return f"{org_code.lower()}_data"


def _payload(item: PlannedResource) -> ResourceCreate:
    spec = item.spec
    return ResourceCreate(
        code=item.code,
        provider=spec.org,
        name=spec.name,
        summary=spec.summary,
        category=spec.category,
        format=spec.fmt,
        share_type=spec.share,
        share_condition=spec.condition if spec.share.value != "unconditional" else "",
        sharing_method=spec.method,
        open_type=spec.open,
        open_condition=spec.open_condition,
        update_cycle=spec.cycle,
        related_codes=list(item.related),
        regions=list(spec.regions),
        keywords=list(spec.keywords),
        items=[
            ItemIn(
                name=i.name,
                code=i.code,
                data_type=i.data_type,
                length=i.length,
                element_ref=i.element_ref,
                sensitivity=i.sensitivity,
                masking=i.masking,
            )
            for i in spec.items
        ],
    )


def build_catalog(session: Session, orgs: dict[str, Organization]) -> int:
    """Create the missing demo resources; returns how many were created."""
    admin = Actor("admin", orgs[OPERATOR.code].id, _ADMIN)
    created = 0
    for item in plan():
        if service.find(session, item.code) is not None:
            continue
        spec = item.spec
        officer = Actor(_officer_name(spec.org), orgs[spec.org].id, _OFFICER)
        resource = service.create_resource(session, _payload(item), officer)
        created += 1
        if spec.status == Status.draft:
            continue
        workflow.submit(session, resource, officer, "请审核 / please review")
        if spec.status == Status.in_review:
            continue
        workflow.approve(session, resource, admin, "元数据完整，同意发布")
        if spec.status == Status.withdrawn:
            workflow.withdraw(session, resource, officer, "经营许可数据迁移至省级平台，暂停共享")
    return created
