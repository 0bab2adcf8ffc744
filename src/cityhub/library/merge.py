"""Merge a chunk of accepted rows into the library, inside the caller's transaction.

    merge_chunk(session, resource_code=..., provider_code=..., batch_id=..., frame=...,
                mode="incremental" | "full", deleted_keys=None) -> MergeResult

- A **base library** resource (or a department resource that feeds one, see `specs`):
  entity resolution into one golden record per key (ID numbers upgraded 15→18, credit
  codes upper-cased), per-field lineage and conflicts resolved by the field's authority
  (`resolve`). A null value means "unknown to this provider" and never erases.
- Any **other tabular resource**: a keyed upsert into its datastore table, keyed by the
  items declared with `target.set_key` (without one, by the fingerprint of the row).
  Delivered columns overwrite (nulls included); columns not delivered are kept.

`frame` columns are item codes (`GMSFHM`) or datastore column names (`gmsfhm`), values as
the exchange standardized them (strings are parsed to the item's type here). Duplicate
keys inside a chunk: the last row wins. A row without a valid key fails the whole chunk
(ValidationFailed) before anything is written: the exchange quarantines such rows first.

Counts: `unchanged` rows are identical to what is stored (same fingerprint); `deleted`
counts rows removed by `deleted_keys` (for a base library, only the registrar removes a
record; another provider's deletion withdraws the fields it supplied).

**Full deliveries** span chunks: call `merge_chunk(mode="full")` per chunk, then
`finish_full(...)` once after the last chunk, in the same transaction. It withdraws what
this provider supplied for keys the batch did not carry (plain resources: deletes them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from cityhub.core.db import utcnow
from cityhub.core.events import emit
from cityhub.directory.models import Organization, Region
from cityhub.errors import BadRequest, Forbidden, NotFound, ValidationFailed
from cityhub.library import datastore as ds
from cityhub.library import digest, golden, hooks, write
from cityhub.library.fingerprint import fingerprints
from cityhub.library.golden import HASH, KEY, REGION, Layout
from cityhub.library.lineage_store import record_conflicts, source_providers
from cityhub.library.models import LibraryMerge, LibrarySeenKey
from cityhub.library.resolve import LINEAGE_MOVED, FieldRule, resolve
from cityhub.library.target import Target, target_of

Mode = Literal["full", "incremental"]
MODES: tuple[str, ...] = ("full", "incremental")
NEW_HASH = "__new_hash"
TOPIC_MERGED = "library.merged"
SQLITE_CACHE_KB = 131_072  # 128 MB, per connection


@dataclass(frozen=True)
class MergeResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    merge_id: int | None = None
    digest: str = ""

    def __add__(self, other: MergeResult) -> MergeResult:
        return MergeResult(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.deleted + other.deleted,
            self.conflicts + other.conflicts,
            other.merge_id or self.merge_id,
            other.digest or self.digest,
        )


@dataclass
class _Changes:
    """What one merge writes, before it is written."""

    inserts: pl.DataFrame
    updates: pl.DataFrame
    delete_ids: list[int]
    removed: pl.DataFrame  # part, _hash of rows replaced or removed
    added: pl.DataFrame  # part, _hash of rows written
    before: pl.DataFrame  # item columns of rows as they were, where values changed
    after: pl.DataFrame  # item columns of rows as written (inserts and changes)
    unchanged: int
    conflicts: pl.DataFrame | None = None
    changed_rows: int = 0


# -- entry points --------------------------------------------------------------------------


def merge_chunk(
    session: Session,
    *,
    resource_code: str,
    provider_code: str,
    batch_id: int,
    frame: pl.DataFrame,
    mode: Mode,
    deleted_keys: pl.Series | None = None,
) -> MergeResult:
    """Merge `frame` (and remove `deleted_keys`) for one provider's batch."""
    if mode not in MODES:
        raise BadRequest(f"mode must be full or incremental, not {mode!r}")
    if not isinstance(frame, pl.DataFrame):
        raise ValidationFailed("rows must be a Polars DataFrame")
    target = target_of(session, resource_code)
    provider = _provider(session, provider_code, target)
    conn = session.connection()
    _lock(conn, target.stored_code)
    _cache(conn)
    parts = partitions_for(session, target)
    golden.ensure(conn, target.layout, parts)
    incoming = _incoming(target, frame)
    deleted = _deleted_keys(target, deleted_keys, incoming)
    merge = _merge_row(session, target, provider, batch_id, mode)
    changes = _plan(session, conn, target, provider, merge.id, incoming, deleted, parts)
    result = _apply(session, conn, target, provider, merge, changes, incoming.height)
    if mode == "full":
        _remember(conn, target, batch_id, incoming.get_column(target.layout.key_column))
    return result


