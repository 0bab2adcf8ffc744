"""Pydantic shapes of the catalog: ResourceCreate / ResourceUpdate / ResourcePublic and
friends. Unknown fields are refused (`extra="forbid"`), so a typo is a 422, not a no-op.

Checks that need only the payload live here (code syntax, masking rules, share and open
conditions); checks against the database (provider, regions, related codes, duplicates)
live in the service.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cityhub.catalog import codes, masking
from cityhub.catalog.vocab import (
    SENSITIVE,
    Category,
    DataType,
    OpenType,
    ResourceFormat,
    Sensitivity,
    ShareType,
    SharingMethod,
    Status,
    UpdateCycle,
)
from cityhub.core.times import UtcDatetime

MAX_ITEMS = 500
MAX_KEYWORDS = 20
MAX_REGIONS = 50
MAX_RELATED = 50


def _check_code(value: str) -> str:
    codes.parse(value)  # ValueError → 422 with the precise reason
    return value


def _check_rule(value: str) -> str:
    value = value.strip()
    if value:
        masking.parse_rule(value)
    return value


def _strip(value: str) -> str:
    return value.strip()


ResourceCode = Annotated[
    str,
    Field(
        min_length=12,
        max_length=codes.MAX_LENGTH,
        description="信息资源代码 <类1><项2><目3>[细目3]-<provider>-<sequence6>, "
        "e.g. 101001-LYGA-000001",
    ),
    AfterValidator(_check_code),
]
Keyword = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_strip)]
RegionCode = Annotated[str, Field(pattern=r"^\d{6}$", description="GB/T 2260 region code")]
MaskingRule = Annotated[
    str,
    Field(default="", max_length=64, description=f"masking rule: {masking.RULE_HELP}"),
    AfterValidator(_check_rule),
]


class ItemIn(BaseModel):
    """An information item (信息项) as written by a data officer."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="信息项名称, e.g. 公民身份号码")
    code: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,62}$",
        description="Column name: lower-case letters, digits and _, e.g. gmsfhm",
    )
    data_type: DataType = Field(description="GB/T 21063.3 data type")
    length: int | None = Field(default=None, ge=1, le=65535, description="Maximum length")
    element_ref: str = Field(
        default="",
        max_length=64,
        pattern=r"^[A-Za-z0-9._:/-]*$",
        description="Data element reference (数据元标识符), e.g. DE00001",
    )
    sensitivity: Sensitivity = Field(default=Sensitivity.internal, description="分级")
    masking: MaskingRule = ""


class ItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    code: str
    data_type: DataType
    length: int | None
    element_ref: str
    sensitivity: Sensitivity
    masking: str


def _unique(values: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} is listed twice")
        seen.add(value)
    return values


class _Metadata(BaseModel):
    """The fields a data officer writes; every one optional so Update can reuse them."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=128, description="名称")
    summary: str | None = Field(default=None, max_length=2000, description="摘要")
    category: Category | None = None
    format: ResourceFormat | None = None
    share_type: ShareType | None = None
    share_condition: str | None = Field(
        default=None,
        max_length=1000,
        description="有条件共享: the conditions; 不予共享: the legal basis",
    )
    sharing_method: SharingMethod | None = None
    open_type: OpenType | None = None
    open_condition: str | None = Field(
        default=None, max_length=1000, description="有条件开放: the opening conditions"
    )
    update_cycle: UpdateCycle | None = None
    related_codes: list[ResourceCode] | None = Field(default=None, max_length=MAX_RELATED)
    regions: list[RegionCode] | None = Field(
        default=None, max_length=MAX_REGIONS, description="Spatial coverage (GB/T 2260 codes)"
    )
    keywords: list[Keyword] | None = Field(default=None, max_length=MAX_KEYWORDS)
    items: list[ItemIn] | None = Field(default=None, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _lists_have_no_duplicates(self) -> _Metadata:
        for what, values in (
            ("related code", self.related_codes),
            ("region", self.regions),
            ("keyword", self.keywords),
        ):
            if values is not None:
                _unique(values, what)
        if self.items is not None:
            _unique([i.code for i in self.items], "item code")
            _unique([i.name for i in self.items], "item name")
        return self


class ResourceCreate(_Metadata):
    """A new resource. `provider` defaults to the caller's organization."""

    code: ResourceCode
    provider: str | None = Field(
        default=None, max_length=32, description="Provider organization code"
    )
    name: str = Field(min_length=2, max_length=128, description="信息资源名称")
    summary: str = Field(default="", max_length=2000, description="信息资源摘要")
    category: Category
    format: ResourceFormat
    share_type: ShareType
    share_condition: str = Field(default="", max_length=1000)
    open_type: OpenType
    open_condition: str = Field(default="", max_length=1000)
    update_cycle: UpdateCycle
    related_codes: list[ResourceCode] = Field(default_factory=list, max_length=MAX_RELATED)
    regions: list[RegionCode] = Field(default_factory=list, max_length=MAX_REGIONS)
    keywords: list[Keyword] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class ResourceUpdate(_Metadata):
    """A partial change: only the fields sent are changed; lists are replaced whole."""


