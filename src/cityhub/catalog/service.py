"""Resources: who may see and change them, and every check against the database.

No web imports. The workflow (submit, approve, ...) is in `workflow.py`, versions in
`versions.py`, search in `search.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from cityhub.catalog import codes
from cityhub.catalog.labels import label
from cityhub.catalog.models import (
    Resource,
    ResourceItem,
    ResourceKeyword,
    WorkflowStep,
)
from cityhub.catalog.schemas import (
    ItemIn,
    ItemPublic,
    ResourceCreate,
    ResourceUpdate,
    check_conditions,
)
from cityhub.catalog.vocab import OpenType, Status
from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization, Region
from cityhub.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationFailed
from cityhub.security import audit
from cityhub.security.models import Role, User

EDITOR_ROLES = frozenset({Role.data_officer, Role.dept_admin})
READ_ALL_ROLES = frozenset({Role.platform_admin, Role.auditor})


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, or the demo builder / CLI acting for an organization."""

    username: str
    organization_id: int | None
    roles: frozenset[Role] = field(default_factory=frozenset)

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.username, user.organization_id, frozenset(user.roles))

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & READ_ALL_ROLES)

    @property
    def is_admin(self) -> bool:
        return Role.platform_admin in self.roles

    def edits(self, provider_id: int) -> bool:
        """Data officers and department admins edit their own organization's resources."""
        return self.organization_id == provider_id and bool(self.roles & EDITOR_ROLES)


def actor_of(user: User | None) -> Actor | None:
    return Actor.of(user) if user is not None else None


# -- visibility ---------------------------------------------------------------------------


def visible_clause(actor: Actor | None) -> ColumnElement[bool]:
    """Anonymous: the open part of the published catalog. Signed in: every published
    resource, and any state of one's own organization's. Admins and auditors: all."""
    if actor is None:
        return and_(Resource.status == Status.published, Resource.open_type != OpenType.closed)
    if actor.sees_all:
        return true()
    published = Resource.status == Status.published
    if actor.organization_id is None:
        return published
    return or_(published, Resource.provider_id == actor.organization_id)


def can_see(actor: Actor | None, resource: Resource) -> bool:
    if actor is None:
        return resource.status == Status.published and resource.open_type != OpenType.closed
    return (
        actor.sees_all
        or resource.status == Status.published
        or resource.provider_id == actor.organization_id
    )


def find(session: Session, code: str) -> Resource | None:
    return session.scalar(select(Resource).where(Resource.code == code))


def get_resource(session: Session, code: str) -> Resource:
    """The resource, whoever asks (for the service's own use and the gateway's)."""
    resource = find(session, code)
    if resource is None:
        raise NotFound(f"no information resource with code {code!r}")
    return resource


def get_visible(session: Session, code: str, actor: Actor | None) -> Resource:
    """The resource if `actor` may see it; drafts of others are simply not found."""
    resource = find(session, code)
    if resource is not None and can_see(actor, resource):
        return resource
    if (
        resource is not None
        and actor is None
        and resource.status == Status.published  # its metadata is for signed-in users
    ):
        raise Unauthorized(f"resource {code} is not open to the public (不予开放); log in")
    raise NotFound(f"no information resource with code {code!r}")


# -- checks against the database ---------------------------------------------------------


def _provider_for(session: Session, data: ResourceCreate, actor: Actor) -> Organization:
    code = data.provider
    if code is None:
        if actor.organization_id is None:
            raise ValidationFailed("provider is required")
        org = session.get(Organization, actor.organization_id)
        if org is None:
            raise ValidationFailed("your organization no longer exists")
        return org
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise ValidationFailed(f"provider {code!r} is not an organization on this platform")
    return org


def _check_regions(session: Session, region_codes: list[str]) -> None:
    if not region_codes:
        return
    known = set(session.scalars(select(Region.code).where(Region.code.in_(region_codes))))
    if missing := [c for c in region_codes if c not in known]:
        raise ValidationFailed(
            f"regions {', '.join(missing)} are not regions of this platform (GB/T 2260)"
        )