def finish_full(
    session: Session, *, resource_code: str, provider_code: str, batch_id: int
) -> MergeResult:
    """After the last chunk of a full delivery: withdraw what it no longer carries."""
    target = target_of(session, resource_code)
    provider = _provider(session, provider_code, target)
    conn = session.connection()
    _lock(conn, target.stored_code)
    golden.ensure(conn, target.layout, partitions_for(session, target))
    merge = session.scalar(
        select(LibraryMerge).where(
            LibraryMerge.resource_code == resource_code, LibraryMerge.batch_id == batch_id
        )
    )
    if merge is None:  # an empty full delivery: everything it used to carry goes
        merge = _merge_row(session, target, provider, batch_id, "full")
    total = MergeResult(merge_id=merge.id)
    for stale in _unseen(conn, target, batch_id):
        changes = _withdraw(session, target, provider, merge.id, stale, registrar=False)
        total = total + _apply(session, conn, target, provider, merge, changes, 0)
    session.query(LibrarySeenKey).filter(
        LibrarySeenKey.resource_code == target.resource_code, LibrarySeenKey.batch_id == batch_id
    ).delete(synchronize_session=False)
    # The content a full delivery leaves, notarized once at its end.
    parts = digest.load(session, target.stored_code)
    return replace(total, digest=_snapshot(session, target, provider, merge, parts))


# -- preparation ---------------------------------------------------------------------------


def _provider(session: Session, code: str, target: Target) -> Organization:
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound(f"no organization with code {code!r}")
    allowed = {target.owner}
    if target.library is not None and target.feed is None:
        allowed |= set(target.library.providers)
    if org.code not in allowed:
        raise Forbidden(
            f"{org.code} does not provide resource {target.resource_code} "
            f"(provided by {', '.join(sorted(allowed))})"
        )
    return org


def _lock(conn: Connection, code: str) -> None:
    """One merge at a time per table (PostgreSQL; SQLite has a single writer anyway)."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(
            hashlib.sha1(f"library:{code}".encode()).digest()[:8], "big", signed=True
        )
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _cache(conn: Connection) -> None:
    """SQLite: a page cache that holds a large table's key index (the default 2 MB makes
    every insert of a random ID number read and write index pages again)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")


def partitions_for(session: Session, target: Target) -> list[str]:
    """County codes of the registrar's city: one PostgreSQL partition each."""
    if not target.layout.partitioned or target.library is None:
        return []
    city = session.scalar(
        select(Organization.region_code).where(Organization.code == target.library.registrar)
    )
    if not city:
        return []
    prefix = city[:4] + "00"
    return sorted(session.scalars(select(Region.code).where(Region.parent_code == prefix)))


