"""Routes of the directory: /api/v1/organizations and /api/v1/regions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cityhub.core.deps import SessionDep
from cityhub.core.pagination import CursorParam, LimitParam, Page, decode_cursor, page_of
from cityhub.directory import service
from cityhub.directory.models import OrgKind
from cityhub.directory.regions_api import router as regions_router
from cityhub.directory.schemas import OrganizationCreate, OrganizationPublic, OrganizationUpdate
from cityhub.security.deps import CurrentUser, require_roles
from cityhub.security.models import Role, User

router = APIRouter()
orgs = APIRouter(prefix="/organizations", tags=["organizations"])
PlatformAdmin = Annotated[User, Depends(require_roles(Role.platform_admin))]


@orgs.get("", response_model=Page[OrganizationPublic], summary="List organizations (部门/单位)")
def list_organizations(
    db: SessionDep,
    _user: CurrentUser,
    limit: LimitParam = 100,
    cursor: CursorParam = None,
    kind: OrgKind | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    parent: str | None = None,
    q: Annotated[str | None, Query(max_length=64, description="Name contains")] = None,
) -> Page[OrganizationPublic]:
    after = decode_cursor(cursor)
    rows = service.list_orgs(
        db,
        limit=limit + 1,
        after=str(after[0]) if after else None,
        kind=kind,
        region_code=region_code,
        parent_code=parent,
        q=q,
    )
    return page_of(rows, limit, OrganizationPublic.model_validate, lambda o: [o.code])


@orgs.get("/{code}", response_model=OrganizationPublic, summary="One organization")
def get_organization(code: str, db: SessionDep, _user: CurrentUser) -> OrganizationPublic:
    return OrganizationPublic.model_validate(service.get_org(db, code))


@orgs.post(
    "", response_model=OrganizationPublic, status_code=201, summary="Create (platform admin)"
)
def create_organization(
    data: OrganizationCreate, db: SessionDep, _admin: PlatformAdmin
) -> OrganizationPublic:
    return OrganizationPublic.model_validate(service.create_org(db, data))


@orgs.patch(
    "/{code}", response_model=OrganizationPublic, summary="Update (admin or own dept admin)"
)
def update_organization(
    code: str, data: OrganizationUpdate, db: SessionDep, user: CurrentUser
) -> OrganizationPublic:
    org = service.update_org(db, service.get_org(db, code), data, user)
    return OrganizationPublic.model_validate(org)


router.include_router(orgs)
router.include_router(regions_router)
