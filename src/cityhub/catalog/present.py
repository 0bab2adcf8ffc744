"""Resources as the API and the pages show them (reading only; no web imports)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from cityhub.catalog import codes
from cityhub.catalog.models import Resource, WorkflowStep
from cityhub.catalog.schemas import (
    ItemPublic,
    ProviderRef,
    RegionRef,
    ResourcePublic,
    ResourceSummary,
)
from cityhub.directory.models import Organization, Region

# -- reading ------------------------------------------------------------------------------


def provider_ref(org: Organization) -> ProviderRef:
    return ProviderRef(code=org.code, name_zh=org.name_zh, name_en=org.name_en)


def to_summary(resource: Resource) -> ResourceSummary:
    return ResourceSummary(
        code=resource.code,
        name=resource.name,
        summary=resource.summary,
        provider=provider_ref(resource.provider),
        category=resource.category,
        format=resource.format,
        share_type=resource.share_type,
        open_type=resource.open_type,
        update_cycle=resource.update_cycle,
        status=resource.status,
        version=resource.version,
        publish_date=resource.publish_date,
        updated_at=resource.updated_at,
        keywords=resource.keywords,
    )


def to_public(session: Session, resource: Resource) -> ResourcePublic:
    region_rows = {
        r.code: r
        for r in session.scalars(select(Region).where(Region.code.in_(resource.region_codes)))
    }
    subject = codes.subject_label(resource.code)
    return ResourcePublic(
        **to_summary(resource).model_dump(),
        share_condition=resource.share_condition,
        sharing_method=resource.sharing_method,
        open_condition=resource.open_condition,
        related_codes=list(resource.related_codes or []),
        regions=[
            RegionRef(code=c, name_zh=region_rows[c].name_zh, name_en=region_rows[c].name_en)
            for c in resource.region_codes
            if c in region_rows
        ],
        items=[ItemPublic.model_validate(i) for i in resource.items],
        subject=subject[0] if subject else None,
        published_at=resource.published_at,
        created_at=resource.created_at,
        created_by=resource.created_by,
        updated_by=resource.updated_by,
    )


def steps_of(session: Session, resource: Resource) -> list[WorkflowStep]:
    return list(
        session.scalars(
            select(WorkflowStep)
            .where(WorkflowStep.resource_id == resource.id)
            .order_by(WorkflowStep.id)
        )
    )


def masking_rules(resource: Resource) -> dict[str, str]:
    """Item code → masking rule, for the items that have one (the gateway masks by it)."""
    return {i.code: i.masking for i in resource.items if i.masking}