def _incoming(target: Target, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns renamed to the datastore's, values cast, keys canonical, duplicates folded."""
    layout = target.layout
    rename: dict[str, str] = {}
    unknown = []
    for name in frame.columns:
        col = name if name in target.columns else ds.column_name(name)
        if col not in target.columns:
            unknown.append(name)
        elif col in rename.values():
            raise ValidationFailed(f"column {name!r} is delivered twice")
        else:
            rename[name] = col
    if unknown:
        raise ValidationFailed(
            f"unknown column(s) {', '.join(unknown)} for resource {target.resource_code}; "
            f"it takes: {', '.join(_item_names(target))}"
        )
    df = frame.rename(rename)
    if frame.height == 0:  # nothing delivered (a chunk of deletions only)
        empty = {c.name: ds.polars_dtype(c.kind) for c in layout.spec.columns}
        df = pl.DataFrame(schema=empty)
        return df.with_columns(pl.lit(None, pl.String).alias(KEY)) if layout.composite else df
    if missing := [k for k in layout.key_columns if k not in df.columns]:
        raise ValidationFailed(
            f"the key column(s) {', '.join(missing)} of resource {target.resource_code} are missing"
        )
    delivered = tuple(c for c in layout.spec.columns if c.name in df.columns)
    df = ds.prepare(ds.TableSpec(layout.spec.resource_code, delivered), df).drop(ds.UPDATED_AT)
    if target.library is not None and target.library.normalize_key is not None:
        key = layout.key_columns[0]
        df = df.with_columns(target.library.normalize_key(df.get_column(key)).alias(key))
    if not layout.key_columns:  # keyless: whole rows, identified by their fingerprint
        absent = [
            pl.lit(None, ds.polars_dtype(c.kind)).alias(c.name)
            for c in layout.spec.columns
            if c.name not in df.columns
        ]
        df = df.with_columns(absent).select([c.name for c in layout.spec.columns])
        df = df.with_columns(_hex(fingerprints(df, layout.spec.columns)).alias(KEY))
    else:
        _require_keys(target, df)
        if layout.composite:
            df = df.with_columns(golden.key_expr(layout).alias(KEY))
    return df.unique(subset=[layout.key_column], keep="last", maintain_order=True)


def _hex(hashes: pl.Series) -> pl.Series:
    """A row fingerprint as a key (keyless resources)."""
    return hashes.reinterpret(signed=False).cast(pl.String)


def _item_names(target: Target) -> list[str]:
    if target.library is not None:
        return [f.code for f in target.library.fields if f.column in target.columns]
    return [c.label or c.name for c in target.layout.spec.columns]


def _require_keys(target: Target, df: pl.DataFrame) -> None:
    layout = target.layout
    missing = df.select(pl.any_horizontal([pl.col(k).is_null() for k in layout.key_columns]))
    bad = missing.to_series()
    count = int(bad.sum())
    if not count:
        return
    first = int(bad.arg_max() or 0)
    names = ", ".join(
        next((f.code for f in target.library.fields if f.column == k), k) if target.library else k
        for k in layout.key_columns
    )
    raise ValidationFailed(
        f"{count} of {df.height} rows have a missing or invalid key ({names}); the first is "
        f"row {first + 1} of the chunk"
    )


def _deleted_keys(target: Target, keys: pl.Series | None, incoming: pl.DataFrame) -> pl.Series:
    layout = target.layout
    if keys is None or keys.len() == 0:
        return pl.Series(layout.key_column, [], dtype=pl.String)
    if not layout.key_columns:
        raise ValidationFailed(
            f"resource {target.resource_code} has no declared key: deletions need one"
        )
    keys = keys.cast(pl.String).alias(layout.key_column)
    if target.library is not None and target.library.normalize_key is not None:
        normalized = target.library.normalize_key(keys)
        if int(normalized.is_null().sum()) > int(keys.is_null().sum()):
            raise ValidationFailed("deleted_keys holds keys that are not valid")
        keys = normalized
    keys = keys.drop_nulls().unique()
    both = keys.is_in(incoming.get_column(layout.key_column).implode())
    if bool(both.any()):
        raise ValidationFailed(
            f"key {keys.filter(both)[0]} is both delivered and deleted in the same chunk"
        )
    return keys


def _merge_row(
    session: Session, target: Target, provider: Organization, batch_id: int, mode: str
) -> LibraryMerge:
    merge = session.scalar(
        select(LibraryMerge).where(
            LibraryMerge.resource_code == target.resource_code, LibraryMerge.batch_id == batch_id
        )
    )
    if merge is None:
        merge = LibraryMerge(
            resource_code=target.resource_code,
            library=target.library.slug if target.library else "",
            batch_id=batch_id,
            provider_id=provider.id,
            mode=mode,
            rows_in=0,
            inserted=0,
            updated=0,
            unchanged=0,
            deleted=0,
            conflicts=0,
        )
        session.add(merge)
        session.flush()
    elif merge.provider_id != provider.id:
        raise Forbidden(f"batch {batch_id} of {target.resource_code} came from another provider")
    return merge


# -- planning ------------------------------------------------------------------------------


def _plan(
    session: Session,
    conn: Connection,
    target: Target,
    provider: Organization,
    merge_id: int,
    incoming: pl.DataFrame,
    deleted: pl.Series,
    parts: list[str],
) -> _Changes:
    layout = target.layout
    keys = pl.concat([incoming.get_column(layout.key_column), deleted])
    stored = golden.fetch(conn, layout, keys)
    if target.library is not None:
        changes = _plan_library(session, target, parts, provider, merge_id, incoming, stored)
        if deleted.len():  # withdrawn rows rewrite every field: the updates go together
            changes = replace(changes, updates=_full_updates(layout, changes, stored))
    else:
        changes = _plan_plain(layout, incoming, stored)
        if deleted.len():
            changes = replace(changes, updates=_full_updates(layout, changes, stored))
    if deleted.len():
        gone = stored.filter(pl.col(layout.key_column).is_in(deleted.implode()))
        registrar = target.library is None or provider.code == target.library.registrar
        more = _withdraw(session, target, provider, merge_id, gone, registrar=registrar)
        changes = _combine(changes, more)
    return changes


def _stamp() -> pl.Expr:
    return pl.lit(utcnow(), dtype=pl.Datetime("us", "UTC")).alias(ds.UPDATED_AT)


def _split(
    layout: Layout,
    rows: pl.DataFrame,
    stored: pl.DataFrame,
    moved: pl.Expr | None,
    delivered: set[str] | None = None,
) -> _Changes:
    """Classify resolved rows (stored `_row_id`, `_hash`; new values) into writes.

    `delivered`: the columns the merge may have changed (the others carry the stored
    values through `resolve`); updates rewrite only those, not the whole row."""
    rows = rows.with_columns(fingerprints(rows, layout.spec.columns).alias(NEW_HASH))
    is_new = pl.col(ds.ROW_ID).is_null()
    changed = ~is_new & pl.col(NEW_HASH).ne_missing(pl.col(HASH))
    touched = changed | (moved if moved is not None else pl.lit(False))
    flags = rows.select(is_new.alias("n"), changed.alias("c"), (~is_new & touched).alias("t"))
    new_rows = rows.filter(flags.get_column("n"))
    upd_rows = rows.filter(flags.get_column("t"))
    changed_rows = rows.filter(flags.get_column("c"))
    extra = [c for c in (KEY, REGION) if c in stored.columns or c in rows.columns]
    srcs = [layout.src(c.name) for c in layout.value_columns] if layout.lineage else []
    item_cols = [c.name for c in layout.spec.columns]
    stamp = _stamp()
    inserts = new_rows.select(
        *item_cols, *[c for c in extra if c in new_rows.columns], *srcs,
        pl.col(NEW_HASH).alias(HASH), stamp,
    )  # fmt: skip
    value_cols = [c.name for c in layout.value_columns]
    if delivered is not None:
        value_cols = [c for c in value_cols if c in delivered]
        srcs = [layout.src(c) for c in value_cols] if layout.lineage else []
    updates = upd_rows.select(
        ds.ROW_ID, *([REGION] if layout.partitioned else []), *value_cols, *srcs,
        pl.col(NEW_HASH).alias(HASH), stamp,
    )  # fmt: skip
    old = stored.filter(pl.col(ds.ROW_ID).is_in(changed_rows.get_column(ds.ROW_ID).implode()))
    return _Changes(
        inserts=inserts,
        updates=updates,
        delete_ids=[],
        removed=digest.part_frame(layout, old),
        added=digest.part_frame(
            layout,
            pl.concat(
                [
                    inserts.select(HASH, *([REGION] if layout.partitioned else [])),
                    changed_rows.select(
                        pl.col(NEW_HASH).alias(HASH), *([REGION] if layout.partitioned else [])
                    ),
                ]
            ),
        ),
        before=old.select(item_cols),
        after=pl.concat([new_rows.select(item_cols), changed_rows.select(item_cols)]),
        unchanged=rows.height - new_rows.height - changed_rows.height,
        changed_rows=changed_rows.height,
    )


def _plan_library(
    session: Session,
    target: Target,
    parts: list[str],
    provider: Organization,
    merge_id: int,
    incoming: pl.DataFrame,
    stored: pl.DataFrame,
) -> _Changes:
    layout, lib = target.layout, target.library
    assert lib is not None
    providers = source_providers(session, stored, layout)
    providers[merge_id] = provider.id
    authorities = _org_ids(session, {f.authority for f in lib.value_fields if f.authority})
    rules = {
        f.column: FieldRule(f.column, f.code, authorities.get(f.authority))
        for f in lib.value_fields
    }
    res = resolve(
        layout, incoming, stored, rules,
        provider_id=provider.id, merge_id=merge_id, source_providers=providers,
    )  # fmt: skip
    rows = res.rows
    if layout.partitioned:
        rows = rows.join(
            stored.select(layout.key_column, REGION), on=layout.key_column, how="left"
        ).with_columns(pl.coalesce(pl.col(REGION), golden.region_expr(layout, parts)).alias(REGION))
    changes = _split(layout, rows, stored, pl.col(LINEAGE_MOVED), set(incoming.columns))
    changes.conflicts = res.conflicts
    return changes


def _full_updates(layout: Layout, changes: _Changes, stored: pl.DataFrame) -> pl.DataFrame:
    """Updates of some columns widened to every column (the others as stored), so that
    they stack with updates that rewrite whole rows."""
    updates = changes.updates
    if updates.height == 0:
        return updates
    names = [c.name for c in layout.value_columns]
    names += [layout.src(c) for c in names] if layout.lineage else []
    missing = [n for n in names if n not in updates.columns]
    if not missing:
        return updates
    kept = stored.select(ds.ROW_ID, *missing)
    widened = updates.join(kept, on=ds.ROW_ID, how="left", maintain_order="left")
    order = [ds.ROW_ID, *([REGION] if layout.partitioned else []), *names, HASH, ds.UPDATED_AT]
    return widened.select(order)


def _plan_plain(layout: Layout, incoming: pl.DataFrame, stored: pl.DataFrame) -> _Changes:
    key = layout.key_column
    kept = [c.name for c in layout.spec.columns if c.name not in incoming.columns]
    rows = incoming.join(
        stored.select(key, ds.ROW_ID, HASH, *kept), on=key, how="left", maintain_order="left"
    )
    return _split(layout, rows, stored, None, set(incoming.columns))


def _org_ids(session: Session, codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = session.execute(
        select(Organization.code, Organization.id).where(Organization.code.in_(codes))
    )
    return {code: org_id for code, org_id in rows}


def _withdraw(
    session: Session,
    target: Target,
    provider: Organization,
    merge_id: int,
    stored: pl.DataFrame,
    *,
    registrar: bool,
) -> _Changes:
    """Remove `stored` rows (a registrar's or a plain resource's deletion), or clear the
    fields `provider` supplied to them, removing records left with no source at all."""
    layout = target.layout
    empty = _Changes(
        inserts=pl.DataFrame(),
        updates=pl.DataFrame(),
        delete_ids=[],
        removed=digest.part_frame(layout, stored.clear()),
        added=digest.part_frame(layout, stored.clear()),
        before=_items_of(layout, stored.clear()),
        after=_items_of(layout, stored.clear()),
        unchanged=0,
    )
    if stored.height == 0:
        return empty
    if registrar or not layout.lineage:
        return replace(
            empty,
            delete_ids=stored.get_column(ds.ROW_ID).to_list(),
            removed=digest.part_frame(layout, stored),
            before=_items_of(layout, stored),
        )
    providers = source_providers(session, stored, layout)
    mine = [m for m, p in providers.items() if p == provider.id]
    exprs = []
    for col in layout.value_columns:
        src = layout.src(col.name)
        ours = pl.col(src).is_in(mine)
        exprs += [
            pl.when(ours).then(None).otherwise(pl.col(col.name)).alias(col.name),
            pl.when(ours).then(None).otherwise(pl.col(src)).alias(src),
        ]
    rows = stored.with_columns(exprs)
    srcs = [layout.src(c.name) for c in layout.value_columns]
    orphan = rows.select(pl.all_horizontal([pl.col(s).is_null() for s in srcs])).to_series()
    gone = stored.filter(orphan)
    changes = _split(layout, rows.filter(~orphan), stored, None)
    changes.delete_ids = gone.get_column(ds.ROW_ID).to_list()
    changes.removed = pl.concat([changes.removed, digest.part_frame(layout, gone)])
    changes.before = pl.concat([changes.before, _items_of(layout, gone)])
    changes.unchanged = 0
    return changes


def keys_of(layout: Layout, items: pl.DataFrame) -> pl.Series:
    """Canonical keys of rows given by their item columns (keyless: their fingerprint)."""
    if not layout.key_columns:
        return _hex(fingerprints(items, layout.spec.columns)).alias(layout.key_column)
    parts = [pl.col(c).cast(pl.String) for c in layout.key_columns]
    expr = parts[0] if len(parts) == 1 else pl.concat_str(parts, separator=golden.KEY_SEPARATOR)
    return items.select(expr.alias(layout.key_column)).to_series()


def _items_of(layout: Layout, frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([c.name for c in layout.spec.columns])


def _combine(a: _Changes, b: _Changes) -> _Changes:
    def cat(x: pl.DataFrame, y: pl.DataFrame) -> pl.DataFrame:
        if x.height == 0:
            return y
        if y.height == 0:
            return x
        return pl.concat([x, y], how="vertical_relaxed")

    return _Changes(
        inserts=cat(a.inserts, b.inserts),
        updates=cat(a.updates, b.updates),
        delete_ids=a.delete_ids + b.delete_ids,
        removed=cat(a.removed, b.removed),
        added=cat(a.added, b.added),
        before=cat(a.before, b.before),
        after=cat(a.after, b.after),
        unchanged=a.unchanged + b.unchanged,
        conflicts=a.conflicts,
        changed_rows=a.changed_rows + b.changed_rows,
    )


# -- applying ------------------------------------------------------------------------------


def _apply(
    session: Session,
    conn: Connection,
    target: Target,
    provider: Organization,
    merge: LibraryMerge,
    changes: _Changes,
    rows_in: int,
) -> MergeResult:
    layout = target.layout
    write.insert(conn, layout, changes.inserts)
    write.update(conn, layout, changes.updates)
    write.delete(conn, layout, changes.delete_ids)
    conflicts = 0
    if changes.conflicts is not None and changes.conflicts.height:
        lib = target.library.slug if target.library else ""
        conflicts = record_conflicts(conn, lib, merge.id, changes.conflicts)
    parts = digest.apply(session, target.stored_code, changes.removed, changes.added)
    result = MergeResult(
        inserted=changes.inserts.height,
        updated=changes.changed_rows,
        unchanged=changes.unchanged,
        deleted=len(changes.delete_ids),
        conflicts=conflicts,
        merge_id=merge.id,
    )
    merge.rows_in += rows_in
    merge.inserted += result.inserted
    merge.updated += result.updated
    merge.unchanged += result.unchanged
    merge.deleted += result.deleted
    merge.conflicts += result.conflicts
    merge.finished_at = utcnow()
    if changes.before.height or changes.after.height:
        from cityhub.library import derive  # noqa: F401  (registers its listener)

        hooks.merged(session, target.stored_code, changes.before, changes.after)
    changed = result.inserted + result.updated + result.deleted + result.conflicts
    if not changed:  # nothing to notarize or to rebuild: the digest is the one on record
        return replace(result, digest=digest.digest_of(target.stored_code, parts))
    value = _snapshot(session, target, provider, merge, parts)
    emit(
        session,
        TOPIC_MERGED,
        {
            "resource": target.resource_code,
            "stored": target.stored_code,
            "library": target.library.slug if target.library else "",
            "batch": merge.batch_id,
            "provider": provider.code,
            "merge": merge.id,
            "inserted": result.inserted,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deleted": result.deleted,
            "conflicts": result.conflicts,
        },
    )
    session.flush()
    return replace(result, digest=value)


def _snapshot(
    session: Session,
    target: Target,
    provider: Organization,
    merge: LibraryMerge,
    parts: dict[str, digest.PartState],
) -> str:
    return digest.snapshot(
        session,
        target.stored_code,
        parts,
        library=target.library.slug if target.library else "",
        batch_id=merge.batch_id,
        provider=provider.code,
    )


def _remember(conn: Connection, target: Target, batch_id: int, keys: pl.Series) -> None:
    """Keys a full delivery carried (idempotent across chunks)."""
    frame = pl.DataFrame(
        {"resource_code": target.resource_code, "batch_id": batch_id, "key": keys.cast(pl.String)},
        schema={"resource_code": pl.String, "batch_id": pl.Int64, "key": pl.String},
    )
    write.insert_ignore(conn, LibrarySeenKey.__tablename__, frame)


def _unseen(conn: Connection, target: Target, batch_id: int) -> Any:
    """Stored rows a full delivery did not carry, in chunks (see `golden.iterate`)."""
    return golden.iterate_unseen(conn, target.layout, target.resource_code, batch_id)