def _check_related(session: Session, own_code: str, related: list[str]) -> None:
    if own_code in related:
        raise ValidationFailed("a resource cannot be related to itself")
    if not related:
        return
    known = set(session.scalars(select(Resource.code).where(Resource.code.in_(related))))
    if missing := [c for c in related if c not in known]:
        raise ValidationFailed(f"related resources {', '.join(missing)} do not exist")


def _check_state(state: dict[str, Any], provider: Organization) -> None:
    if problem := codes.problems(state["code"], state["category"], provider.code):
        raise ValidationFailed(problem)
    problem = check_conditions(
        state["share_type"],
        state["share_condition"],
        state["sharing_method"],
        state["open_type"],
        state["open_condition"],
        state["format"],
        state["items"],
    )
    if problem:
        raise ValidationFailed(problem)


# -- search text --------------------------------------------------------------------------


def search_text_of(resource: Resource, provider: Organization) -> str:
    """The words a search looks at: names, code, summary, keywords, items, provider."""
    subject = codes.subject_label(resource.code)
    parts: list[str] = [
        resource.name,
        resource.code,
        resource.summary,
        " ".join(k.keyword for k in resource.keyword_rows),
        " ".join(f"{i.name} {i.code}" for i in resource.items),
        provider.name_zh,
        provider.name_en,
        provider.code,
        label("category", resource.category, "zh-CN"),
        subject[0] if subject else "",
    ]
    # Lower-cased once here, so that searches need neither ILIKE nor lower() per row.
    return "\n".join(p for p in parts if p).lower()


# -- writing ------------------------------------------------------------------------------


def _items(items: Iterable[ItemIn]) -> list[ResourceItem]:
    return [
        ResourceItem(
            position=n,
            name=i.name.strip(),
            code=i.code,
            data_type=i.data_type,
            length=i.length,
            element_ref=i.element_ref,
            sensitivity=i.sensitivity,
            masking=i.masking,
        )
        for n, i in enumerate(items)
    ]


def record_step(
    session: Session,
    resource: Resource,
    action: str,
    actor: Actor,
    from_status: Status | None,
    comment: str = "",
) -> WorkflowStep:
    """One workflow step: kept with the resource, audited, and announced on the outbox."""
    step = WorkflowStep(
        resource_id=resource.id,
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=resource.status.value,
        actor=actor.username,
        at=utcnow(),
        comment=comment,
    )
    session.add(step)
    detail = {
        "from": step.from_status,
        "to": step.to_status,
        "comment": comment,
        "provider": resource.provider.code,
    }
    audit.record(
        session,
        actor=actor.username,
        organization_id=actor.organization_id,
        action=f"catalog.resource.{action}",
        target=f"resource:{resource.code}",
        detail=detail,
    )
    return step


def create_resource(session: Session, data: ResourceCreate, actor: Actor) -> Resource:
    provider = _provider_for(session, data, actor)
    if not actor.edits(provider.id):
        raise Forbidden(
            f"only data officers and department admins of {provider.code} may register its "
            "resources"
        )
    if find(session, data.code) is not None:
        raise Conflict(f"resource code {data.code!r} is already registered")
    state = data.model_dump()
    state["items"] = data.items
    _check_state(state, provider)
    _check_regions(session, data.regions)
    _check_related(session, data.code, data.related_codes)
    now = utcnow()
    resource = Resource(
        code=data.code,
        name=data.name.strip(),
        provider_id=provider.id,
        summary=data.summary.strip(),
        category=data.category,
        format=data.format,
        share_type=data.share_type,
        share_condition=data.share_condition.strip(),
        sharing_method=data.sharing_method,
        open_type=data.open_type,
        open_condition=data.open_condition.strip(),
        update_cycle=data.update_cycle,
        related_codes=list(data.related_codes),
        status=Status.draft,
        version=0,
        created_at=now,
        updated_at=now,
        created_by=actor.username,
        updated_by=actor.username,
    )
    resource.provider = provider
    resource.items = _items(data.items)
    resource.set_regions(list(data.regions))
    resource.keyword_rows = [
        ResourceKeyword(keyword=k, position=n) for n, k in enumerate(data.keywords)
    ]
    resource.search_text = search_text_of(resource, provider)
    session.add(resource)
    session.flush()
    record_step(session, resource, "create", actor, None)
    emit(
        session,
        "catalog.resource.created",
        {"code": resource.code, "provider": provider.code, "status": resource.status.value},
        actor=actor.username,
    )
    return resource