class ProviderRef(BaseModel):
    code: str
    name_zh: str
    name_en: str


class ResourceSummary(BaseModel):
    """One search hit."""

    code: str
    name: str
    summary: str
    provider: ProviderRef
    category: Category
    format: ResourceFormat
    share_type: ShareType
    open_type: OpenType
    update_cycle: UpdateCycle
    status: Status
    version: int
    publish_date: date | None
    updated_at: UtcDatetime
    keywords: list[str]


class RegionRef(BaseModel):
    code: str
    name_zh: str
    name_en: str


class ResourcePublic(ResourceSummary):
    """Everything about one resource."""

    share_condition: str
    sharing_method: SharingMethod | None
    open_condition: str
    related_codes: list[str]
    regions: list[RegionRef]
    items: list[ItemPublic]
    subject: str | None = Field(description="项 of the code, when the guide names it")
    published_at: UtcDatetime | None
    created_at: UtcDatetime
    created_by: str
    updated_by: str


class FacetValue(BaseModel):
    value: str
    count: int
    label_zh: str
    label_en: str


class SearchPage(BaseModel):
    """A page of hits, the total, and facet counts over all hits."""

    items: list[ResourceSummary]
    next: str | None = None
    total: int
    facets: dict[str, list[FacetValue]]


class WorkflowAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=1000, description="审核意见 / reason")


class StepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    action: str
    from_status: str | None
    to_status: str
    actor: str
    at: UtcDatetime
    comment: str


class VersionPublic(BaseModel):
    version: int
    digest: str = Field(description="sha256 of the snapshot's canonical JSON")
    published_at: UtcDatetime
    published_by: str
    comment: str
    diff: dict[str, Any]


class VersionDetail(VersionPublic):
    snapshot: dict[str, Any]


def check_conditions(
    share_type: ShareType,
    share_condition: str,
    sharing_method: SharingMethod | None,
    open_type: OpenType,
    open_condition: str,
    fmt: ResourceFormat,
    items: list[ItemIn] | list[ItemPublic],
) -> str | None:
    """Why the sharing and opening attributes do not fit together, or None."""
    share_condition, open_condition = share_condition.strip(), open_condition.strip()
    if share_type == ShareType.conditional and not share_condition:
        return (
            "share_condition is required for conditional sharing (有条件共享): state the conditions"
        )
    if share_type == ShareType.none and not share_condition:
        return (
            "share_condition is required when a resource is not shared (不予共享): "
            "cite the legal basis"
        )
    if share_type == ShareType.unconditional and share_condition:
        return "share_condition must be empty for unconditional sharing (无条件共享)"
    if share_type == ShareType.none and sharing_method is not None:
        return "sharing_method must be empty when a resource is not shared (不予共享)"
    if share_type != ShareType.none and sharing_method is None:
        return "sharing_method is required: database, api or file (数据库/接口/文件)"
    if open_type == OpenType.conditional and not open_condition:
        return "open_condition is required for conditional opening (有条件开放)"
    if open_type == OpenType.open and open_condition:
        return "open_condition must be empty for unconditional opening (无条件开放)"
    if share_type == ShareType.none and open_type != OpenType.closed:
        return "a resource that is not shared (不予共享) cannot be opened; set open_type closed"
    if fmt in (ResourceFormat.table, ResourceFormat.api) and not items:
        return f"a {fmt.value} resource needs at least one information item (信息项)"
    if open_type == OpenType.open:
        bare = [i.code for i in items if i.sensitivity in SENSITIVE and not i.masking]
        if bare:
            return (
                "an openly published resource (无条件开放) cannot carry sensitive items without "
                f"a masking rule: {', '.join(bare)}"
            )
    return None
