"""JSON twins of the web pages: `GET /api/v1/overview` carries the home page's data."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub import __version__
from cityhub.core.deps import SessionDep, SettingsDep
from cityhub.directory.models import Organization, OrgKind, Region
from cityhub.security.models import User
from cityhub.settings import Settings

GUIDELINE = "SZSD13 0056-2020"
API_DOCS = "/api/docs"

router = APIRouter(tags=["overview"])


class RegionRow(BaseModel):
    code: str = Field(description="GB/T 2260 code")
    name_zh: str
    name_en: str
    level: str = Field(description="city, district (市辖区) or county (县/县级市)")
    area_km2: float | None = None


class Overview(BaseModel):
    """What exists on the platform, counted live from the database."""

    platform_zh: str = "城市大脑公共信息平台"
    platform_en: str = "City Brain Public Information Platform"
    guideline: str = Field(default=GUIDELINE, description="The guideline the platform follows")
    version: str = __version__
    city: RegionRow | None = Field(description="The city served; null before `cityhub init`")
    organizations: dict[str, int] = Field(description="Organizations by kind (every kind listed)")
    organizations_total: int
    regions: int = Field(description="The city and its county-level divisions")
    users: int
    districts: list[RegionRow] = Field(description="County-level divisions, by code")
    api_docs: str = API_DOCS


def _row(region: Region) -> RegionRow:
    return RegionRow(
        code=region.code,
        name_zh=region.name_zh,
        name_en=region.name_en,
        level=region.level.value,
        area_km2=round(region.area_km2, 1) if region.area_km2 is not None else None,
    )


def build_overview(session: Session, settings: Settings) -> Overview:
    """The numbers shown on the home page; the page and this API share them."""
    counts = dict.fromkeys((k.value for k in OrgKind), 0)
    for kind, count in session.execute(
        select(Organization.kind, func.count()).group_by(Organization.kind)
    ):
        counts[OrgKind(kind).value] = count
    city = session.get(Region, settings.city_code)
    districts = session.scalars(
        select(Region).where(Region.parent_code == settings.city_code).order_by(Region.code)
    ).all()
    users = session.scalar(select(func.count()).select_from(User)) or 0
    return Overview(
        city=_row(city) if city else None,
        organizations=counts,
        organizations_total=sum(counts.values()),
        regions=len(districts) + (1 if city else 0),
        users=users,
        districts=[_row(r) for r in districts],
    )


@router.get("/overview", response_model=Overview, summary="Platform overview (home page twin)")
def overview(db: SessionDep, settings: SettingsDep) -> Overview:
    return build_overview(db, settings)
