"""Organizations: who may see and change them, and the checks on their links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.directory.models import Organization, OrgKind, Region
from cityhub.directory.schemas import OrganizationCreate, OrganizationUpdate
from cityhub.errors import Conflict, Forbidden, NotFound, ValidationFailed
from cityhub.security.models import Role, User


def get_org(session: Session, code: str) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound(f"no organization with code {code!r}")
    return org


def list_orgs(
    session: Session,
    *,
    limit: int,
    after: str | None = None,
    kind: OrgKind | None = None,
    region_code: str | None = None,
    parent_code: str | None = None,
    q: str | None = None,
) -> list[Organization]:
    stmt = select(Organization).order_by(Organization.code).limit(limit)
    if after is not None:
        stmt = stmt.where(Organization.code > after)
    if kind is not None:
        stmt = stmt.where(Organization.kind == kind)
    if region_code is not None:
        stmt = stmt.where(Organization.region_code == region_code)
    if parent_code is not None:
        stmt = stmt.where(Organization.parent_id == get_org(session, parent_code).id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Organization.name_zh.like(like) | Organization.name_en.ilike(like))
    return list(session.scalars(stmt))


def _check_region(session: Session, code: str | None) -> None:
    if code is not None and session.get(Region, code) is None:
        raise ValidationFailed(f"region_code {code!r} is not a region of this city")


def _resolve_parent(session: Session, code: str | None, child: Organization | None) -> int | None:
    if code is None:
        return None
    parent = get_org(session, code) if code else None
    if parent is None:
        return None
    node: Organization | None = parent
    while node is not None:  # walk up: a parent may not be the child itself or below it
        if child is not None and node.id == child.id:
            raise ValidationFailed(f"{code!r} cannot be the parent: that would make a cycle")
        node = node.parent
    return parent.id


def create_org(session: Session, data: OrganizationCreate) -> Organization:
    if session.scalar(select(Organization.id).where(Organization.code == data.code)):
        raise Conflict(f"organization {data.code!r} already exists")
    _check_region(session, data.region_code)
    org = Organization(
        code=data.code,
        name_zh=data.name_zh,
        name_en=data.name_en,
        kind=data.kind,
        parent_id=_resolve_parent(session, data.parent_code, None),
        region_code=data.region_code,
        credit_code=data.credit_code,
    )
    session.add(org)
    session.flush()
    return org


def can_edit(user: User, org: Organization) -> bool:
    """Platform admins edit any organization; a department admin only their own."""
    return Role.platform_admin in user.roles or (
        Role.dept_admin in user.roles and user.organization_id == org.id
    )


def update_org(
    session: Session, org: Organization, data: OrganizationUpdate, user: User
) -> Organization:
    if not can_edit(user, org):
        raise Forbidden(f"you may not change organization {org.code!r}")
    changes = data.model_dump(exclude_unset=True)
    structural = {"kind", "parent_code"} & changes.keys()
    if structural and Role.platform_admin not in user.roles:
        raise Forbidden(f"only a platform admin may change {', '.join(sorted(structural))}")
    if "region_code" in changes:
        _check_region(session, changes["region_code"])
    if "parent_code" in changes:
        org.parent_id = _resolve_parent(session, changes.pop("parent_code"), org)
    for field, value in changes.items():
        if field in ("name_zh", "kind") and value is None:
            raise ValidationFailed(f"{field} cannot be empty")
        setattr(org, field, value)
    session.flush()
    session.refresh(org)
    return org
