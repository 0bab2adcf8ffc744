"""Pydantic shapes of regions and organizations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from cityhub.directory.models import OrgKind
from cityhub.standards import credit_code


def _check_credit_code(value: str) -> str:
    if not credit_code.is_valid(value):
        raise ValueError(f"{value!r} is not a valid GB 32100 unified social credit code")
    return value


CreditCode = Annotated[
    str, AfterValidator(_check_credit_code), Field(description="GB 32100 统一社会信用代码")
]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")]


class OrganizationBase(BaseModel):
    name_zh: str = Field(
        min_length=1, max_length=128, description="Chinese name, e.g. 临沂市公安局"
    )
    name_en: str = Field(default="", max_length=256, description="English name")
    kind: OrgKind = Field(description="government, operator, enterprise or institution")
    parent_code: str | None = Field(default=None, description="Code of the parent organization")
    region_code: RegionCode | None = None
    credit_code: CreditCode | None = None


class OrganizationCreate(OrganizationBase):
    code: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$", description="Stable short code, e.g. LYGA"
    )


class OrganizationUpdate(BaseModel):
    name_zh: str | None = Field(default=None, min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=256)
    kind: OrgKind | None = None
    parent_code: str | None = None
    region_code: RegionCode | None = None
    credit_code: CreditCode | None = None


class OrganizationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_zh: str
    name_en: str
    kind: OrgKind
    parent_code: str | None
    region_code: str | None
    credit_code: str | None
    created_at: datetime
    updated_at: datetime
