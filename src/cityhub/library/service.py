"""Reading the libraries: overview, merges, golden records with their lineage, conflicts.

Values are masked per the caller's view (`access.View`, the gateway's notion of what a
caller may read in clear); items outside the view are left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cityhub.catalog.masking import mask_value
from cityhub.catalog.vocab import Category
from cityhub.directory.models import Organization
from cityhub.errors import NotFound, ValidationFailed
from cityhub.gateway.access import View
from cityhub.library import datastore as ds
from cityhub.library import derive, digest, golden
from cityhub.library.derived import BY_SLUG as DERIVED
from cityhub.library.derived import DerivationSpec
from cityhub.library.models import LibraryConflict, LibraryMerge
from cityhub.library.schemas import (
    ConflictPublic,
    FeedPublic,
    FieldLineage,
    LibraryPublic,
    MergePublic,
    OrgRef,
    RecordLineage,
)
from cityhub.library.specs import BY_RESOURCE, BY_SLUG, LIBRARIES, LibrarySpec

MERGES_SHOWN = 5


def library(slug: str) -> LibrarySpec | DerivationSpec:
    found = BY_SLUG.get(slug) or DERIVED.get(slug)
    if found is None:
        names = ", ".join([*BY_SLUG, *DERIVED])
        raise NotFound(f"no library {slug!r}; there are: {names}")
    return found


def base_library(slug: str) -> LibrarySpec:
    found = library(slug)
    if not isinstance(found, LibrarySpec):
        raise NotFound(
            f"{slug} is a derived library: its rows come from {', '.join(found.inputs)}, "
            "not from providers, so it has no field lineage"
        )
    return found


def by_resource(code: str) -> LibrarySpec:
    found = BY_RESOURCE.get(code)
    if found is None:
        raise NotFound(f"resource {code} is not a base library; lineage is kept for those only")
    return found


def _orgs(session: Session, ids: Iterable[int]) -> dict[int, OrgRef]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Organization.id, Organization.code, Organization.name_zh).where(
            Organization.id.in_(wanted)
        )
    )
    return {i: OrgRef(code=c, name_zh=n) for i, c, n in rows}


def _orgs_by_code(session: Session, codes: Iterable[str]) -> dict[str, OrgRef]:
    rows = session.execute(
        select(Organization.code, Organization.name_zh).where(Organization.code.in_(set(codes)))
    )
    return {c: OrgRef(code=c, name_zh=n) for c, n in rows}


def _merge_public(merge: LibraryMerge, orgs: dict[int, OrgRef]) -> MergePublic:
    provider = orgs.get(merge.provider_id) or OrgRef(code="?", name_zh="?")
    return MergePublic(
        id=merge.id,
        resource_code=merge.resource_code,
        library=merge.library,
        batch_id=merge.batch_id,
        provider=provider,
        mode=merge.mode,
        rows_in=merge.rows_in,
        inserted=merge.inserted,
        updated=merge.updated,
        unchanged=merge.unchanged,
        deleted=merge.deleted,
        conflicts=merge.conflicts,
        started_at=merge.started_at,
        finished_at=merge.finished_at,
    )


def list_merges(
    session: Session, codes: list[str], *, limit: int, before_id: int | None = None
) -> list[MergePublic]:
    """Merges into the given resources, newest first."""
    stmt = select(LibraryMerge).where(LibraryMerge.resource_code.in_(codes))
    if before_id is not None:
        stmt = stmt.where(LibraryMerge.id < before_id)
    merges = list(session.scalars(stmt.order_by(LibraryMerge.id.desc()).limit(limit)))
    orgs = _orgs(session, (m.provider_id for m in merges))
    return [_merge_public(m, orgs) for m in merges]


def _codes_of(spec: LibrarySpec | DerivationSpec) -> list[str]:
    if isinstance(spec, LibrarySpec):
        return [spec.resource_code, *(f.resource_code for f in spec.feeds)]
    return [spec.resource_code]


def describe(session: Session, spec: LibrarySpec | DerivationSpec) -> LibraryPublic:
    parts = digest.load(session, spec.resource_code)
    merges = list_merges(session, _codes_of(spec), limit=MERGES_SHOWN)
    if isinstance(spec, LibrarySpec):
        orgs = _orgs_by_code(session, spec.providers)
        conflicts = session.scalar(
            select(func.count())
            .select_from(LibraryConflict)
            .where(LibraryConflict.library == spec.slug)
        )
        return LibraryPublic(
            slug=spec.slug,
            resource_code=spec.resource_code,
            name_zh=spec.name_zh,
            name_en=spec.name_en,
            category=Category.basic.value,
            records=sum(p.rows for p in parts.values()),
            digest=digest.digest_of(spec.resource_code, parts),
            registrar=orgs.get(spec.registrar),
            feeds=[
                FeedPublic(
                    resource_code=f.resource_code,
                    name_zh=f.name_zh,
                    provider=orgs.get(f.provider),
                    fields=list(f.fields),
                )
                for f in spec.feeds
            ],
            conflicts=conflicts or 0,
            last_merges=merges,
        )
    return LibraryPublic(
        slug=spec.slug,
        resource_code=spec.resource_code,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        category=spec.category.value,
        records=sum(p.rows for p in parts.values()),
        digest=digest.digest_of(spec.resource_code, parts),
        registrar=_orgs_by_code(session, [spec.owner]).get(spec.owner),
        inputs=list(spec.inputs),
        dirty_keys=derive.dirty_count(session, spec.slug),
        last_merges=merges,
    )


def overview(session: Session) -> list[LibraryPublic]:
    specs: list[LibrarySpec | DerivationSpec] = [*LIBRARIES, *DERIVED.values()]
    return [describe(session, spec) for spec in specs]


# -- golden records ------------------------------------------------------------------------


def canonical_key(spec: LibrarySpec, raw: str) -> str:
    """The stored form of a key typed by a person (15-digit IDs upgraded, case folded)."""
    raw = raw.strip()
    if spec.normalize_key is None:
        return raw
    value = spec.normalize_key(pl.Series([raw], dtype=pl.String))[0]
    if value is None:
        names = ", ".join(spec.by_code[k].name_zh for k in spec.key)
        raise ValidationFailed(f"{raw!r} is not a valid {names}")
    return str(value)


def _shown(view: View, code: str, value: Any) -> tuple[Any, bool]:
    """The value as the caller may see it, and whether it is masked."""
    item = view.resource.item(code)
    if item is None or value is None or not view.masked(item):
        return value, False
    return mask_value(value, item.masking), True


def record_lineage(session: Session, spec: LibrarySpec, key: str, view: View) -> RecordLineage:
    """One golden record, every field with its source, and the conflicts it went through."""
    canonical = canonical_key(spec, key)
    layout = spec.layout
    conn = session.connection()
    if not ds.exists(conn, spec.resource_code):
        raise NotFound(f"no record {key} in {spec.slug}")
    rows = golden.fetch(conn, layout, pl.Series([canonical], dtype=pl.String))
    if rows.height == 0:
        raise NotFound(f"no record {key} in {spec.slug}")
    row = rows.row(0, named=True)
    merge_ids = [row[layout.src(c.name)] for c in layout.value_columns]
    merges = {
        m.id: m
        for m in session.scalars(
            select(LibraryMerge).where(LibraryMerge.id.in_([m for m in merge_ids if m]))
        )
    }
    orgs = _orgs(session, (m.provider_id for m in merges.values()))
    authorities = _orgs_by_code(session, [f.authority for f in spec.fields if f.authority])
    fields = []
    for f in spec.fields:
        if not view.allows(f.code):
            continue
        value, masked = _shown(view, f.code, row[f.column])
        merge = merges.get(row.get(layout.src(f.column)) or 0)
        fields.append(
            FieldLineage(
                code=f.code,
                name=f.name_zh,
                value=value,
                masked=masked,
                authority=authorities.get(f.authority),
                source=orgs.get(merge.provider_id) if merge else None,
                batch_id=merge.batch_id if merge else None,
                resource_code=merge.resource_code if merge else None,
                merged_at=merge.finished_at if merge else None,
            )
        )
    conflicts = list_conflicts(session, spec, view, key=canonical, limit=100)
    stored = session.scalar(
        select(func.max(LibraryMerge.finished_at)).where(LibraryMerge.id.in_(merges))
    )
    shown_key, _ = _shown(view, spec.key[0], canonical) if len(spec.key) == 1 else (key, False)
    return RecordLineage(
        library=spec.slug,
        resource_code=spec.resource_code,
        key=str(shown_key),
        updated_at=stored,
        fields=fields,
        conflicts=conflicts,
    )


def list_conflicts(
    session: Session,
    spec: LibrarySpec,
    view: View,
    *,
    limit: int,
    before_id: int | None = None,
    key: str | None = None,
    field: str | None = None,
    resolution: str | None = None,
) -> list[ConflictPublic]:
    """The conflict log of a library, newest first; values masked per the caller's view."""
    stmt = select(LibraryConflict).where(LibraryConflict.library == spec.slug)
    if key is not None:
        stmt = stmt.where(LibraryConflict.record_key == key)
    if field is not None:
        stmt = stmt.where(LibraryConflict.field == field)
    if resolution is not None:
        stmt = stmt.where(LibraryConflict.resolution == resolution)
    if before_id is not None:
        stmt = stmt.where(LibraryConflict.id < before_id)
    rows = list(session.scalars(stmt.order_by(LibraryConflict.id.desc()).limit(limit)))
    merge_ids = {m for r in rows for m in (r.kept_merge_id, r.rejected_merge_id) if m}
    merges = {
        m.id: m for m in session.scalars(select(LibraryMerge).where(LibraryMerge.id.in_(merge_ids)))
    }
    orgs = _orgs(session, (m.provider_id for m in merges.values()))

    def who(merge_id: int | None) -> tuple[OrgRef | None, int | None]:
        merge = merges.get(merge_id or 0)
        return (orgs.get(merge.provider_id), merge.batch_id) if merge else (None, None)

    out = []
    for r in rows:
        if not view.allows(r.field):
            continue
        kept_by, kept_batch = who(r.kept_merge_id)
        rejected_by, rejected_batch = who(r.rejected_merge_id)
        record_key = (
            _shown(view, spec.key[0], r.record_key)[0] if len(spec.key) == 1 else r.record_key
        )
        out.append(
            ConflictPublic(
                id=r.id,
                library=r.library,
                record_key=str(record_key),
                field=r.field,
                kept_value=_shown(view, r.field, r.kept_value)[0],
                rejected_value=_shown(view, r.field, r.rejected_value)[0],
                kept_by=kept_by,
                rejected_by=rejected_by,
                kept_batch=kept_batch,
                rejected_batch=rejected_batch,
                resolution=r.resolution,
                at=r.at,
            )
        )
    return out
