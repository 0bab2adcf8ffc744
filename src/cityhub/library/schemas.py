"""Pydantic shapes of the library API: libraries, merges, golden-record lineage,
conflicts, keys of plain resources."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cityhub.core.times import UtcDatetime


class OrgRef(BaseModel):
    code: str
    name_zh: str


class MergePublic(BaseModel):
    """One batch merged into a library resource."""

    id: int
    resource_code: str
    library: str
    batch_id: int
    provider: OrgRef
    mode: str
    rows_in: int
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    conflicts: int
    started_at: UtcDatetime
    finished_at: UtcDatetime


class FeedPublic(BaseModel):
    resource_code: str
    name_zh: str
    provider: OrgRef | None
    fields: list[str]


class LibraryPublic(BaseModel):
    """A public database: base (基础资源库) or derived (主题/专题/通用业务库)."""

    slug: str
    resource_code: str
    name_zh: str
    name_en: str
    category: str = Field(description="basic, theme, topic or business")
    records: int = Field(description="Rows, from the running digest (no table scan)")
    digest: str = Field(description="SM3 content digest, notarized by the ledger")
    registrar: OrgRef | None = Field(default=None, description="法定管理单位 of the records")
    feeds: list[FeedPublic] = Field(default_factory=list)
    inputs: list[str] = Field(default_factory=list, description="Derived: input resources")
    conflicts: int = 0
    dirty_keys: int = Field(default=0, description="Derived: keys waiting to be rebuilt")
    last_merges: list[MergePublic] = Field(default_factory=list)


class FieldLineage(BaseModel):
    """One field of a golden record: its value and where it came from."""

    code: str
    name: str
    value: Any
    masked: bool = Field(description="The value is masked for the caller")
    authority: OrgRef | None = Field(description="The provider whose value wins a conflict")
    source: OrgRef | None = Field(description="The provider that set the current value")
    batch_id: int | None
    resource_code: str | None = Field(description="The resource it was delivered as")
    merged_at: UtcDatetime | None


class ConflictPublic(BaseModel):
    id: int
    library: str
    record_key: str
    field: str
    kept_value: Any
    rejected_value: Any
    kept_by: OrgRef | None
    rejected_by: OrgRef | None
    kept_batch: int | None
    rejected_batch: int | None
    resolution: str = Field(description="authority_kept, authority_applied or latest_applied")
    at: UtcDatetime


class RecordLineage(BaseModel):
    library: str
    resource_code: str
    key: str
    updated_at: UtcDatetime | None
    fields: list[FieldLineage]
    conflicts: list[ConflictPublic]


class KeyDeclaration(BaseModel):
    """The key items of a plain (non-library) tabular resource, in order."""

    model_config = ConfigDict(extra="forbid")

    items: list[str] = Field(min_length=1, max_length=8, description='Item codes, e.g. ["bh"]')


class KeyPublic(KeyDeclaration):
    resource_code: str


class RebuildPublic(BaseModel):
    derivation: str
    full: bool
    keys: int
    inserted: int
    updated: int
    deleted: int