def require_editor(actor: Actor, resource: Resource) -> None:
    if not actor.edits(resource.provider_id):
        raise Forbidden(
            f"only data officers and department admins of {resource.provider.code} may "
            f"change resource {resource.code}"
        )


def update_resource(
    session: Session, resource: Resource, data: ResourceUpdate, actor: Actor
) -> Resource:
    require_editor(actor, resource)
    if resource.status == Status.in_review:
        raise Conflict(
            f"resource {resource.code} is in review; a platform admin must approve or reject "
            "it before it can change"
        )
    if resource.status == Status.published:
        raise Conflict(
            f"resource {resource.code} is published; withdraw it first (it then returns to "
            "draft for changes) and submit it again"
        )
    changes = data.model_dump(exclude_unset=True)
    for key in ("name", "category", "format", "share_type", "open_type", "update_cycle"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(f"{key} cannot be empty")
    for key in ("summary", "share_condition", "open_condition"):
        if key in changes and changes[key] is None:
            changes[key] = ""
    for key in ("related_codes", "regions", "keywords", "items"):
        if key in changes and changes[key] is None:
            changes[key] = []
    state: dict[str, Any] = {
        "code": resource.code,
        "category": resource.category,
        "format": resource.format,
        "share_type": resource.share_type,
        "share_condition": resource.share_condition,
        "sharing_method": resource.sharing_method,
        "open_type": resource.open_type,
        "open_condition": resource.open_condition,
        "items": [ItemPublic.model_validate(i) for i in resource.items],
    }
    state |= {k: v for k, v in changes.items() if k in state}
    if "items" in changes:
        state["items"] = data.items or []
    _check_state(state, resource.provider)
    if "regions" in changes:
        _check_regions(session, changes["regions"])
    if "related_codes" in changes:
        _check_related(session, resource.code, changes["related_codes"])

    # Checked: now apply.
    for key in (
        "name",
        "summary",
        "category",
        "format",
        "share_type",
        "share_condition",
        "sharing_method",
        "open_type",
        "open_condition",
        "update_cycle",
        "related_codes",
    ):
        if key in changes:
            value = changes[key]
            setattr(resource, key, value.strip() if isinstance(value, str) else value)
    if "items" in changes:
        resource.items = []
        session.flush()  # the old rows go before the new ones take their codes
        resource.items = _items(data.items or [])
    if "regions" in changes:
        resource.set_regions(list(changes["regions"]))
    if "keywords" in changes:
        resource.keyword_rows = []
        session.flush()
        resource.keyword_rows = [
            ResourceKeyword(keyword=k, position=n) for n, k in enumerate(changes["keywords"])
        ]
    before = resource.status
    resource.status = Status.draft  # a withdrawn resource returns to draft when changed
    resource.updated_at = utcnow()
    resource.updated_by = actor.username
    resource.search_text = search_text_of(resource, resource.provider)
    session.flush()
    record_step(session, resource, "update", actor, before, ", ".join(sorted(changes)))
    emit(
        session,
        "catalog.resource.updated",
        {"code": resource.code, "fields": sorted(changes), "status": resource.status.value},
        actor=actor.username,
    )
    return resource


def next_sequence(session: Session, provider: Organization) -> int:
    """The provider's next free sequence number (顺序号), for suggesting a code."""
    used = [0]
    for code in session.scalars(select(Resource.code).where(Resource.provider_id == provider.id)):
        try:
            used.append(codes.parse(code).sequence)
        except ValueError:
            continue
    return max(used) + 1


def reindex(session: Session) -> int:
    """Recompute every resource's search text (after organizations were renamed)."""
    count = 0
    for resource in session.scalars(select(Resource)):
        text = search_text_of(resource, resource.provider)
        if text != resource.search_text:
            resource.search_text = text
            count += 1
    session.flush()
    return count
